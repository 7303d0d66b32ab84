"""A customer's message from any channel: find the conversation, store the message once.

A resend (same provider or client id) finds the first copy and changes nothing. Otherwise the
customer's open conversation on that channel takes the message — a pending, snoozed or
resolved one reopens — or a new ticket starts: `ticket.created`, then `message.created`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.actions.base import Deps
from app.actions.messages import NewMessage, find_duplicate, post_message
from app.actions.tickets import open_ticket
from app.documents import Contact, Message, Ticket
from app.documents.message import Author, Direction, Kind
from app.domain.errors import NotFound
from app.services.ids import require_id
from app.services.tickets import HIDDEN, read_ticket
from channels.adapter import Inbound
from realtime.events import Actor, Channel, Status


@dataclass(frozen=True)
class Received:
    contact: Contact
    ticket: Ticket
    message: Message
    created: bool  # False when this was a resend of a message already stored


async def current_conversation(contact: Contact, channel: Channel) -> Ticket | None:
    """The contact's latest ticket on `channel` that is not closed."""
    query: dict[str, Any] = {
        "workspace_id": contact.workspace_id,
        "contact_id": contact.id,
        "channel": channel.value,
        "status": {"$ne": Status.CLOSED.value},
    }
    raw = (
        await Ticket.get_pymongo_collection().find(query, HIDDEN).sort("_id", -1).limit(1).to_list()
    )
    return Ticket.model_validate(raw[0]) if raw else None


async def receive(deps: Deps, channel: Channel, inbound: Inbound) -> Received:
    ws = require_id(inbound.workspace_id, "workspace")
    contact = await Contact.find_one(
        Contact.id == require_id(inbound.contact_id, "contact"), Contact.workspace_id == ws
    )
    if contact is None:
        raise NotFound("no such contact")
    author = Author(kind="contact", id=str(contact.id), name=contact.name)
    new = NewMessage(
        text=inbound.text,
        direction=Direction.IN,
        kind=Kind.MESSAGE,
        author=author,
        client_id=inbound.client_id,
        provider_message_id=inbound.provider_message_id,
    )
    # Checked before choosing a conversation: a resend must not start a new one.
    duplicate = await find_duplicate(ws, new)
    if duplicate is not None:
        return Received(contact, await read_ticket(ws, duplicate.ticket_id), duplicate, False)
    # One lock per contact: two first messages at once start one conversation, not two.
    async with deps.relay.locks.hold(f"conversation:{contact.id}"):
        ticket = await current_conversation(contact, channel)
        if ticket is None:
            ticket = await open_ticket(
                deps,
                workspace_id=ws,
                subject=inbound.subject or inbound.text,
                channel=channel,
                actor=Actor(kind="contact", id=str(contact.id), name=contact.name),
                contact_id=contact.id,
            )
        assert ticket.id is not None
        posted = await post_message(deps, ws, ticket.id, new)
    return Received(contact, posted.ticket, posted.message, posted.created)
