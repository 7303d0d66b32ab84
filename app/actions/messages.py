"""Message actions: post a message (a customer's, an agent's reply or note), mark read,
record a provider's delivery report.

A message is stored once — its provider or client id is unique per workspace, so a resend
finds the first copy — and announced by one `message.created` event that carries the ticket
as the message left it (wait clock, reopening, first response). The event rides in the
message's own insert; the ticket's fields follow in one update under the ticket's lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec
from beanie import PydanticObjectId
from pymongo.errors import DuplicateKeyError

from app.actions.base import Deps, agent_actor, stamp
from app.auth.principal import Principal
from app.documents import Message, Ticket, User
from app.documents.common import utcnow
from app.documents.message import Attachment, Author, DeliveryStatus, Direction, Kind
from app.domain.errors import NotFound
from app.domain.messages import ThreadState, delivery_moves, plan_message
from app.outbox import lock_name, merged
from app.schemas.tickets import message_out, ticket_out
from app.services.text import mention_handles, text_to_html
from app.services.tickets import read_ticket
from realtime.events import (
    Actor,
    Channel,
    MessageCreated,
    MessageData,
    MessageRead,
    MessageUpdated,
    MessageUpdatedData,
    ReadData,
    event_to_document,
)

# Replies on these reach the customer directly (API caller, widget socket): no provider.
LIVE_CHANNELS = frozenset({Channel.API, Channel.WEBCHAT})
# Replies on these are sent by the worker's delivery job (app/delivery).
SENT_BY_JOB = frozenset({Channel.EMAIL, Channel.WHATSAPP})
DELIVER_JOB = "message.deliver"


@dataclass(frozen=True)
class NewMessage:
    text: str
    direction: Direction
    kind: Kind
    author: Author
    client_id: str | None = None
    provider_message_id: str | None = None
    message_ref: str | None = None  # how later messages name this one (an email's Message-ID)
    template: dict[str, Any] | None = None  # a WhatsApp template: {name, language, params}
    attachments: tuple[Attachment, ...] = ()
    html: str | None = None  # the message's own HTML, sanitized (an email's); else from text


@dataclass(frozen=True)
class Posted:
    message: Message
    ticket: Ticket
    created: bool  # False when this was a resend of a message already stored


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


async def _mentions(workspace_id: PydanticObjectId, text: str) -> list[str]:
    """User ids of agents named in a note as @handle: the part of their email before the @,
    their first name, or their whole name without spaces."""
    handles = set(mention_handles(text))
    if not handles:
        return []
    users = await User.find(User.workspace_id == workspace_id, User.active == True).to_list()  # noqa: E712
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


def _actor(author: Author) -> Actor:
    kind = author.kind if author.kind in ("agent", "contact", "channel", "automation") else "system"
    return msgspec.convert({"kind": kind, "id": author.id, "name": author.name}, Actor)


async def post_message(
    deps: Deps, ws: PydanticObjectId, ticket_id: PydanticObjectId, new: NewMessage
) -> Posted:
    """Store `new` on the ticket and move its clocks; one `message.created` event. The
    ticket is read under its lock, once (an unknown or foreign ticket is `NotFound`)."""
    key = dedupe_key(ws, new)
    mentions = await _mentions(ws, new.text) if new.kind is Kind.NOTE else []
    actor = _actor(new.author)
    async with deps.relay.locks.hold(lock_name(Ticket, ticket_id)):
        ticket = await read_ticket(ws, ticket_id)
        now = utcnow()
        state = ThreadState(
            status=ticket.status,
            version=ticket.version,
            waiting_since=ticket.waiting_since,
            first_response_at=ticket.first_response_at,
        )
        fields, changed = plan_message(state, new.kind, new.direction, now)
        fields["rev"] = ticket.rev + 1
        if "status" in changed:
            fields["changed_by"] = msgspec.to_builtins(actor)
        after = Ticket.model_validate({**ticket.model_dump(by_alias=True), **fields})
        outbound = new.direction is Direction.OUT and new.kind is Kind.MESSAGE
        message = Message(
            id=PydanticObjectId(),
            workspace_id=ws,
            ticket_id=ticket.id,
            direction=new.direction,
            kind=new.kind,
            author=new.author,
            text=new.text,
            html=new.html or text_to_html(new.text),
            provider_message_id=new.provider_message_id,
            message_ref=new.message_ref,
            template=new.template,
            attachments=list(new.attachments),
            dedupe_key=key,
            created_at=now,
            mentions=mentions,
            delivery_status=(
                (DeliveryStatus.SENT if ticket.channel in LIVE_CHANNELS else DeliveryStatus.QUEUED)
                if outbound
                else None
            ),
        )
        event = stamp(
            MessageCreated,
            ws=ws,
            actor=actor,
            ticket=ticket.id,
            data=MessageData(message=message_out(message), ticket=ticket_out(after)),
        )
        message.outbox = [event_to_document(event)]
        await deps.relay.mark(Message, message.id, event)
        if outbound and ticket.channel in SENT_BY_JOB and deps.timers is not None:
            # Before the insert, like a snooze's timer: a job whose write never happened
            # finds no message and does nothing; one enqueued after could be lost.
            await deps.timers.queue.enqueue(
                DELIVER_JOB,
                {"ws": str(ws), "message": str(message.id), "channel": ticket.channel.value},
                key=f"deliver:{message.id}",
            )
        try:
            await message.insert()
        except DuplicateKeyError:
            existing = await Message.find_one(Message.dedupe_key == key)
            if existing is None:
                raise
            return Posted(existing, ticket, created=False)
        await Ticket.get_pymongo_collection().update_one(
            {"_id": ticket.id, "workspace_id": ws}, {"$set": fields}
        )
    await deps.relay.publish([event])
    return Posted(message, after, created=True)


async def mark_read(deps: Deps, ticket: Ticket, up_to: PydanticObjectId, actor: Actor) -> None:
    """The customer read the agents' replies up to `up_to`: they become `read`, and one
    `message.read` event tells the agents. `up_to` must be a message of this ticket."""
    if not await Message.find_one(Message.id == up_to, Message.ticket_id == ticket.id):
        raise NotFound("no such message in this conversation")
    await Message.get_pymongo_collection().update_many(
        {
            "workspace_id": ticket.workspace_id,
            "ticket_id": ticket.id,
            "_id": {"$lte": up_to},
            "direction": Direction.OUT.value,
            "delivery_status": {"$in": [DeliveryStatus.SENT.value, DeliveryStatus.DELIVERED.value]},
        },
        {"$set": {"delivery_status": DeliveryStatus.READ.value}},
    )
    event = stamp(
        MessageRead,
        ws=ticket.workspace_id,
        actor=actor,
        ticket=ticket.id,
        data=ReadData(by="contact", up_to=str(up_to)),
    )
    assert ticket.id is not None
    async with deps.relay.locks.hold(lock_name(Ticket, ticket.id)):
        held = (await read_ticket(ticket.workspace_id, ticket.id, outbox=True)).outbox
        await Ticket.get_pymongo_collection().update_one(
            {"_id": ticket.id, "workspace_id": ticket.workspace_id},
            await deps.relay.outbox_update(Ticket, ticket.id, held, event),
        )
    await deps.relay.publish([event])


async def mark_seen(
    deps: Deps, ticket: Ticket, up_to: PydanticObjectId, principal: Principal
) -> bool:
    """An agent had the conversation open with the customer's messages up to `up_to` in
    front of them: one `message.read` event (by "agent") tells the customer, and the ticket
    keeps the point for a later reload. Only forward: an older point changes nothing (and
    says so, False). Neither the ticket's version nor its list row change, so a read never
    makes another agent's edit conflict."""
    assert ticket.id is not None
    message = await Message.find_one(Message.id == up_to, Message.ticket_id == ticket.id)
    if message is None or message.direction is not Direction.IN:
        raise NotFound("no such customer message in this conversation")
    async with deps.relay.locks.hold(lock_name(Ticket, ticket.id)):
        current = await read_ticket(ticket.workspace_id, ticket.id, outbox=True)
        if current.agent_read_up_to is not None and current.agent_read_up_to >= up_to:
            return False
        event = stamp(
            MessageRead,
            ws=ticket.workspace_id,
            actor=agent_actor(principal),
            ticket=ticket.id,
            data=ReadData(by="agent", up_to=str(up_to)),
        )
        update = await deps.relay.outbox_update(Ticket, ticket.id, current.outbox, event)
        update.setdefault("$set", {})["agent_read_up_to"] = up_to
        await Ticket.get_pymongo_collection().update_one(
            {"_id": ticket.id, "workspace_id": ticket.workspace_id}, update
        )
    await deps.relay.publish([event])
    return True


