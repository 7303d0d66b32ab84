"""Answers that only change when a workspace's event seq moves, computed once per seq.

Every open inbox refetches its counts when an event arrives, so N agents would run N
identical aggregations per change; with this, a process runs one and the rest share it.
The seq is read before the computation, so a cached answer is never older than its seq."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class SeqMemo(Generic[T]):
    def __init__(self, max_keys: int = 1000) -> None:
        self._max_keys = max_keys
        self._entries: OrderedDict[str, tuple[int, asyncio.Future[T]]] = OrderedDict()

    async def get(self, key: str, seq: int, compute: Callable[[], Awaitable[T]]) -> T:
        entry = self._entries.get(key)
        if entry is not None and entry[0] == seq and not _failed(entry[1]):
            self._entries.move_to_end(key)
            return await asyncio.shield(entry[1])
        future: asyncio.Future[T] = asyncio.ensure_future(compute())
        self._entries[key] = (seq, future)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_keys:
            self._entries.popitem(last=False)
        # Shielded: one caller giving up does not cancel the others' shared computation.
        return await asyncio.shield(future)


def _failed(future: asyncio.Future[T]) -> bool:
    return future.done() and (future.cancelled() or future.exception() is not None)
