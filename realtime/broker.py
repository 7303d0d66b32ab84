"""What every broker offers: ordered publish with a replay log, and live delivery.

Implementations: `RedisBroker` (production and multi-process; realtime/redis_broker.py) and
`MemoryBroker` (single-process dev mode; realtime/memory_broker.py). Both pass the same
contract tests (tests/realtime/test_broker_contract.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

import msgspec

from realtime.envelope import Event

EventHandler = Callable[[Event], Awaitable[None]]
SignalHandler = Callable[["Signal"], Awaitable[None]]


class Signal(msgspec.Struct, frozen=True):
    """An ephemeral notice (typing, viewing, presence): pushed live, never replayed, no seq."""

    ws: str
    type: str  # "typing" | "viewing" | "presence"
    data: dict[str, object] = msgspec.field(default_factory=dict)
    ticket: str | None = None


class Replay(msgspec.Struct, frozen=True):
    """The answer to "what happened after `since`": the events in order, or `complete=False`
    when some of them have already left the bounded log (the client must resync)."""

    events: list[Event]
    complete: bool
    last_seq: int


class Broker(Protocol):
    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def publish(self, event: Event) -> Event | None:
        """Assign the next seq of `event.ws`, append to the replay log and fan out, atomically.

        Returns the event with its seq, or None when an event with the same non-empty `id`
        was already published (an outbox retry): each event reaches clients once."""
        ...

    async def replay(self, ws: str, since: int) -> Replay: ...

    async def last_seq(self, ws: str) -> int: ...

    async def signal(self, signal: Signal) -> None:
        """Fan out an ephemeral signal to every process; not logged."""
        ...

    def on_event(self, handler: EventHandler) -> None:
        """Register the process-wide handler for every published event, any workspace."""
        ...

    def on_signal(self, handler: SignalHandler) -> None: ...
