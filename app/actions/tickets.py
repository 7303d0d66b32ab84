"""Ticket actions: open a ticket, change it, wake it from a snooze.

A change is planned by `app/domain/tickets.plan_update` from the ticket as read under its
document lock, written with one `findOneAndUpdate` (version predicate; the event and the
thread's timeline lines in the same update) and announced by one `ticket.updated` event.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec
from beanie import PydanticObjectId
from bson import ObjectId

from app.actions.base import SYSTEM, Deps, agent_actor, stamp
from app.actions.messages import NewMessage, post_message
from app.actions.numbers import next_number
from app.auth.principal import Principal
from app.documents import Ticket
from app.documents.common import utcnow
from app.documents.message import Author
from app.domain.errors import Conflict, Invalid
from app.domain.roles import Role
from app.domain.tickets import (
    Channel,
    Priority,
    Status,
    TicketChanges,
    TicketState,
    check_assignment,
    check_version,
    normalize_tags,
    plan_update,
)
from app.domain.timeline import change_lines
from app.outbox import lock_name, merged
from app.schemas.common import iso
from app.schemas.tickets import line_out, ticket_out
from app.services.ids import require_id
from app.services.tickets import read_ticket
from app.services.workspaces import member_name, team_exists
from realtime.events import (
    Actor,
    Direction,
    Kind,
    PreviousValues,
    TicketCreated,
    TicketData,
    TicketUpdated,
    TicketUpdatedData,
    event_to_document,
)

log = logging.getLogger("tandem.actions")
WAKE_JOB = "ticket.wake"


def wake_key(ticket_id: object) -> str:
    return f"wake:{ticket_id}"


async def open_ticket(
    deps: Deps,
    *,
    workspace_id: PydanticObjectId,
    subject: str,
    channel: Channel,
    actor: Actor,
    contact_id: PydanticObjectId | None = None,
    priority: Priority = Priority.NORMAL,
    tags: list[str] | None = None,
    team_id: str | None = None,
    assignee_id: str | None = None,
) -> Ticket:
    """Create a ticket (no message yet) and its `ticket.created` event, in one insert."""
    ticket = Ticket(
        id=PydanticObjectId(),
        workspace_id=workspace_id,
        number=await next_number(deps.relay.redis, workspace_id),
        subject=subject.strip(),
        channel=channel,
        contact_id=contact_id,
        priority=priority,
        tags=list(normalize_tags(tags or [])),
        team_id=team_id,
        assignee_id=assignee_id,
        rev=1,
    )
    event = stamp(
        TicketCreated,
        ws=workspace_id,
        actor=actor,
        ticket=ticket.id,
        data=TicketData(ticket_out(ticket)),
    )
    ticket.outbox = [event_to_document(event)]
    await deps.relay.mark(Ticket, ticket.id, event)
    await ticket.insert()
    await deps.relay.publish([event])
    return ticket


async def create_ticket(
    deps: Deps,
    principal: Principal,
    *,
    subject: str,
    contact_id: PydanticObjectId | None,
    priority: Priority,
    tags: list[str],
    team_id: str | None,
    assignee_id: str | None,
    first_message: tuple[str, Direction] | None,
) -> Ticket:
    """An agent's (or an API token's) new ticket: `ticket.created`, then `message.created`
    for a first message."""
    ws = require_id(principal.workspace_id, "workspace")
    await _check_refs(ws, assignee_id, team_id)
    if assignee_id is not None:
        check_assignment(principal.role, principal.user_id, None, assignee_id)
    actor = agent_actor(principal)
    ticket = await open_ticket(
        deps,
        workspace_id=ws,
        subject=subject,
        channel=Channel.API,
        actor=actor,
        contact_id=contact_id,
        priority=priority,
        tags=tags,
        team_id=team_id,
        assignee_id=assignee_id,
    )
    if first_message is not None:
        text, direction = first_message
        author = (
            Author(kind="contact", id=str(contact_id) if contact_id else None)
            if direction is Direction.IN
            else Author(kind="agent", id=principal.user_id, name=principal.name)
        )
        new = NewMessage(text=text, direction=direction, kind=Kind.MESSAGE, author=author)
        assert ticket.id is not None
        ticket = (await post_message(deps, ws, ticket.id, new)).ticket
    return ticket


async def _check_refs(
    ws: PydanticObjectId, assignee_id: str | None, team_id: str | None
) -> str | None:
    """Refuse an assignee or team from outside the workspace; returns the assignee's name."""
    name = None
    if assignee_id is not None:
        name = await member_name(ws, assignee_id)
        if name is None:
            raise Invalid("the assignee is not a member of this workspace", field="assignee_id")
    if team_id is not None and not await team_exists(ws, team_id):
        raise Invalid("no such team", field="team_id")
    return name


def state_of(ticket: Ticket) -> TicketState:
    return TicketState(
        status=ticket.status,
        priority=ticket.priority,
        assignee_id=ticket.assignee_id,
        team_id=ticket.team_id,
        tags=tuple(ticket.tags),
        version=ticket.version,
        snoozed_until=ticket.snoozed_until,
        resolved_at=ticket.resolved_at,
    )


