from datetime import UTC, datetime, timedelta

import pytest

from app.domain.errors import Invalid
from app.domain.messages import ThreadState, check_postable, delivery_moves, plan_message
from app.domain.timeline import change_lines
from realtime.events import Actor, DeliveryStatus, Direction, Kind, Status

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
EARLIER = NOW - timedelta(hours=1)
ANA = Actor(kind="agent", id="ana", name="Ana")


def state(status: Status = Status.OPEN, waiting: datetime | None = None) -> ThreadState:
    return ThreadState(status=status, version=4, waiting_since=waiting, first_response_at=None)


def test_a_customer_message_starts_the_wait_and_reopens_a_resolved_ticket() -> None:
    fields, changed = plan_message(state(Status.RESOLVED), Kind.MESSAGE, Direction.IN, NOW)

    assert fields["waiting_since"] == NOW
    assert (fields["status"], fields["version"], fields["resolved_at"]) == ("open", 5, None)
    assert changed == ["waiting_since", "status"]


def test_a_customer_message_keeps_a_running_wait_clock_and_the_version() -> None:
    fields, changed = plan_message(state(waiting=EARLIER), Kind.MESSAGE, Direction.IN, NOW)

    assert "waiting_since" not in fields
    assert "version" not in fields
    assert fields["last_customer_message_at"] == NOW
    assert changed == []


def test_an_agent_reply_stops_the_wait_and_stamps_the_first_response() -> None:
    fields, changed = plan_message(state(waiting=EARLIER), Kind.MESSAGE, Direction.OUT, NOW)

    assert (fields["waiting_since"], fields["first_response_at"]) == (None, NOW)
    assert sorted(changed) == ["first_response_at", "waiting_since"]


def test_a_note_moves_no_clock() -> None:
    fields, changed = plan_message(state(waiting=EARLIER), Kind.NOTE, Direction.OUT, NOW)

    assert (fields, changed) == ({"updated_at": NOW}, [])


def test_a_closed_ticket_takes_notes_only() -> None:
    check_postable(Status.CLOSED, Kind.NOTE, Direction.OUT)
    with pytest.raises(Invalid) as refused:
        plan_message(state(Status.CLOSED), Kind.MESSAGE, Direction.OUT, NOW)
    assert refused.value.code == "ticket_closed"


def test_timeline_lines_say_who_did_what() -> None:
    lines = change_lines(
        ANA,
        ["assignee_id", "status"],
        status=Status.PENDING,
        assignee_id="ben",
        assignee_name="Ben",
    )
    assert lines == ["Ana set the status to pending", "Ana assigned this ticket to Ben"]
    assert change_lines(
        ANA, ["assignee_id"], status=Status.OPEN, assignee_id="ana", assignee_name="Ana"
    ) == ["Ana took this ticket"]
    assert change_lines(
        Actor(kind="system"), ["status"], status=Status.OPEN, assignee_id=None, assignee_name=None
    ) == ["Tandem set the status to open"]


def test_a_message_only_moves_forward_and_a_failure_before_delivery_is_final() -> None:
    q, s, d, r, f = (
        DeliveryStatus.QUEUED,
        DeliveryStatus.SENT,
        DeliveryStatus.DELIVERED,
        DeliveryStatus.READ,
        DeliveryStatus.FAILED,
    )
    assert delivery_moves(q, s)
    assert delivery_moves(s, r)  # "delivered" may never come, or come later
    assert not delivery_moves(d, s)  # a late report of an earlier step
    assert not delivery_moves(r, d)
    assert not delivery_moves(s, s)  # the same report again
    assert delivery_moves(q, f)
    assert delivery_moves(s, f)
    assert not delivery_moves(d, f)  # delivered already: a stray failure does not undo it
    assert not delivery_moves(f, s)
    assert not delivery_moves(None, s)  # notes and customer messages have no delivery