async def record_delivery(
    deps: Deps,
    ws: PydanticObjectId,
    message_id: PydanticObjectId,
    reported: DeliveryStatus,
    *,
    actor: Actor,
    error: str | None = None,
) -> Message | None:
    """A provider's report on a message Tandem sent: sent, delivered, read, or failed with
    `error`. The message moves only forward (`delivery_moves`); a report that changes it is
    one write carrying one `message.updated` event. Returns the message after it, or None
    when the report changed nothing (a duplicate, or one that arrived late)."""
    async with deps.relay.locks.hold(lock_name(Message, message_id)):
        raw = await Message.get_pymongo_collection().find_one(
            {"_id": message_id, "workspace_id": ws}
        )
        if raw is None:
            raise NotFound("no such message")
        message = Message.model_validate(raw)
        if not delivery_moves(message.delivery_status, reported):
            return None
        fields: dict[str, Any] = {"delivery_status": reported.value}
        if reported is DeliveryStatus.FAILED:
            fields["delivery_error"] = (error or "the provider gave no reason")[:500]
        after: Message = Message.model_validate({**message.model_dump(by_alias=True), **fields})
        event = stamp(
            MessageUpdated,
            ws=ws,
            actor=actor,
            ticket=message.ticket_id,
            data=MessageUpdatedData(message=message_out(after), changed=sorted(fields)),
        )
        update = merged(
            {"$set": fields},
            await deps.relay.outbox_update(Message, message_id, message.outbox, event),
        )
        await Message.get_pymongo_collection().update_one(
            {"_id": message_id, "workspace_id": ws}, update
        )
    await deps.relay.publish([event])
    return after


