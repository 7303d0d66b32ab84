"""The webchat channel: visitors of a customer's website, through the embedded widget."""

from __future__ import annotations

from typing import Any

from app.documents import Contact, Message, Ticket
from app.documents.message import Author, Direction, Kind
from app.domain.errors import NotFound
from app.domain.tickets import Channel, Status
from app.outbox import EventRelay
from app.services.ids import require_id
from app.services.messages import NewMessage, add_message, find_duplicate
from app.services.tickets import open_ticket
from channels.adapter import Inbound, Received
from realtime.envelope import Actor

SUBJECT_LENGTH = 80


def subject_from(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= SUBJECT_LENGTH else line[: SUBJECT_LENGTH - 1] + "…"


async def current_conversation(contact: Contact) -> Ticket | None:
    """The visitor's latest webchat ticket that is not closed: a resolved one reopens."""
    query: dict[str, Any] = {
        "workspace_id": contact.workspace_id,
        "contact_id": contact.id,
        "channel": Channel.WEBCHAT.value,
        "status": {"$ne": Status.CLOSED.value},
    }
    raw = await Ticket.get_pymongo_collection().find(query).sort("_id", -1).limit(1).to_list()
    return Ticket.model_validate(raw[0]) if raw else None


class WebchatAdapter:
    name = "webchat"

    def __init__(self, relay: EventRelay) -> None:
        self.relay = relay

    async def receive(self, inbound: Inbound) -> Received:
        ws = require_id(inbound.workspace_id, "workspace")
        contact = await Contact.find_one(
            Contact.id == require_id(inbound.contact_id, "contact"), Contact.workspace_id == ws
        )
        if contact is None:
            raise NotFound("no such visitor")
        author = Author(kind="contact", id=str(contact.id), name=contact.name)
        new = NewMessage(
            text=inbound.text,
            direction=Direction.IN,
            kind=Kind.MESSAGE,
            author=author,
            client_id=inbound.client_id,
        )
        duplicate = await find_duplicate(ws, new)
        if duplicate is not None:
            ticket = await Ticket.get(duplicate.ticket_id)
            assert ticket is not None
            return Received(contact, ticket, duplicate, created=False)
        # One lock per visitor: two first messages at once start one conversation, not two.
        async with self.relay.locks.hold(f"conversation:{contact.id}"):
            ticket = await current_conversation(contact)
            if ticket is None:
                actor = Actor(kind="contact", id=str(contact.id), name=contact.name)
                ticket = await open_ticket(
                    self.relay,
                    workspace_id=ws,
                    subject=subject_from(inbound.text),
                    channel=Channel.WEBCHAT,
                    actor=actor,
                    contact_id=contact.id,
                )
            message, ticket, created = await add_message(self.relay, ticket, new)
        return Received(contact, ticket, message, created)

    async def deliver(self, ticket: Ticket, message: Message) -> None:
        """Replies reach the visitor over their socket as `message.created` events; there is
        no provider to call."""
