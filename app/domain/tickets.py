"""Ticket rules: statuses and their transitions, assignment rights, optimistic versions."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from app.domain.errors import Conflict, Forbidden, Invalid
from app.domain.roles import Action, Role, can
from realtime.events import Channel, Priority, Status

__all__ = ["Channel", "Priority", "Status"]


# Closed is final: a customer writing again about a closed ticket starts a new one.
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.OPEN: frozenset({Status.PENDING, Status.SNOOZED, Status.RESOLVED, Status.CLOSED}),
    Status.PENDING: frozenset({Status.OPEN, Status.SNOOZED, Status.RESOLVED, Status.CLOSED}),
    Status.SNOOZED: frozenset({Status.OPEN, Status.PENDING, Status.RESOLVED, Status.CLOSED}),
    Status.RESOLVED: frozenset({Status.OPEN, Status.CLOSED}),
    Status.CLOSED: frozenset(),
}


def next_statuses(current: Status) -> list[Status]:
    """What a ticket in `current` may become, in the order the app offers them."""
    return [s for s in Status if s in TRANSITIONS[current]]


def check_transition(current: Status, new: Status) -> None:
    if new != current and new not in TRANSITIONS[current]:
        raise Invalid(
            f"a {current.value} ticket cannot become {new.value}",
            field="status",
            code="invalid_transition",
        )


def check_version(seen: int, current: int, current_state: Any) -> None:
    if seen != current:
        raise Conflict(
            f"the ticket changed since version {seen}; it is now at version {current}",
            code="stale_version",
            details={"current": current_state},
        )


@dataclass(frozen=True)
class TicketState:
    status: Status
    priority: Priority
    assignee_id: str | None
    team_id: str | None
    tags: tuple[str, ...]
    version: int
    snoozed_until: datetime | None = None
    resolved_at: datetime | None = None


@dataclass(frozen=True)
class TicketChanges:
    """What a client asked to change; `None` means "leave as is" except where `has_*` says."""

    status: Status | None = None
    priority: Priority | None = None
    assignee_id: str | None = None
    has_assignee: bool = False
    team_id: str | None = None
    has_team: bool = False
    tags: tuple[str, ...] | None = None
    snoozed_until: datetime | None = None


def normalize_tags(tags: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for tag in tags:
        clean = tag.strip().lower()
        if not clean or len(clean) > 50:
            raise Invalid("tags must be 1 to 50 characters", field="tags")
        seen.setdefault(clean, None)
    if len(seen) > 30:
        raise Invalid("a ticket has at most 30 tags", field="tags")
    return tuple(seen)


def stored_time(moment: datetime) -> datetime:
    """A client's time as the store keeps it: UTC, to the millisecond (BSON dates), so what a
    change announces is exactly what a later read finds."""
    utc = moment.astimezone(UTC)
    return utc.replace(microsecond=utc.microsecond // 1000 * 1000)


def plan_update(
    state: TicketState, changes: TicketChanges, *, role: Role, actor_id: str, now: datetime
) -> dict[str, Any]:
    """The fields to set for `changes`, after every rule; empty when nothing changes."""
    if changes.snoozed_until is not None:
        changes = replace(changes, snoozed_until=stored_time(changes.snoozed_until))
    out: dict[str, Any] = {}
    if changes.status is not None and changes.status != state.status:
        check_transition(state.status, changes.status)
        out["status"] = changes.status.value
        if changes.status is Status.SNOOZED:
            if changes.snoozed_until is None or changes.snoozed_until <= now:
                raise Invalid("snoozing needs a future snoozed_until", field="snoozed_until")
            out["snoozed_until"] = changes.snoozed_until
        elif state.snoozed_until is not None:
            out["snoozed_until"] = None
        done = changes.status in (Status.RESOLVED, Status.CLOSED)
        if done and not (state.resolved_at and state.status is Status.RESOLVED):
            # Closing a resolved ticket keeps the time it was resolved.
            out["resolved_at"] = now
        elif not done and state.resolved_at is not None:
            out["resolved_at"] = None
    elif changes.snoozed_until is not None:
        # A new wake-up time for a ticket that stays snoozed.
        if state.status is not Status.SNOOZED:
            raise Invalid("snoozed_until applies to a snoozed ticket", field="snoozed_until")
        if changes.snoozed_until <= now:
            raise Invalid("snoozing needs a future snoozed_until", field="snoozed_until")
        if changes.snoozed_until != state.snoozed_until:
            out["snoozed_until"] = changes.snoozed_until
    if changes.priority is not None and changes.priority != state.priority:
        out["priority"] = changes.priority.value
    if changes.has_assignee and changes.assignee_id != state.assignee_id:
        check_assignment(role, actor_id, state.assignee_id, changes.assignee_id)
        out["assignee_id"] = changes.assignee_id
    if changes.has_team and changes.team_id != state.team_id:
        out["team_id"] = changes.team_id
    if changes.tags is not None:
        tags = normalize_tags(changes.tags)
        if tags != state.tags:
            out["tags"] = list(tags)
    return out


def check_assignment(role: Role, actor_id: str, current: str | None, new: str | None) -> None:
    """Agents take unassigned tickets or hand back their own; handing work to others, or
    taking it from someone else, is a supervisor's move."""
    if can(role, Action.ASSIGN_OTHERS):
        return
    taking = new == actor_id and current is None
    releasing = new is None and current == actor_id
    if not (taking or releasing):
        raise Forbidden(
            "agents may take an unassigned ticket or release their own; "
            "a supervisor assigns others",
            code="assignment_forbidden",
        )
