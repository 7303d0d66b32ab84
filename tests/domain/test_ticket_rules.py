from datetime import UTC, datetime, timedelta, timezone

import pytest

from app.domain.errors import Conflict, Forbidden, Invalid
from app.domain.roles import Role
from app.domain.tickets import (
    Priority,
    Status,
    TicketChanges,
    TicketState,
    check_version,
    next_statuses,
    normalize_tags,
    plan_update,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
OPEN = TicketState(Status.OPEN, Priority.NORMAL, None, None, ("vip",), 3)


def plan(changes: TicketChanges, role: Role = Role.AGENT, state: TicketState = OPEN) -> dict:
    return plan_update(state, changes, role=role, actor_id="ana", now=NOW)


def test_resolving_stamps_the_time_and_reopening_clears_it() -> None:
    assert plan(TicketChanges(status=Status.RESOLVED)) == {"status": "resolved", "resolved_at": NOW}
    earlier = NOW - timedelta(days=1)
    resolved = TicketState(Status.RESOLVED, Priority.NORMAL, None, None, (), 4, None, earlier)
    assert plan(TicketChanges(status=Status.OPEN), state=resolved) == {
        "status": "open",
        "resolved_at": None,
    }
    # Closing a resolved ticket keeps the day it was resolved on (the dashboard counts it).
    assert plan(TicketChanges(status=Status.CLOSED), state=resolved) == {"status": "closed"}


def test_a_plan_names_only_the_fields_that_change() -> None:
    assert plan(TicketChanges(status=Status.PENDING)) == {"status": "pending"}
    later = NOW + timedelta(hours=2)
    snoozed = TicketState(Status.SNOOZED, Priority.NORMAL, None, None, (), 4, later)
    assert plan(TicketChanges(status=Status.PENDING), state=snoozed) == {
        "status": "pending",
        "snoozed_until": None,
    }


def test_the_allowed_moves_are_offered_in_status_order() -> None:
    assert next_statuses(Status.RESOLVED) == [Status.OPEN, Status.CLOSED]
    assert next_statuses(Status.CLOSED) == []


def test_closed_is_final_and_snoozing_needs_a_future_time() -> None:
    closed = TicketState(Status.CLOSED, Priority.NORMAL, None, None, (), 4)
    with pytest.raises(Invalid) as err:
        plan(TicketChanges(status=Status.OPEN), state=closed)
    assert err.value.code == "invalid_transition"
    with pytest.raises(Invalid):
        plan(TicketChanges(status=Status.SNOOZED, snoozed_until=NOW - timedelta(minutes=1)))
    later = NOW + timedelta(hours=2)
    assert plan(TicketChanges(status=Status.SNOOZED, snoozed_until=later))["snoozed_until"] == later


def test_agents_take_and_release_but_supervisors_assign_anyone() -> None:
    assert plan(TicketChanges(assignee_id="ana", has_assignee=True)) == {"assignee_id": "ana"}
    with pytest.raises(Forbidden):
        plan(TicketChanges(assignee_id="ben", has_assignee=True))
    bens = TicketState(Status.OPEN, Priority.NORMAL, "ben", None, (), 3)
    with pytest.raises(Forbidden):
        plan(TicketChanges(assignee_id="ana", has_assignee=True), state=bens)
    assert plan(TicketChanges(assignee_id="ana", has_assignee=True), Role.SUPERVISOR, bens) == {
        "assignee_id": "ana"
    }
    anas = TicketState(Status.OPEN, Priority.NORMAL, "ana", None, (), 3)
    assert plan(TicketChanges(assignee_id=None, has_assignee=True), state=anas) == {
        "assignee_id": None
    }


def test_no_op_changes_plan_nothing_and_tags_are_normalized() -> None:
    assert plan(TicketChanges(status=Status.OPEN, priority=Priority.NORMAL, tags=("VIP ",))) == {}
    assert normalize_tags(["Billing", "billing", " Refund"]) == ("billing", "refund")
    with pytest.raises(Invalid):
        normalize_tags(["x" * 51])


def test_a_stale_version_is_a_conflict_carrying_the_current_state() -> None:
    check_version(3, 3, {"version": 3})
    with pytest.raises(Conflict) as err:
        check_version(2, 3, {"version": 3})
    assert err.value.details == {"current": {"version": 3}}


def test_a_snoozed_ticket_gets_a_new_wake_up_time_only_in_the_future() -> None:
    tomorrow, later = NOW + timedelta(days=1), NOW + timedelta(days=3)
    snoozed = TicketState(Status.SNOOZED, Priority.NORMAL, None, None, (), 5, tomorrow)
    assert plan(TicketChanges(snoozed_until=later), state=snoozed) == {"snoozed_until": later}
    assert plan(TicketChanges(snoozed_until=tomorrow), state=snoozed) == {}
    with pytest.raises(Invalid, match="future"):
        plan(TicketChanges(snoozed_until=NOW - timedelta(minutes=1)), state=snoozed)
    with pytest.raises(Invalid, match="snoozed ticket"):
        plan(TicketChanges(snoozed_until=later))  # an open ticket has no wake-up time


def test_a_wake_up_time_is_kept_in_utc_to_the_millisecond() -> None:
    lisbon_noon = datetime(2026, 11, 24, 13, 0, 0, 123456, tzinfo=timezone(timedelta(hours=1)))
    planned = plan(TicketChanges(status=Status.SNOOZED, snoozed_until=lisbon_noon))
    assert planned["snoozed_until"] == datetime(2026, 11, 24, 12, 0, 0, 123000, tzinfo=UTC)
    assert planned["snoozed_until"].tzinfo is UTC
