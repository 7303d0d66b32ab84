"""The event catalogue: every state change Tandem announces, one msgspec Struct per type.

This module is the vocabulary `app/`, `realtime/` and the clients share (as Starlette's
`types.py` is for Starlette): the wire shapes of tickets, messages, contacts and knowledge-base
articles, the `Actor` who made a change, the typed events (a tagged union on `type`), what a
widget visitor is shown of them, and the ephemeral `Signal`.

`seq` is strictly increasing per workspace and assigned by the broker when the event is appended
to the workspace's replay log; an event that has not been published yet has `seq == 0` (and
leaves it out of its JSON, so the broker can put the real one first). `ticket` is the ticket id
the event concerns, when it concerns one. `id` is unique per event, so a republished outbox
entry is applied once.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

import msgspec


class Status(StrEnum):
    OPEN = "open"
    PENDING = "pending"
    SNOOZED = "snoozed"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class Channel(StrEnum):
    API = "api"
    EMAIL = "email"
    WHATSAPP = "whatsapp"
    WEBCHAT = "webchat"


class Direction(StrEnum):
    IN = "in"
    OUT = "out"


class Kind(StrEnum):
    MESSAGE = "message"
    NOTE = "note"  # private: agents only
    SYSTEM = "system"  # "Ana assigned this ticket to Ben"


class DeliveryStatus(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"


ActorKind = Literal["agent", "contact", "channel", "automation", "system"]


class Actor(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Who made a change: a person (an agent, a contact), a channel, an automation rule or
    the system (a timer); `id` and `name` say which, when there is one."""

    kind: ActorKind
    id: str | None = None
    name: str | None = None


# ---- what events carry: the agents' view of tickets, messages and contacts ------------------


class TicketView(msgspec.Struct):
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
    # The ticket's write counter: of two snapshots of one ticket, the higher `rev` is newer.
    rev: int = 0


class AuthorView(msgspec.Struct):
    kind: str
    id: str | None
    name: str | None


class AttachmentView(msgspec.Struct):
    filename: str
    content_type: str
    size: int
    url: str | None  # where an agent downloads it (with their session); None if not kept
    id: str | None = None  # the blob's id
    inline: bool = False  # an image the thread shows in place
    refused: str | None = None  # why Tandem did not keep it
    pending: bool = False  # still being fetched from the channel


class MessageView(msgspec.Struct):
    id: str
    ticket_id: str
    direction: Direction
    kind: Kind
    author: AuthorView
    text: str
    html: str
    attachments: list[AttachmentView]
    delivery_status: DeliveryStatus | None
    mentions: list[str]
    created_at: str | None
    client_id: str | None = None
    # Why a delivery failed, as the provider said it ("inactive recipient", "needs a
    # template"), with `delivery_status` "failed".
    delivery_error: str | None = None


class ContactView(msgspec.Struct):
    id: str
    name: str | None
    email: str | None
    phone: str | None
    whatsapp_id: str | None
    external_id: str | None
    verified: bool
    custom_attributes: dict[str, Any]
    created_at: str | None
    updated_at: str | None
    email_bounce: str | None = None  # why email to `email` stopped (a hard bounce)
    # Whether `email` is this contact's to be found by: false for an address a widget visitor
    # typed, which is shown and written to but never matched to a ticket or an email.
    email_verified: bool = True


ArticleStatus = Literal["draft", "published"]
ArticleVisibility = Literal["public", "internal"]


class ArticleView(msgspec.Struct):
    """A knowledge-base article as its events show it: everything but the body."""

    id: str
    title: str
    slug: str
    locale: str
    category: str
    status: ArticleStatus
    visibility: ArticleVisibility
    version: int
    updated_at: str | None


class PreviousValues(msgspec.Struct, omit_defaults=True, forbid_unknown_fields=True):
    """The values a ticket change replaced; only the changed fields are present."""

    status: Status | msgspec.UnsetType = msgspec.UNSET
    priority: Priority | msgspec.UnsetType = msgspec.UNSET
    assignee_id: str | msgspec.UnsetType | None = msgspec.UNSET
    team_id: str | msgspec.UnsetType | None = msgspec.UNSET
    tags: list[str] | msgspec.UnsetType = msgspec.UNSET
    snoozed_until: str | msgspec.UnsetType | None = msgspec.UNSET
    resolved_at: str | msgspec.UnsetType | None = msgspec.UNSET


