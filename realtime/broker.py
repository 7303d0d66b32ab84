"""What every broker offers: ordered publish with a replay log, and live delivery.

Implementations: `RedisBroker` (production and multi-process; realtime/redis_broker.py) and
`MemoryBroker` (single-process dev mode; realtime/memory_broker.py). Both pass the same
contract tests (tests/realtime/test_broker_contract.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

import msgspec

from realtime.events import Event, Signal

EventHandler = Callable[[Event], Awaitable[None]]
SignalHandler = Callable[[Signal], Awaitable[None]]


class Replay(msgspec.Struct, frozen=True):
    """The answer to "what happened after `since`": the events in order, or `complete=False`
    (and no events) when some of them have already left the bounded log, or when there are
    more than the reader's `limit` of them: either way the client must resync."""

    events: list[Event]
    complete: bool
    last_seq: int


class Reconnect(msgspec.Struct, frozen=True):
    """Told to reconnect handlers once a broker's live feed is back and caught up."""

    recovered: frozenset[str]  # every missed event of these was re-read and delivered
    lost: frozenset[str]  # missed events already trimmed from the log (or the log was reset)


ReconnectHandler = Callable[[Reconnect], Awaitable[None]]


class Broker(Protocol):
    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def publish(self, event: Event) -> Event | None:
        """Assign the next seq of `event.ws`, append to the replay log and fan out, atomically.

        Returns the event with its seq, or None when an event with the same non-empty `id`
        was already published (an outbox retry): each event reaches clients once."""
        ...

    async def replay(self, ws: str, since: int, limit: int) -> Replay:
        """The events of `ws` after `since`, reading at most `limit` of them: when more than
        `limit` follow `since`, the replay is incomplete, as if the log had lost them."""
        ...

    async def last_seq(self, ws: str) -> int: ...

    async def published(self, ws: str, ids: list[str]) -> bool:
        """Whether every one of these event ids of `ws` was published (and is remembered as
        such, the same time a republished id is dropped for)."""
        ...

    async def signal(self, signal: Signal) -> None:
        """Fan out an ephemeral signal to every process; not logged."""
        ...

    def on_event(self, handler: EventHandler) -> None:
        """Register the process-wide handler for every published event, any workspace."""
        ...

    def on_signal(self, handler: SignalHandler) -> None: ...

    def on_reconnect(self, handler: ReconnectHandler) -> None:
        """Register a handler told after the live feed was interrupted and is back: sockets
        of a workspace not in `Reconnect.recovered` may have missed events and must catch up.
        A broker whose feed cannot be interrupted never calls it."""
        ...
