"""What a new message does to its ticket: who may post what, the wait clock, reopening."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.domain.errors import Invalid
from realtime.events import DeliveryStatus, Direction, Kind, Status

# A customer writing again brings these back to the queue; a closed ticket stays closed (the
# channel starts a new conversation instead).
REOPENED_BY_CUSTOMER = frozenset({Status.PENDING, Status.SNOOZED, Status.RESOLVED})


@dataclass(frozen=True)
class ThreadState:
    status: Status
    version: int
    waiting_since: datetime | None
    first_response_at: datetime | None


def check_postable(status: Status, kind: Kind, direction: Direction) -> None:
    """A closed ticket takes notes only: its conversation is over."""
    if status is Status.CLOSED and kind is Kind.MESSAGE:
        if direction is Direction.OUT:
            raise Invalid("a closed ticket takes notes only", field="kind", code="ticket_closed")
        raise Invalid("a closed ticket takes no customer messages", code="ticket_closed")


def plan_message(
    state: ThreadState, kind: Kind, direction: Direction, now: datetime
) -> tuple[dict[str, Any], list[str]]:
    """The ticket fields a message sets, and which of them changed what an agent sees.

    A customer message starts the wait clock (if it is not running) and reopens a pending,
    snoozed or resolved ticket; an agent's reply stops the clock, and the first one stamps
    `first_response_at`. Notes change nothing but `updated_at`. Only a status change moves
    the version: a message arriving never turns an agent's concurrent edit into a conflict.
    """
    check_postable(state.status, kind, direction)
    fields: dict[str, Any] = {"updated_at": now}
    changed: list[str] = []
    if kind is not Kind.MESSAGE:
        return fields, changed
    if direction is Direction.IN:
        fields["last_customer_message_at"] = now
        if state.waiting_since is None:
            fields["waiting_since"] = now
            changed.append("waiting_since")
        if state.status in REOPENED_BY_CUSTOMER:
            fields.update(
                status=Status.OPEN.value,
                snoozed_until=None,
                resolved_at=None,
                version=state.version + 1,
            )
            changed.append("status")
        return fields, changed
    if state.first_response_at is None:
        fields["first_response_at"] = now
        changed.append("first_response_at")
    if state.waiting_since is not None:
        fields["waiting_since"] = None
        changed.append("waiting_since")
    return fields, changed


# How far a message has got; a report of a step already passed changes nothing.
DELIVERY_ORDER = {
    DeliveryStatus.QUEUED: 0,
    DeliveryStatus.SENT: 1,
    DeliveryStatus.DELIVERED: 2,
    DeliveryStatus.READ: 3,
}


def delivery_moves(current: DeliveryStatus | None, reported: DeliveryStatus) -> bool:
    """Whether a delivery report changes a message. Providers report out of order and more
    than once: a message only moves forward (queued → sent → delivered → read). A failure
    counts until the message was delivered, and is final: a later report of a step before it
    arrived late, and does not undo it."""
    if current is None or current is DeliveryStatus.FAILED:
        return False
    if reported is DeliveryStatus.FAILED:
        return current in (DeliveryStatus.QUEUED, DeliveryStatus.SENT)
    return DELIVERY_ORDER[reported] > DELIVERY_ORDER[current]