def _previous(ticket: Ticket, fields: dict[str, Any]) -> PreviousValues:
    values: dict[str, Any] = {}
    for name in fields:
        value = getattr(ticket, name)
        values[name] = iso(value) if isinstance(value, datetime) else value
    return msgspec.convert(values, PreviousValues, from_attributes=False)


@dataclass(frozen=True)
class Change:
    """One planned ticket change: its event, the update that stores the change (the event's
    outbox entry is added to it under the lock), and the ticket after it."""

    event: TicketUpdated
    update: dict[str, Any]
    after: Ticket


def plan_change(
    ticket: Ticket, fields: dict[str, Any], actor: Actor, now: datetime, assignee_name: str | None
) -> Change:
    previous = _previous(ticket, fields)
    changed = sorted(fields)
    stored = {
        **fields,
        "updated_at": now,
        "version": ticket.version + 1,
        "rev": ticket.rev + 1,
        "changed_by": msgspec.to_builtins(actor),
    }
    after = Ticket.model_validate({**ticket.model_dump(by_alias=True), **stored})
    lines = [
        {"id": str(ObjectId()), "at": now, "actor": msgspec.to_builtins(actor), "text": text}
        for text in change_lines(
            actor,
            changed,
            status=after.status,
            assignee_id=after.assignee_id,
            assignee_name=assignee_name,
        )
    ]
    event = stamp(
        TicketUpdated,
        ws=ticket.workspace_id,
        actor=actor,
        ticket=ticket.id,
        data=TicketUpdatedData(
            ticket=ticket_out(after),
            changed=changed,
            previous=previous,
            lines=[line_out(str(ticket.id), line) for line in lines],
        ),
    )
    update: dict[str, Any] = {"$set": stored}
    if lines:
        update["$push"] = {"activity": {"$each": lines}}
    return Change(event, update, after)


async def change_ticket(
    deps: Deps,
    *,
    workspace_id: str,
    ticket_id: str,
    seen_version: int,
    changes: TicketChanges,
    actor: Actor,
    role: Role,
) -> Ticket:
    """Status, priority, assignee, team, tags or snooze time: one write, one event."""
    ws, tid = require_id(workspace_id, "workspace"), require_id(ticket_id, "ticket")
    assignee_name = await _check_refs(
        ws,
        changes.assignee_id if changes.has_assignee else None,
        changes.team_id if changes.has_team else None,
    )
    async with deps.relay.locks.hold(lock_name(Ticket, tid)):
        # Read under the lock: the version check, the plan and the write are one step.
        ticket = await read_ticket(ws, tid, outbox=True)
        check_version(seen_version, ticket.version, ticket_out(ticket))
        now = utcnow()
        fields = plan_update(state_of(ticket), changes, role=role, actor_id=actor.id or "", now=now)
        if not fields:
            return ticket
        change = plan_change(ticket, fields, actor, now, assignee_name)
        if "snoozed_until" in fields:
            await _schedule_wake(deps, change.after)
        update = merged(
            change.update, await deps.relay.outbox_update(Ticket, tid, ticket.outbox, change.event)
        )
        written = await Ticket.get_pymongo_collection().update_one(
            {"_id": tid, "workspace_id": ws, "version": ticket.version}, update
        )
    if written.matched_count != 1:
        raise RuntimeError(f"ticket {ticket_id} changed while its write lock was held")
    await deps.relay.publish([change.event])
    return change.after


async def _schedule_wake(deps: Deps, ticket: Ticket) -> None:
    """A snoozed ticket's wake-up is a timer in the worker, set before the write that snoozes
    it: a write that then fails leaves a timer that finds nothing to wake, whereas a timer set
    after it could be lost with a process that dies in between. A timer left from an earlier
    snooze, or for a ticket woken by hand, finds nothing to wake either (see `wake_ticket`)."""
    if deps.timers is None or ticket.status is not Status.SNOOZED or not ticket.snoozed_until:
        return
    payload = {"ws": str(ticket.workspace_id), "ticket": str(ticket.id)}
    payload["due"] = iso(ticket.snoozed_until) or ""
    await deps.timers.schedule(WAKE_JOB, payload, ticket.snoozed_until, key=wake_key(ticket.id))


async def wake_ticket(deps: Deps, *, workspace_id: str, ticket_id: str, due: str) -> bool:
    """Reopen a ticket whose snooze ended at `due`. A ticket snoozed again (another due time),
    reopened or resolved meanwhile is left alone. Returns whether it was woken."""
    ws, tid = require_id(workspace_id, "workspace"), require_id(ticket_id, "ticket")
    for _ in range(3):
        ticket = await read_ticket(ws, tid)
        if ticket.status is not Status.SNOOZED or iso(ticket.snoozed_until) != due:
            return False
        try:
            await change_ticket(
                deps,
                workspace_id=workspace_id,
                ticket_id=ticket_id,
                seen_version=ticket.version,
                changes=TicketChanges(status=Status.OPEN),
                actor=SYSTEM,
                role=Role.OWNER,
            )
            return True
        except Conflict:
            continue  # an unrelated change came first: look again
    return False
