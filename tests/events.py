"""Typed events for tests that drive the broker, the hub and the clients without the app."""

from __future__ import annotations

from datetime import UTC, datetime

from realtime.events import (
    Actor,
    AuthorView,
    Channel,
    ContactData,
    ContactUpdated,
    ContactView,
    Direction,
    Kind,
    MessageCreated,
    MessageData,
    MessageView,
    PreviousValues,
    Priority,
    Status,
    TicketUpdated,
    TicketUpdatedData,
    TicketView,
)

AT = datetime(2025, 1, 1, tzinfo=UTC)
ADA = Actor(kind="agent", id="agent-1", name="Ada")


def ticket_view(
    ticket: str = "t1", *, team_id: str | None = None, tags: list[str] | None = None
) -> TicketView:
    return TicketView(
        id=ticket,
        number=1,
        subject="Refund",
        status=Status.OPEN,
        priority=Priority.NORMAL,
        channel=Channel.API,
        contact_id=None,
        assignee_id=None,
        team_id=team_id,
        tags=tags or [],
        version=1,
        changed_by=None,
        created_at=None,
        updated_at=None,
        first_response_at=None,
        last_customer_message_at=None,
        waiting_since=None,
        snoozed_until=None,
        resolved_at=None,
    )


def message_event(
    n: int = 0,
    *,
    ws: str = "ws-1",
    ticket: str = "t1",
    private: bool = False,
    id: str = "",
    actor: Actor = ADA,
) -> MessageCreated:
    """Message number `n` ("message <n>"); a private one is an agent's note."""
    message = MessageView(
        id=f"m{n}",
        ticket_id=ticket,
        direction=Direction.OUT,
        kind=Kind.NOTE if private else Kind.MESSAGE,
        author=AuthorView(actor.kind, actor.id, actor.name),
        text=f"message {n}",
        html=f"<p>message {n}</p>",
        attachments=[],
        delivery_status=None,
        mentions=[],
        created_at=None,
    )
    data = MessageData(message=message, ticket=ticket_view(ticket))
    return MessageCreated(ws=ws, actor=actor, at=AT, ticket=ticket, id=id, data=data)


def number_of(event: object) -> int:
    assert isinstance(event, MessageCreated), event
    return int(event.data.message.text.split()[-1])


def ticket_event(
    *,
    ws: str = "ws-1",
    ticket: str = "t1",
    team_id: str | None = None,
    tags: list[str] | None = None,
) -> TicketUpdated:
    data = TicketUpdatedData(
        ticket=ticket_view(ticket, team_id=team_id, tags=tags),
        changed=["tags"],
        previous=PreviousValues(tags=[]),
    )
    return TicketUpdated(ws=ws, actor=ADA, at=AT, ticket=ticket, data=data)


def contact_event(*, ws: str = "ws-1", contact: str = "c1") -> ContactUpdated:
    view = ContactView(
        id=contact,
        name="Carla",
        email=None,
        phone=None,
        whatsapp_id=None,
        external_id=None,
        verified=False,
        custom_attributes={},
        created_at=None,
        updated_at=None,
    )
    return ContactUpdated(ws=ws, actor=ADA, at=AT, data=ContactData(view))
