"""What a widget visitor's socket may subscribe to and see: its own conversations' public
messages, read receipts and agents' typing — never notes, internal changes or others."""

from __future__ import annotations

from app.documents import Ticket
from app.services.ids import require_id
from realtime.events import (
    Event,
    Signal,
    SignalType,
    VisitorEvent,
    for_visitor,
    signal_for_visitor,
)


class VisitorAccess:
    # A visitor types; their presence or "viewing" would count them among the agents.
    sends: frozenset[SignalType] = frozenset({"typing"})
    # Their typing reaches the agents live, but is not kept where the agents' collision API
    # reads who is viewing or replying: only agents are there.
    records: frozenset[SignalType] = frozenset()

    def __init__(self, workspace_id: str, contact_id: str, name: str | None) -> None:
        self.workspace_id = workspace_id
        self.user_id = contact_id
        self.display_name = name or "Visitor"
        self.credential: str | None = None  # ended with the contact (erasure), by its id
        self._tickets: set[str] = set()

    async def can_subscribe(self, topic: str) -> str | None:
        kind, _, ident = topic.partition(":")
        if kind != "ticket" or not ident:
            return "forbidden"
        try:
            oid = require_id(ident, "ticket")
        except Exception:
            return "forbidden"
        found = await Ticket.find_one(
            Ticket.id == oid,
            Ticket.workspace_id == require_id(self.workspace_id, "workspace"),
            Ticket.contact_id == require_id(self.user_id, "contact"),
        )
        if found is None:
            return "forbidden"  # another visitor's conversation looks like no conversation
        self._tickets.add(ident)
        return None

    def view(self, event: Event) -> VisitorEvent | None:
        if event.ws != self.workspace_id or event.ticket not in self._tickets:
            return None
        return for_visitor(event)  # public messages and read receipts, nothing internal

    def view_signal(self, signal: Signal) -> Signal | None:
        if (
            signal.ws != self.workspace_id
            or signal.ticket not in self._tickets
            or signal.type != "typing"
            or signal.data.user == self.user_id  # the visitor's own typing, from another tab
        ):
            return None
        return signal_for_visitor(signal)
