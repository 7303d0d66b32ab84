"""Tickets: numbering, creation, listing with filters, and optimistic updates."""

from __future__ import annotations

import re
from typing import Any

import msgspec
from beanie import PydanticObjectId
from pymongo import ReturnDocument

from app.auth.principal import Principal
from app.documents import Counter, Message, Ticket, User
from app.documents.common import utcnow
from app.documents.message import Author, Direction, Kind
from app.domain.errors import Invalid, NotFound
from app.domain.tickets import (
    Channel,
    Priority,
    TicketChanges,
    TicketState,
    check_assignment,
    check_version,
    normalize_tags,
    plan_update,
)
from app.outbox import EventRelay, lock_name, outbox_entry
from app.schemas.tickets import TicketQuery, ticket_out
from app.services.ids import require_id
from app.services.messages import NewMessage, add_message
from app.services.workspaces import is_member, team_exists
from realtime.envelope import Actor


def agent_actor(principal: Principal) -> Actor:
    return Actor(kind="agent", id=principal.user_id, name=principal.name)


def agent_author(principal: Principal) -> Author:
    return Author(kind="agent", id=principal.user_id, name=principal.name)


def snapshot(ticket: Ticket) -> dict[str, Any]:
    return msgspec.to_builtins(ticket_out(ticket))  # type: ignore[no-any-return]


