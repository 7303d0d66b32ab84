"""What the app supplies to a realtime session: who the principal is, what they may see, and
where presence and collision state is kept. `realtime/` never imports `app/`; the app
implements these small protocols (plain attributes satisfy the read-only properties).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Literal, Protocol

from realtime.events import Event, Signal, VisitorEvent


class Authorizer(Protocol):
    @property
    def workspace_id(self) -> str: ...

    @property
    def user_id(self) -> str: ...

    @property
    def display_name(self) -> str: ...

    @property
    def credential(self) -> str | None:
        """What the socket was opened with (a session's or a token's id), so that ending it
        closes the socket; None when nothing but the person's own end closes it."""
        ...

    async def can_subscribe(self, topic: str) -> str | None:
        """None when allowed, else the error code to answer with ("forbidden", "not_found").

        Also asked for `ticket:<id>` before the principal may send typing/viewing on it."""
        ...

    def view(self, event: Event) -> Event | VisitorEvent | None:
        """What this principal is shown of an event on a subscribed topic, or None when it is
        not for them. Called for every such event in the fan-out: it must be quick and must not
        do I/O. An agent is shown the event itself (the hub then encodes it once for all of
        them); a widget visitor only its own conversation's public messages, in the visitor's
        projection."""
        ...

    def view_signal(self, signal: Signal) -> Signal | None: ...


Authenticate = Callable[[str], Awaitable[Authorizer | None]]
"""Turns the token of a `hello` into an authorizer, or None when the token is not valid."""


class PresenceSink(Protocol):
    """Where typing/viewing/presence are recorded for clients that load the current state over
    HTTP (e.g. `PresenceStore` and `CollisionStore` of realtime/presence.py). `ttl` is the
    same `expires_in` the live signal carries, so both forget an entry at the same time."""

    async def set_presence(
        self, ws: str, user_id: str, conn_id: str, state: Literal["online", "away"], ttl: float
    ) -> None: ...

    async def set_viewing(
        self, ws: str, ticket_id: str, user_id: str, on: bool, ttl: float
    ) -> None: ...

    async def set_typing(
        self, ws: str, ticket_id: str, user_id: str, on: bool, ttl: float
    ) -> None: ...

    async def disconnect(self, ws: str, user_id: str, conn_id: str) -> None: ...
