"""A client that asks for topics on `/live` of the in-process app (served by
tests/local_server.serving_in_this_loop) and collects what is refused."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed


async def _frame(client: ClientConnection) -> dict[str, Any]:
    async with asyncio.timeout(10):
        frame: dict[str, Any] = msgspec.json.decode(await client.recv())
    return frame


async def _answer_to(client: ClientConnection, frame_id: str) -> dict[str, Any]:
    """The ack or error for the frame with this id (events in between are passed over)."""
    while True:
        frame = await _frame(client)
        if frame.get("id") == frame_id or (frame["type"] == "error" and frame.get("id") is None):
            return frame


async def refusals(
    base: str, token: str | None, topics: list[str], origin: str | None = None
) -> dict[str, str | None]:
    """Each topic: None when the socket may subscribe to it, else the error code it got."""
    url = base + "/live" + (f"?token={token}" if token else "")
    headers = {"Origin": origin} if origin else {}
    async with connect(url, additional_headers=headers) as client:
        await client.send(msgspec.json.encode({"type": "hello"}).decode())
        hello = await _frame(client)
        if hello["type"] != "ack":  # not signed in: nothing at all
            return dict.fromkeys(topics, str(hello.get("code")))
        answers: dict[str, str | None] = {}
        for n, topic in enumerate(topics):
            frame_id = f"s{n}"
            await client.send(
                msgspec.json.encode({"type": "subscribe", "topic": topic, "id": frame_id}).decode()
            )
            try:
                answer = await _answer_to(client, frame_id)
            except ConnectionClosed as closed:
                answers[topic] = f"closed {closed.rcvd.code if closed.rcvd else ''}"
                continue
            answers[topic] = None if answer["type"] == "ack" else str(answer["code"])
        return answers