# ---- the events ---------------------------------------------------------------------------------


class EventBase(
    msgspec.Struct,
    frozen=True,
    kw_only=True,
    tag_field="type",
    forbid_unknown_fields=True,
    omit_defaults=True,
):
    ws: str
    actor: Actor
    at: datetime
    ticket: str | None = None
    id: str = ""
    seq: int = 0

    @property
    def type(self) -> str:
        """The wire name of the event's kind ("ticket.updated"): its tag."""
        return str(self.__struct_config__.tag)


class TicketData(msgspec.Struct, forbid_unknown_fields=True):
    ticket: TicketView


class TicketUpdatedData(msgspec.Struct, forbid_unknown_fields=True):
    ticket: TicketView
    changed: list[str]
    previous: PreviousValues
    # The thread's timeline lines this change wrote ("Ana set the status to pending"): part of
    # this one event, kept on the ticket, shown in the thread among the messages.
    lines: list[MessageView] = []


class MessageData(msgspec.Struct, forbid_unknown_fields=True):
    message: MessageView
    ticket: TicketView  # the ticket after the message (wait clock, reopening, first response)


class MessageUpdatedData(msgspec.Struct, forbid_unknown_fields=True):
    message: MessageView  # the message after the change
    changed: list[str]  # delivery_status, delivery_error


class ReadData(msgspec.Struct, forbid_unknown_fields=True):
    by: Literal["contact", "agent"]
    up_to: str


class ContactData(msgspec.Struct, forbid_unknown_fields=True):
    contact: ContactView


class ArticleData(msgspec.Struct, forbid_unknown_fields=True):
    article: ArticleView


class TicketCreated(EventBase, tag="ticket.created", frozen=True):
    data: TicketData


class TicketUpdated(EventBase, tag="ticket.updated", frozen=True):
    data: TicketUpdatedData


class MessageCreated(EventBase, tag="message.created", frozen=True):
    data: MessageData


class MessageRead(EventBase, tag="message.read", frozen=True):
    data: ReadData


class MessageUpdated(EventBase, tag="message.updated", frozen=True):
    """A message's delivery moved on (sent, delivered, read) or failed."""

    data: MessageUpdatedData


class ContactCreated(EventBase, tag="contact.created", frozen=True):
    data: ContactData


class ContactUpdated(EventBase, tag="contact.updated", frozen=True):
    data: ContactData


class ArticleCreated(EventBase, tag="article.created", frozen=True):
    data: ArticleData


class ArticleUpdated(EventBase, tag="article.updated", frozen=True):
    data: ArticleData


class ArticleDeleted(EventBase, tag="article.deleted", frozen=True):
    """The article as it was when deleted (with the version the deletion gave it)."""

    data: ArticleData


class SuggestionView(msgspec.Struct):
    """Something an agent may answer with: a knowledge-base passage or a canned response."""

    kind: Literal["article", "canned"]
    id: str
    title: str
    text: str  # the passage, or the canned response's body
    score: float
    url: str | None = None  # an article's page in the help center (public articles)


class SuggestionsData(msgspec.Struct, forbid_unknown_fields=True):
    message_id: str  # the customer's message they answer
    items: list[SuggestionView]


class AiSuggestions(EventBase, tag="ai.suggestions", frozen=True):
    """Ranked answers for the customer's latest message, for the agents on its ticket. Made
    from the workspace's own articles and canned responses, in process: nothing leaves."""

    data: SuggestionsData


Event = (
    TicketCreated
    | TicketUpdated
    | MessageCreated
    | MessageUpdated
    | MessageRead
    | ContactCreated
    | ContactUpdated
    | ArticleCreated
    | ArticleUpdated
    | ArticleDeleted
    | AiSuggestions
)


def team_of(event: Event) -> str | None:
    """The team an event is about, for `team:<id>` subscribers."""
    data = event.data
    ticket = getattr(data, "ticket", None)
    return ticket.team_id if isinstance(ticket, TicketView) else None


# ---- what a widget visitor is shown ------------------------------------------------------------


class VisitorActor(msgspec.Struct, frozen=True):
    kind: ActorKind
    name: str | None = None


class VisitorAttachment(msgspec.Struct):
    """A file on a public message, as the widget fetches it (by `id`, with its own token)."""

    id: str | None
    filename: str
    content_type: str
    size: int
    inline: bool = False
    refused: str | None = None


