"""What a widget visitor's socket may subscribe to and see: its own conversations' public
messages, read receipts and agents' typing — never notes, internal changes or others."""

from __future__ import annotations

from app.documents import Ticket
from app.services.ids import require_id
from realtime.broker import Signal
from realtime.envelope import Event

VISIBLE_EVENTS = frozenset({"message.created", "message.read"})


class VisitorAccess:
    def __init__(self, workspace_id: str, contact_id: str, name: str | None) -> None:
        self.workspace_id = workspace_id
        self.user_id = contact_id
        self.display_name = name or "Visitor"
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

    def can_see(self, event: Event) -> bool:
        if event.ws != self.workspace_id or event.ticket not in self._tickets:
            return False
        if event.type not in VISIBLE_EVENTS:
            return False
        message = event.data.get("message")
        return not isinstance(message, dict) or message.get("kind") == "message"

    def can_see_signal(self, signal: Signal) -> bool:
        return (
            signal.ws == self.workspace_id
            and signal.ticket in self._tickets
            and signal.type == "typing"
            and signal.data.get("user_id") != self.user_id
        )
