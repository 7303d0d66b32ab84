"""Adding a message to a ticket: stored once, even when the same message is sent again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec
from beanie import PydanticObjectId
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from app.documents import Message, Ticket, User
from app.documents.common import utcnow
from app.documents.message import Author, DeliveryStatus, Direction, Kind
from app.domain.tickets import Channel, Status
from app.outbox import EventRelay, lock_name, outbox_entry
from app.schemas.tickets import message_out, ticket_out
from app.services.text import mention_handles, text_to_html
from realtime.envelope import Actor

# Replies on these reach the customer directly (API caller, widget socket): no provider.
LIVE_CHANNELS = frozenset({Channel.API, Channel.WEBCHAT})


@dataclass(frozen=True)
class NewMessage:
    text: str
    direction: Direction
    kind: Kind
    author: Author
    client_id: str | None = None
    provider_message_id: str | None = None


def dedupe_key(workspace_id: object, new: NewMessage) -> str | None:
    """Provider ids are unique per workspace; client ids are unique per author (a visitor's
    or an agent's browser makes them), so a resend finds the first copy even if it would now
    land on another ticket."""
    if new.provider_message_id:
        return f"{workspace_id}:p:{new.provider_message_id}"
    if new.client_id:
        return f"{workspace_id}:c:{new.author.id}:{new.client_id}"
    return None


async def find_duplicate(workspace_id: object, new: NewMessage) -> Message | None:
    key = dedupe_key(workspace_id, new)
    return await Message.find_one(Message.dedupe_key == key) if key else None


async def _mentions(ticket: Ticket, text: str) -> list[str]:
    """User ids of agents named in a note as @handle: the part of their email before the @,
    their first name, or their whole name without spaces."""
    handles = set(mention_handles(text))
    if not handles:
        return []
    users = await User.find(User.workspace_id == ticket.workspace_id, User.active == True).to_list()  # noqa: E712
    return [
        str(u.id)
        for u in users
        if handles
        & {
            u.email.split("@")[0].lower(),
            u.name.replace(" ", "").lower(),
            u.name.split()[0].lower() if u.name.split() else "",
        }
    ]


async def add_message(
    relay: EventRelay, ticket: Ticket, new: NewMessage
) -> tuple[Message, Ticket, bool]:
    """Store `new` and advance the ticket's times; returns (message, ticket, created)."""
    key = dedupe_key(ticket.workspace_id, new)
    if key:
        existing = await Message.find_one(Message.dedupe_key == key)
        if existing is not None:
            return existing, ticket, False
    now = utcnow()
    ws = str(ticket.workspace_id)
    actor = Actor(kind=new.author.kind, id=new.author.id, name=new.author.name)
    outbound = new.direction is Direction.OUT and new.kind is Kind.MESSAGE
    assert ticket.id is not None
    message = Message(
        id=PydanticObjectId(),
        workspace_id=ticket.workspace_id,
        ticket_id=ticket.id,
        direction=new.direction,
        kind=new.kind,
        author=new.author,
        text=new.text,
        html=text_to_html(new.text),
        provider_message_id=new.provider_message_id,
        dedupe_key=key,
        created_at=now,
        mentions=await _mentions(ticket, new.text) if new.kind is Kind.NOTE else [],
        delivery_status=(
            (DeliveryStatus.SENT if ticket.channel in LIVE_CHANNELS else DeliveryStatus.QUEUED)
            if outbound
            else None
        ),
    )
    message.outbox = [
        outbox_entry(
            ws,
            "message.created",
            actor,
            {"message": msgspec.to_builtins(message_out(message))},
            ticket=str(ticket.id),
        )
    ]
    try:
        await message.insert()
    except DuplicateKeyError:
        existing = await Message.find_one(Message.dedupe_key == key)
        if existing is None:
            raise
        return existing, ticket, False
    ticket = await _touch_ticket(relay, ticket, new, actor, now)
    await relay.flush(Message, message)
    await relay.flush(Ticket, ticket)
    return message, ticket, True


async def _touch_ticket(
    relay: EventRelay, ticket: Ticket, new: NewMessage, actor: Actor, now: datetime
) -> Ticket:
    """A customer message reopens a pending, snoozed or resolved ticket and starts the wait
    clock; an agent reply stops it, and the first one stamps first_response_at. Read and
    written under the ticket's lock, so the event carries exactly the stored ticket."""
    async with relay.locks.hold(lock_name(Ticket, ticket.id)):
        fresh = await Ticket.get(ticket.id)
        ticket = fresh or ticket
        fields: dict[str, Any] = {"updated_at": now}
        changed: list[str] = []
        if new.kind is Kind.MESSAGE and new.direction is Direction.IN:
            fields["last_customer_message_at"] = now
            if ticket.waiting_since is None:
                fields["waiting_since"] = now
                changed.append("waiting_since")
            if ticket.status in (Status.PENDING, Status.SNOOZED, Status.RESOLVED):
                fields.update(status=Status.OPEN, snoozed_until=None, resolved_at=None)
                changed.append("status")
        outbound = new.kind is Kind.MESSAGE and new.direction is Direction.OUT
        if outbound and ticket.first_response_at is None:
            fields["first_response_at"] = now
            changed.append("first_response_at")
        if outbound and ticket.waiting_since is not None:
            fields["waiting_since"] = None
            changed.append("waiting_since")
        # Only a change an agent could also be editing (the status) moves the version, so a
        # message arriving never turns an agent's concurrent edit into a conflict.
        if "status" in changed:
            fields["version"] = ticket.version + 1
            fields["changed_by"] = msgspec.to_builtins(actor)
        else:
            fields["version"] = ticket.version
        after = ticket.model_copy(update=fields)
        entry = outbox_entry(
            str(ticket.workspace_id),
            "ticket.updated",
            actor,
            {"ticket": msgspec.to_builtins(ticket_out(after)), "changed": changed},
            ticket=str(ticket.id),
        )
        fields["status"] = after.status.value
        raw = await Ticket.get_pymongo_collection().find_one_and_update(
            {"_id": ticket.id, "workspace_id": ticket.workspace_id},
            {"$set": fields, "$push": {"outbox": entry}},
            return_document=ReturnDocument.AFTER,
        )
    if raw is None:
        return ticket
    stored: Ticket = Ticket.model_validate(raw)
    return stored
