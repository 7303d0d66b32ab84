from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from app.documents import Message, Ticket
from app.documents.message import Attachment
from app.domain.attachments import inline
from app.domain.tickets import Channel, Priority, Status
from app.schemas.common import Id, Page, Text, iso
from app.services.text import text_to_html
from realtime.events import (
    Actor,
    AttachmentView,
    AuthorView,
    Direction,
    Kind,
    MessageView,
    TicketView,
)

ClientId = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]{1,100}$")]
Tag = Annotated[str, msgspec.Meta(min_length=1, max_length=50)]
Subject = Annotated[str, msgspec.Meta(min_length=1, max_length=500)]


TicketOut = TicketView
MessageOut = MessageView

PREVIEW_CHARS = 140


class TicketRow(TicketView, kw_only=True):
    """A ticket as the list shows it: the ticket, with who wrote in and what was said last.
    The inbox views keep these beside the ticket (app/views), so a page costs no extra reads;
    events carry the plain ticket, and the app keeps a row's extras until new ones come."""

    contact_name: str | None = None
    preview: str | None = None  # the last public message, one line, plain text
    preview_from: Literal["customer", "agent"] | None = None


def preview_of(m: MessageView) -> str:
    """A message as one short line of plain text: its words, else its files."""
    words = " ".join(m.text.split())
    if not words and m.attachments:
        words = "Attachment: " + ", ".join(a.filename for a in m.attachments)
    if len(words) > PREVIEW_CHARS:
        words = words[: PREVIEW_CHARS - 1].rstrip() + "…"
    return words


def ticket_out(t: Ticket) -> TicketView:
    return TicketView(
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
        rev=t.rev,
    )


def client_id_of(m: Message) -> str | None:
    if m.dedupe_key and ":c:" in m.dedupe_key:
        return m.dedupe_key.rsplit(":", 1)[1]
    return None


def attachment_out(a: Attachment) -> AttachmentView:
    return AttachmentView(
        filename=a.filename,
        content_type=a.content_type,
        size=a.size,
        url=f"/api/v1/attachments/{a.blob_id}" if a.blob_id else a.url,
        id=a.blob_id,
        inline=bool(a.blob_id) and inline(a.content_type),
        refused=a.refused,
        pending=a.media_id is not None and a.blob_id is None and a.refused is None,
    )


def message_out(m: Message) -> MessageView:
    return MessageView(
        id=str(m.id),
        ticket_id=str(m.ticket_id),
        direction=m.direction,
        kind=m.kind,
        author=AuthorView(m.author.kind, m.author.id, m.author.name),
        text=m.text,
        html=m.html,
        attachments=[attachment_out(a) for a in m.attachments],
        delivery_status=m.delivery_status,
        mentions=list(m.mentions),
        created_at=iso(m.created_at),
        client_id=client_id_of(m),
        delivery_error=m.delivery_error,
    )


def line_out(ticket_id: str, line: dict[str, Any]) -> MessageView:
    """A timeline line of the ticket, shown in the thread as a system message."""
    actor = line.get("actor") or {}
    return MessageView(
        id=line["id"],
        ticket_id=ticket_id,
        direction=Direction.OUT,
        kind=Kind.SYSTEM,
        author=AuthorView("system", actor.get("id"), actor.get("name")),
        text=line["text"],
        html=text_to_html(line["text"]),
        attachments=[],
        delivery_status=None,
        mentions=[],
        created_at=iso(line["at"]),
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


class TemplateIn(msgspec.Struct, forbid_unknown_fields=True):
    """An approved WhatsApp template, with its `{{1}}`, `{{2}}`… parameters in order."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=512)]
    language: Annotated[str, msgspec.Meta(min_length=2, max_length=20)]
    params: Annotated[list[str], msgspec.Meta(max_length=20)] = []


class MessageCreate(msgspec.Struct, forbid_unknown_fields=True):
    text: Text | None = None  # required, except for a template or a files-only reply
    kind: Literal["message", "note"] = "message"
    client_id: ClientId | None = None
    template: TemplateIn | None = None
    # Files uploaded by this agent (`POST /attachments`), by id.
    attachments: Annotated[list[Id], msgspec.Meta(max_length=10)] = []


class TemplateOut(msgspec.Struct):
    name: str
    language: str
    body_text: str
    param_count: int


class ReplyOptionsOut(msgspec.Struct):
    """What the composer may send on a ticket now."""

    channel: str
    free_text: bool  # False: WhatsApp's 24-hour window is closed, templates only
    window_closes_at: str | None
    templates: list[TemplateOut]
    why: str | None


# "active": open, pending and snoozed together (the inbox's default).
StatusFilter = Literal["active", "open", "pending", "snoozed", "resolved", "closed"]


class TicketQuery(msgspec.Struct, forbid_unknown_fields=True):
    status: StatusFilter | None = None
    assignee: str | None = None  # me | unassigned | <user id>
    team: str | None = None
    tag: str | None = None
    channel: Channel | None = None
    contact: str | None = None
    text: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    order: Literal["newest", "oldest", "updated", "waiting"] = "newest"
    cursor: str | None = None
    limit: Annotated[int, msgspec.Meta(ge=1, le=200)] = 50


class TicketPage(Page, kw_only=True):
    items: list[TicketOut]
    seq: int  # the workspace's event seq read before the query: apply events after it


class TicketDetail(msgspec.Struct):
    ticket: TicketOut
    messages: list[MessageOut]  # replies, notes and timeline lines, oldest first
    seq: int


class MessageCreated(msgspec.Struct):
    message: MessageOut
    ticket: TicketOut