async def settle_attachment(
    deps: Deps,
    ws: PydanticObjectId,
    message_id: PydanticObjectId,
    media_id: str,
    settled: Attachment,
    *,
    actor: Actor,
) -> Message | None:
    """A file the channel sent by reference, now fetched (or refused): it takes the place of
    the pending attachment with `media_id`, as one write and one `message.updated` event.
    None when there is no such pending attachment (settled already)."""
    async with deps.relay.locks.hold(lock_name(Message, message_id)):
        raw = await Message.get_pymongo_collection().find_one(
            {"_id": message_id, "workspace_id": ws}
        )
        if raw is None:
            raise NotFound("no such message")
        message = Message.model_validate(raw)
        index = next(
            (
                i
                for i, a in enumerate(message.attachments)
                if a.media_id == media_id and a.blob_id is None and a.refused is None
            ),
            None,
        )
        if index is None:
            return None
        attachments = list(message.attachments)
        attachments[index] = settled.model_copy(update={"media_id": media_id})
        after: Message = message.model_copy(update={"attachments": attachments})
        event = stamp(
            MessageUpdated,
            ws=ws,
            actor=actor,
            ticket=message.ticket_id,
            data=MessageUpdatedData(message=message_out(after), changed=["attachments"]),
        )
        fields = {"attachments": [a.model_dump() for a in attachments]}
        update = merged(
            {"$set": fields},
            await deps.relay.outbox_update(Message, message_id, message.outbox, event),
        )
        await Message.get_pymongo_collection().update_one(
            {"_id": message_id, "workspace_id": ws}, update
        )
    await deps.relay.publish([event])
    return after
