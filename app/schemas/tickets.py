from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from app.documents import Message, Ticket
from app.domain.tickets import Channel, Priority, Status
from app.schemas.common import Id, Page, Text, iso
from realtime.envelope import Actor

ClientId = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]{1,100}$")]
Tag = Annotated[str, msgspec.Meta(min_length=1, max_length=50)]
Subject = Annotated[str, msgspec.Meta(min_length=1, max_length=500)]


class TicketOut(msgspec.Struct):
    id: str
    number: int
    subject: str
    status: Status
    priority: Priority
    channel: Channel
    contact_id: str | None
    assignee_id: str | None
    team_id: str | None
    tags: list[str]
    version: int
    changed_by: Actor | None
    created_at: str | None
    updated_at: str | None
    first_response_at: str | None
    last_customer_message_at: str | None
    waiting_since: str | None
    snoozed_until: str | None
    resolved_at: str | None


def ticket_out(t: Ticket) -> TicketOut:
    return TicketOut(
        id=str(t.id),
        number=t.number,
        subject=t.subject,
        status=t.status,
        priority=t.priority,
        channel=t.channel,
        contact_id=str(t.contact_id) if t.contact_id else None,
        assignee_id=t.assignee_id,
        team_id=t.team_id,
        tags=list(t.tags),
        version=t.version,
        changed_by=msgspec.convert(t.changed_by, Actor) if t.changed_by else None,
        created_at=iso(t.created_at),
        updated_at=iso(t.updated_at),
        first_response_at=iso(t.first_response_at),
        last_customer_message_at=iso(t.last_customer_message_at),
        waiting_since=iso(t.waiting_since),
        snoozed_until=iso(t.snoozed_until),
        resolved_at=iso(t.resolved_at),
    )


class AuthorOut(msgspec.Struct):
    kind: str
    id: str | None
    name: str | None


class AttachmentOut(msgspec.Struct):
    filename: str
    content_type: str
    size: int
    url: str | None


class MessageOut(msgspec.Struct):
    id: str
    ticket_id: str
    direction: str
    kind: str
    author: AuthorOut
    text: str
    html: str
    attachments: list[AttachmentOut]
    delivery_status: str | None
    mentions: list[str]
    created_at: str | None
    client_id: str | None = None


def message_out(m: Message) -> MessageOut:
    client_id = None
    if m.dedupe_key and ":c:" in m.dedupe_key:
        client_id = m.dedupe_key.rsplit(":", 1)[1]
    return MessageOut(
        id=str(m.id),
        ticket_id=str(m.ticket_id),
        direction=m.direction.value,
        kind=m.kind.value,
        author=AuthorOut(m.author.kind, m.author.id, m.author.name),
        text=m.text,
        html=m.html,
        attachments=[
            AttachmentOut(a.filename, a.content_type, a.size, a.url) for a in m.attachments
        ],
        delivery_status=m.delivery_status.value if m.delivery_status else None,
        mentions=list(m.mentions),
        created_at=iso(m.created_at),
        client_id=client_id,
    )


class ContactRef(msgspec.Struct, forbid_unknown_fields=True):
    id: Id | None = None
    email: str | None = None
    phone: str | None = None
    name: str | None = None


class FirstMessage(msgspec.Struct, forbid_unknown_fields=True):
    text: Text
    direction: Literal["in", "out"] = "in"


class TicketCreate(msgspec.Struct, forbid_unknown_fields=True):
    subject: Subject
    contact: ContactRef | None = None
    message: FirstMessage | None = None
    priority: Priority = Priority.NORMAL
    tags: list[Tag] = msgspec.field(default_factory=list)
    team_id: Id | None = None
    assignee_id: Id | None = None


class TicketPatch(msgspec.Struct, forbid_unknown_fields=True):
    version: int
    status: Status | msgspec.UnsetType = msgspec.UNSET
    priority: Priority | msgspec.UnsetType = msgspec.UNSET
    assignee_id: Id | msgspec.UnsetType | None = msgspec.UNSET
    team_id: Id | msgspec.UnsetType | None = msgspec.UNSET
    tags: list[Tag] | msgspec.UnsetType = msgspec.UNSET
    snoozed_until: datetime | msgspec.UnsetType = msgspec.UNSET


class MessageCreate(msgspec.Struct, forbid_unknown_fields=True):
    text: Text
    kind: Literal["message", "note"] = "message"
    client_id: ClientId | None = None


class TicketQuery(msgspec.Struct, forbid_unknown_fields=True):
    status: Status | None = None
    assignee: str | None = None  # me | unassigned | <user id>
    team: str | None = None
    tag: str | None = None
    channel: Channel | None = None
    contact: str | None = None
    text: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    order: Literal["newest", "oldest"] = "newest"
    cursor: str | None = None
    limit: Annotated[int, msgspec.Meta(ge=1, le=200)] = 50


class TicketPage(Page, kw_only=True):
    items: list[TicketOut]
    seq: int  # the workspace's event seq read before the query: apply events after it


class TicketDetail(msgspec.Struct):
    ticket: TicketOut
    messages: list[MessageOut]
    seq: int


class MessageCreated(msgspec.Struct):
    message: MessageOut
    ticket: TicketOut
