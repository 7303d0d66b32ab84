"""Typing, viewing and presence frames of one connection, turned into broker signals and
entries of the app's presence store, and withdrawn when the connection goes.

Every signal carries `expires_in` (seconds): a client drops it on its own when no refresh
comes, so a crashed tab never leaves "Ada is typing" behind.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

from realtime.access import Authorizer, PresenceSink
from realtime.broker import Broker
from realtime.events import Signal, SignalData, SignalType
from realtime.frames import Error, Presence, PresenceState, Typing, Viewing

if TYPE_CHECKING:
    from realtime.session import Limits


ALL_SIGNALS: frozenset[SignalType] = frozenset({"typing", "viewing", "presence"})


class SignalSender:
    """An authorizer may name the signal kinds its principal may send in `sends` (a widget
    visitor only types: their "online" or "viewing" would tell agents about agents); without
    it, every kind. It may also name, in `records`, the kinds kept in the presence sink, which
    answers the agents' "who is online / viewing / replying" over HTTP (a visitor's typing is
    pushed to the agents live, but is no agent replying); without it, every kind."""

    def __init__(
        self,
        broker: Broker,
        auth: Authorizer,
        presence: PresenceSink | None,
        conn_id: str,
        limits: Limits,
        clock: Callable[[], float],
    ) -> None:
        self._broker = broker
        self._auth = auth
        self._presence = presence
        self._conn_id = conn_id
        self._limits = limits
        self._clock = clock
        self._allowed: dict[str, float] = {}  # ticket id -> permission checked until
        self._typing: set[str] = set()
        self._viewing: set[str] = set()
        self._announced = False
        self._records: frozenset[SignalType] = getattr(auth, "records", ALL_SIGNALS)

    async def handle(self, frame: Typing | Viewing | Presence) -> Error | None:
        kind_sent: SignalType = (
            "presence"
            if isinstance(frame, Presence)
            else "typing"
            if isinstance(frame, Typing)
            else "viewing"
        )
        if kind_sent not in getattr(self._auth, "sends", ALL_SIGNALS):
            return Error("forbidden", f"this connection may not send {kind_sent}")
        if isinstance(frame, Presence):
            await self._send_presence(frame.state)
            return None
        denied = await self._may_touch(frame.ticket)
        if denied is not None:
            return Error(denied, f"cannot use ticket {frame.ticket!r}")
        kind: SignalType = "typing" if isinstance(frame, Typing) else "viewing"
        await self._send_ticket(kind, frame.ticket, frame.on)
        return None

    async def withdraw(self) -> None:
        for ticket in list(self._typing):
            await self._send_ticket("typing", ticket, False)
        for ticket in list(self._viewing):
            await self._send_ticket("viewing", ticket, False)
        if self._announced:
            self._announced = False
            await self._broker.signal(self._signal("presence", None, state="offline"))
            if self._presence is not None:
                ws, user = self._auth.workspace_id, self._auth.user_id
                await self._presence.disconnect(ws, user, self._conn_id)

    async def _may_touch(self, ticket: str) -> str | None:
        # Typing frames come every few seconds; asking the app (maybe the database) each time
        # would cost more than the signal. A revoked permission is honoured within the TTL.
        now = self._clock()
        if self._allowed.get(ticket, -1.0) > now:
            return None
        denied = await self._auth.can_subscribe(f"ticket:{ticket}")
        if denied is None:
            if len(self._allowed) >= 256:
                self._allowed.clear()
            self._allowed[ticket] = now + self._limits.permission_ttl
        return denied

    async def _send_ticket(self, kind: SignalType, ticket: str, on: bool) -> None:
        active = self._typing if kind == "typing" else self._viewing
        ttl = self._limits.typing_ttl if kind == "typing" else self._limits.viewing_ttl
        if on:
            active.add(ticket)
        else:
            active.discard(ticket)
        await self._broker.signal(self._signal(kind, ticket, on=on, expires_in=ttl))
        if self._presence is not None and kind in self._records:
            ws, user = self._auth.workspace_id, self._auth.user_id
            store = self._presence.set_typing if kind == "typing" else self._presence.set_viewing
            await store(ws, ticket, user, on, ttl)

    async def _send_presence(self, state: PresenceState) -> None:
        ttl = self._limits.presence_ttl
        self._announced = True
        await self._broker.signal(self._signal("presence", None, state=state, expires_in=ttl))
        if self._presence is not None and "presence" in self._records:
            ws, user = self._auth.workspace_id, self._auth.user_id
            await self._presence.set_presence(ws, user, self._conn_id, state, ttl)

    def _signal(
        self,
        kind: SignalType,
        ticket: str | None,
        *,
        on: bool | None = None,
        state: Literal["online", "away", "offline"] | None = None,
        expires_in: float | None = None,
    ) -> Signal:
        data = SignalData(
            user=self._auth.user_id,
            name=self._auth.display_name,
            conn=self._conn_id,
            on=on,
            state=state,
            expires_in=expires_in,
        )
        return Signal(ws=self._auth.workspace_id, type=kind, data=data, ticket=ticket)
