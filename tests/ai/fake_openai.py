"""A local HTTP server speaking OpenAI's streaming chat completions
(`POST …/chat/completions` with `stream: true`, answered as server-sent events), scriptable:
a normal answer with usage in its last chunk, an error status, a stream that dies mid-way,
a slow stream. It keeps what it was sent and notices a client that goes away mid-answer."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

from starlette.types import Receive, Scope, Send

from tests.local_server import serving

USAGE: dict[str, Any] = {"prompt_tokens": 120, "completion_tokens": 7, "cost": 0.0012}


@dataclass
class Reply:
    """One scripted answer. A status other than 200 answers `error` as JSON; otherwise
    `pieces` are streamed `delay` seconds apart, then `usage` (if any) and `[DONE]` — unless
    `die_after` pieces have gone out, when the connection is dropped instead."""

    status: int = 200
    pieces: list[str] = field(default_factory=lambda: ["Hello", " there", ", friend."])
    usage: dict[str, Any] | None = field(default_factory=lambda: dict(USAGE))
    error: dict[str, Any] | None = None
    delay: float = 0.0
    die_after: int | None = None


def chunk(model: str, delta: dict[str, Any], finish: str | None = None) -> bytes:
    body = {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return b"data: " + json.dumps(body).encode() + b"\n\n"


@dataclass
class FakeOpenAI:
    url: str = ""
    script: list[Reply] = field(default_factory=list)  # answered in order, then the default
    requests: list[dict[str, Any]] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)  # the Authorization header of each request
    completed: int = 0  # answers sent to their end
    # A client went away before its answer ended.
    client_gone: threading.Event = field(default_factory=threading.Event)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        if scope["method"] != "POST" or not scope["path"].endswith("/chat/completions"):
            await _json(send, 404, {"error": {"message": "not found"}})
            return
        request = json.loads(body)
        self.requests.append(request)
        headers = dict(scope["headers"])
        self.keys.append(headers.get(b"authorization", b"").decode())
        reply = self.script.pop(0) if self.script else Reply()
        if reply.status != 200:
            await _json(send, reply.status, reply.error or {"error": {"message": "scripted"}})
            return
        answering = asyncio.create_task(self._stream(send, request["model"], reply))
        watching = asyncio.create_task(_disconnect(receive))
        await asyncio.wait({answering, watching}, return_when=asyncio.FIRST_COMPLETED)
        if watching.done() and not answering.done():
            self.client_gone.set()
        for task in (answering, watching):
            task.cancel()
            with suppress(asyncio.CancelledError, OSError):
                await task

    async def _stream(self, send: Send, model: str, reply: Reply) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"text/event-stream")],
            }
        )

        async def out(data: bytes) -> None:
            await send({"type": "http.response.body", "body": data, "more_body": True})

        await out(b": OPENROUTER PROCESSING\n\n")
        await out(chunk(model, {"role": "assistant", "content": ""}))
        for n, piece in enumerate(reply.pieces):
            if reply.die_after is not None and n >= reply.die_after:
                raise ConnectionAbortedError("the scripted stream dies here")
            await out(chunk(model, {"content": piece}))
            if reply.delay:
                await asyncio.sleep(reply.delay)
        await out(chunk(model, {}, finish="stop"))
        if reply.usage is not None:
            usage = {"id": "chatcmpl-fake", "choices": [], "usage": reply.usage}
            await out(b"data: " + json.dumps(usage).encode() + b"\n\n")
        await out(b"data: [DONE]\n\n")
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        self.completed += 1


async def _json(send: Send, status: int, body: dict[str, Any]) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": json.dumps(body).encode()})


async def _disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


@contextmanager
def fake_openai() -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI()
    # "critical": a scripted dying stream is logged by uvicorn as an application error.
    with serving(fake, log_level="critical") as url:
        fake.url = f"{url}/api/v1"
        yield fake
