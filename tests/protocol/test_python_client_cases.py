"""The shared protocol cases against the Python client: `ClientState` is fed each frame as raw
JSON, as `TandemClient` feeds it, its replies are what would go out on the socket, and the app's
consistent start is done the way `TandemClient.consistent_start` does it (hold the stream,
fetch, release it at the fetch's seq)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import deque
from collections.abc import Callable
from typing import Any

import msgspec
import pytest

from realtime.client_state import ClientState
from realtime.frames import ClientFrame
from tests.protocol import case_ids, load_cases

TEMPLATE, CASES = load_cases()
# Enough loop turns for the consumer to drain the stream and for a refetch's answer to reach
# `release`: each takes one or two, and nothing here waits on a timer.
SETTLE_TURNS = 10


def wire(frame: ClientFrame) -> dict[str, Any]:
    """What the cases compare of a client frame: its type and `since`."""
    sent: dict[str, Any] = msgspec.to_builtins(frame)
    return {key: sent[key] for key in ("type", "since") if sent.get(key) is not None}


class Run:
    def __init__(self, last: int | None) -> None:
        self.applied: list[int] = []
        self.sent: list[dict[str, Any]] = []
        self.refetches = 0
        # Outstanding HTTP fetches, oldest first: a `fetched` step answers the first.
        self.fetches: deque[Callable[[int | None], None]] = deque()
        self.state = ClientState(last, self.refetch)
        self.consumer = asyncio.create_task(self.consume())

    async def refetch(self) -> int | None:
        self.refetches += 1
        answer: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        self.fetches.append(answer.set_result)
        return await answer

    async def consume(self) -> None:
        while True:
            self.applied.append((await self.state.stream.next()).seq)

    def fetch(self) -> None:
        stream = self.state.stream
        stream.hold()
        self.fetches.append(lambda seq: stream.release(seq or 0))

    async def step(self, step: dict[str, Any]) -> None:
        (kind, value), *others = step.items()
        assert not others, f"one action per step: {step}"
        if kind == "connect":
            self.sent.append(wire(self.state.hello()))
        elif kind == "drop":
            self.state.dropped()
        elif kind == "receive":
            frame = dict(value)
            if frame["type"] == "event":
                frame["event"] = {**TEMPLATE, **frame["event"]}
            reply, _ = self.state.receive(json.dumps(frame), 0.0)
            if reply is not None:
                self.sent.append(wire(reply))
        elif kind == "fetch":
            self.fetch()
        elif kind == "fetched":
            self.fetches.popleft()(value)
        else:
            raise ValueError(f"unknown step {kind!r}")
        for _ in range(SETTLE_TURNS):
            await asyncio.sleep(0)

    async def close(self) -> None:
        self.consumer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.consumer


@pytest.mark.parametrize("case", CASES, ids=case_ids(CASES))
async def test_the_python_client_follows_the_case(case: dict[str, Any]) -> None:
    run = Run(case["start"]["last"])
    try:
        for step in case["steps"]:
            await run.step(step)
    finally:
        await run.close()
    outcome = {
        "applied": run.applied,
        "sent": run.sent,
        "refetches": run.refetches,
        "last": run.state.stream.last_seq,
    }
    assert outcome == case["expect"]