class VisitorMessage(msgspec.Struct):
    """A public message as its customer sees it: no agent ids, no notes, no internal fields."""

    id: str
    client_id: str | None
    conversation_id: str
    direction: Direction
    author_name: str | None
    text: str
    created_at: str | None
    status: DeliveryStatus | None
    attachments: list[VisitorAttachment] = []


class VisitorEventBase(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    ws: str
    actor: VisitorActor
    at: datetime
    ticket: str | None
    seq: int


class VisitorMessageData(msgspec.Struct):
    message: VisitorMessage


class VisitorMessageCreated(VisitorEventBase, tag="message.created", frozen=True):
    data: VisitorMessageData


class VisitorMessageRead(VisitorEventBase, tag="message.read", frozen=True):
    data: ReadData


VisitorEvent = VisitorMessageCreated | VisitorMessageRead


def visitor_message(message: MessageView) -> VisitorMessage:
    return VisitorMessage(
        id=message.id,
        client_id=message.client_id,
        conversation_id=message.ticket_id,
        direction=message.direction,
        author_name=message.author.name,
        text=message.text,
        created_at=message.created_at,
        status=message.delivery_status,
        attachments=[
            VisitorAttachment(a.id, a.filename, a.content_type, a.size, a.inline, a.refused)
            for a in message.attachments
            if not a.pending
        ],
    )


def for_visitor(event: Event) -> VisitorEvent | None:
    """The visitor's form of an event, or None when visitors are never shown its kind. Which
    visitor may see it (their own conversation) is the app's call."""
    actor = VisitorActor(event.actor.kind, event.actor.name)
    if isinstance(event, MessageCreated):
        if event.data.message.kind is not Kind.MESSAGE:
            return None
        return VisitorMessageCreated(
            ws=event.ws,
            actor=actor,
            at=event.at,
            ticket=event.ticket,
            seq=event.seq,
            data=VisitorMessageData(visitor_message(event.data.message)),
        )
    if isinstance(event, MessageRead):
        return VisitorMessageRead(
            ws=event.ws,
            actor=actor,
            at=event.at,
            ticket=event.ticket,
            seq=event.seq,
            data=event.data,
        )
    return None


# ---- ephemeral signals -------------------------------------------------------------------------

# "ended" and "changed" stay among the servers: a person's (or one credential's) live access
# ended, or what they may see changed (a new role, other teams), and every process closes the
# matching sockets (realtime/hub.py) — for good, or for the client to reconnect and be
# authorized afresh. Neither is ever sent to a client.
SignalType = Literal["typing", "viewing", "presence", "ended", "changed"]
ACCESS_SIGNALS: frozenset[SignalType] = frozenset({"ended", "changed"})


class SignalData(msgspec.Struct, frozen=True, omit_defaults=True, forbid_unknown_fields=True):
    user: str | None = None  # the person's id; left out of what visitors are shown
    name: str | None = None
    conn: str | None = None  # the sending connection, so its own tab is not told
    on: bool | None = None  # typing, viewing
    state: Literal["online", "away", "offline"] | None = None  # presence
    expires_in: float | None = None
    credential: str | None = None  # "ended": only the sockets opened with this credential


class Signal(msgspec.Struct, frozen=True, omit_defaults=True, forbid_unknown_fields=True):
    """An ephemeral notice (typing, viewing, presence): pushed live, never replayed, no seq."""

    ws: str
    type: SignalType
    data: SignalData = msgspec.field(default_factory=SignalData)
    ticket: str | None = None


def signal_for_visitor(signal: Signal) -> Signal:
    return msgspec.structs.replace(
        signal, data=msgspec.structs.replace(signal.data, user=None, conn=None)
    )


# ---- encoding ----------------------------------------------------------------------------------

_encoder = msgspec.json.Encoder()
_decoder: msgspec.json.Decoder[Event] = msgspec.json.Decoder(Event)


def encode_event(event: Event) -> bytes:
    return _encoder.encode(event)


def decode_event(raw: bytes | str) -> Event:
    return _decoder.decode(raw)


def event_to_document(event: Event) -> dict[str, Any]:
    """An event as an outbox entry: plain BSON-able values, `at` kept a date so the sweep can
    ask for entries older than a cutoff."""
    entry: dict[str, Any] = msgspec.to_builtins(event, builtin_types=(datetime,))
    return entry


def event_from_document(entry: dict[str, Any]) -> Event:
    event: Event = msgspec.convert(entry, Event)
    return event