async def next_number(relay: EventRelay, workspace_id: PydanticObjectId) -> int:
    counter = f"{workspace_id}:tickets"
    async with relay.locks.hold(f"counters:{counter}"):
        raw = await Counter.get_pymongo_collection().find_one_and_update(
            {"_id": counter},
            {"$inc": {"value": 1}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
    assert raw is not None
    return int(raw["value"])


async def get_ticket(workspace_id: str, ticket_id: str) -> Ticket:
    ticket = await Ticket.find_one(
        Ticket.id == require_id(ticket_id, "ticket"),
        Ticket.workspace_id == require_id(workspace_id, "workspace"),
    )
    if ticket is None:
        raise NotFound("no such ticket")
    return ticket


async def validate_refs(ws: PydanticObjectId, assignee_id: str | None, team_id: str | None) -> None:
    if assignee_id is not None and not await is_member(ws, assignee_id):
        raise Invalid("the assignee is not a member of this workspace", field="assignee_id")
    if team_id is not None and not await team_exists(ws, team_id):
        raise Invalid("no such team", field="team_id")


async def open_ticket(
    relay: EventRelay,
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
        number=await next_number(relay, workspace_id),
        subject=subject.strip(),
        channel=channel,
        contact_id=contact_id,
        priority=priority,
        tags=list(normalize_tags(tags or [])),
        team_id=team_id,
        assignee_id=assignee_id,
    )
    ticket.outbox = [
        outbox_entry(
            str(workspace_id),
            "ticket.created",
            actor,
            {"ticket": snapshot(ticket)},
            ticket=str(ticket.id),
        )
    ]
    await ticket.insert()
    await relay.flush(Ticket, ticket)
    return ticket


async def create_ticket(
    relay: EventRelay,
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
    ws = require_id(principal.workspace_id, "workspace")
    await validate_refs(ws, assignee_id, team_id)
    if assignee_id is not None:
        check_assignment(principal.role, principal.user_id, None, assignee_id)
    ticket = await open_ticket(
        relay,
        workspace_id=ws,
        subject=subject,
        channel=Channel.API,
        actor=agent_actor(principal),
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
            else agent_author(principal)
        )
        _, ticket, _ = await add_message(
            relay,
            ticket,
            NewMessage(text=text, direction=direction, kind=Kind.MESSAGE, author=author),
        )
    return ticket


async def update_ticket(
    relay: EventRelay,
    principal: Principal,
    ticket_id: str,
    seen_version: int,
    changes: TicketChanges,
) -> Ticket:
    ticket = await get_ticket(principal.workspace_id, ticket_id)
    check_version(seen_version, ticket.version, snapshot(ticket))
    if changes.has_assignee or changes.has_team:
        await validate_refs(
            ticket.workspace_id,
            changes.assignee_id if changes.has_assignee else None,
            changes.team_id if changes.has_team else None,
        )
    async with relay.locks.hold(lock_name(Ticket, ticket.id)):
        # Read again under the lock: the version check and the write are now one step.
        ticket = await get_ticket(principal.workspace_id, ticket_id)
        check_version(seen_version, ticket.version, snapshot(ticket))
        state = TicketState(
            status=ticket.status,
            priority=ticket.priority,
            assignee_id=ticket.assignee_id,
            team_id=ticket.team_id,
            tags=tuple(ticket.tags),
            version=ticket.version,
            snoozed_until=ticket.snoozed_until,
        )
        now = utcnow()
        fields = plan_update(
            state, changes, role=principal.role, actor_id=principal.user_id, now=now
        )
        if not fields:
            return ticket
        previous = {k: getattr(ticket, k) for k in fields}
        actor = agent_actor(principal)
        fields.update(
            updated_at=now,
            version=ticket.version + 1,
            changed_by=msgspec.to_builtins(actor),
        )
        after = ticket.model_copy(update=fields)
        changed = sorted(previous)
        data = {
            "ticket": snapshot(after),
            "changed": changed,
            "previous": msgspec.to_builtins(previous),
        }
        entry = outbox_entry(
            principal.workspace_id, "ticket.updated", actor, data, ticket=ticket_id
        )
        raw = await Ticket.get_pymongo_collection().find_one_and_update(
            {"_id": ticket.id, "workspace_id": ticket.workspace_id, "version": seen_version},
            {"$set": fields, "$push": {"outbox": entry}},
            return_document=ReturnDocument.AFTER,
        )
    if raw is None:
        raise RuntimeError(f"ticket {ticket_id} changed while its write lock was held")
    updated: Ticket = Ticket.model_validate(raw)
    await relay.flush(Ticket, updated)
    await _system_notes(relay, principal, updated, changed, previous)
    return updated


async def _system_notes(
    relay: EventRelay,
    principal: Principal,
    ticket: Ticket,
    changed: list[str],
    previous: dict[str, Any],
) -> None:
    """The thread's timeline lines: "Ana set the status to resolved", "Ana assigned Ben"."""
    lines = []
    if "status" in changed:
        lines.append(f"{principal.name} set the status to {ticket.status.value}")
    if "assignee_id" in changed:
        assignee = (
            await User.get(require_id(ticket.assignee_id, "user")) if ticket.assignee_id else None
        )
        if assignee is None:
            lines.append(f"{principal.name} unassigned this ticket")
        elif ticket.assignee_id == principal.user_id:
            lines.append(f"{principal.name} took this ticket")
        else:
            lines.append(f"{principal.name} assigned this ticket to {assignee.name}")
    for line in lines:
        await add_message(
            relay,
            ticket,
            NewMessage(
                text=line,
                direction=Direction.OUT,
                kind=Kind.SYSTEM,
                author=Author(kind="system", id=principal.user_id, name=principal.name),
            ),
        )


def build_filter(principal: Principal, q: TicketQuery) -> dict[str, Any]:
    query: dict[str, Any] = {"workspace_id": require_id(principal.workspace_id, "workspace")}
    if q.status is not None:
        query["status"] = q.status.value
    if q.assignee == "me":
        query["assignee_id"] = principal.user_id
    elif q.assignee == "unassigned":
        query["assignee_id"] = None
    elif q.assignee:
        query["assignee_id"] = q.assignee
    if q.team:
        query["team_id"] = q.team
    if q.tag:
        query["tags"] = q.tag.strip().lower()
    if q.channel is not None:
        query["channel"] = q.channel.value
    if q.contact:
        query["contact_id"] = require_id(q.contact, "contact")
    if q.text:
        text = q.text.strip()
        ors: list[dict[str, Any]] = [{"subject": {"$regex": re.escape(text), "$options": "i"}}]
        if text.lstrip("#").isdigit():
            ors.append({"number": int(text.lstrip("#"))})
        query["$or"] = ors
    if q.cursor:
        op = "$lt" if q.order == "newest" else "$gt"
        query["_id"] = {op: require_id(q.cursor, "cursor")}
    return query


async def list_tickets(principal: Principal, q: TicketQuery) -> tuple[list[Ticket], str | None]:
    query = build_filter(principal, q)
    direction = -1 if q.order == "newest" else 1
    raw = await (
        Ticket.get_pymongo_collection()
        .find(query, {"outbox": 0})
        .sort("_id", direction)
        .limit(q.limit + 1)
        .to_list()
    )
    tickets = [Ticket.model_validate(r) for r in raw[: q.limit]]
    cursor = str(tickets[-1].id) if len(raw) > q.limit else None
    return tickets, cursor


async def thread(ticket: Ticket, *, include_notes: bool = True, limit: int = 1000) -> list[Message]:
    query: dict[str, Any] = {"workspace_id": ticket.workspace_id, "ticket_id": ticket.id}
    if not include_notes:
        query["kind"] = {"$ne": Kind.NOTE.value}
    raw = await (
        Message.get_pymongo_collection()
        .find(query, {"outbox": 0})
        .sort("_id", 1)
        .limit(limit)
        .to_list()
    )
    return [Message.model_validate(r) for r in raw]


async def record_event(
    relay: EventRelay, ticket: Ticket, type_: str, actor: Actor, data: dict[str, Any]
) -> None:
    """An event about a ticket that changes none of its fields (e.g. a read receipt)."""
    entry = outbox_entry(str(ticket.workspace_id), type_, actor, data, ticket=str(ticket.id))
    async with relay.locks.hold(lock_name(Ticket, ticket.id)):
        raw = await Ticket.get_pymongo_collection().find_one_and_update(
            {"_id": ticket.id, "workspace_id": ticket.workspace_id},
            {"$push": {"outbox": entry}},
            return_document=ReturnDocument.AFTER,
        )
    if raw is not None:
        await relay.flush(Ticket, raw)
