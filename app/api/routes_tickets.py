"""Tickets and their messages."""

from __future__ import annotations

import msgspec

from app.actions import contacts as contact_actions
from app.actions import messages as message_actions
from app.actions import tickets as ticket_actions
from app.actions.attachments import kept, uploaded_by
from app.actions.base import agent_actor
from app.actions.messages import NewMessage
from app.actions.replies import checked_text, reply_options
from app.api.endpoint import Api, Call
from app.documents.message import Attachment, Author, Direction, Kind
from app.domain.errors import Invalid
from app.domain.roles import Action
from app.domain.tickets import TicketChanges
from app.domain.whatsapp import TemplateUse
from app.schemas.common import iso
from app.schemas.tickets import (
    MessageCreate,
    MessageCreated,
    ReplyOptionsOut,
    TemplateOut,
    TicketCreate,
    TicketDetail,
    TicketOut,
    TicketPage,
    TicketPatch,
    TicketQuery,
    message_out,
    ticket_out,
)
from app.services import contacts, tickets
from app.services.ids import require_id

api = Api()
T = "tickets"


@api.op(
    "GET",
    "/tickets",
    summary="List tickets with filters, newest or oldest first",
    tag=T,
    query=TicketQuery,
    response=TicketPage,
    errors=(404, 422),  # 404: a cursor or contact that names nothing
)
async def list_tickets(call: Call) -> TicketPage:
    call.agent.require(Action.WORK_TICKETS)
    seq = await call.runtime.relay.broker.last_seq(call.agent.workspace_id)
    items, cursor = await tickets.list_tickets(
        call.agent, call.query, call.runtime.views, call.runtime.search
    )
    return TicketPage(items=items, next_cursor=cursor, seq=seq)


@api.op(
    "POST",
    "/tickets",
    summary="Create a ticket, optionally with its first message",
    tag=T,
    body=TicketCreate,
    response=TicketOut,
    status=201,
    errors=(403, 404, 422),
)
async def create_ticket(call: Call) -> TicketOut:
    principal = call.agent
    principal.require(Action.WORK_TICKETS)
    body: TicketCreate = call.body
    ws = require_id(principal.workspace_id, "workspace")
    contact_id = None
    if body.contact is not None:
        ref = body.contact
        if ref.id:
            contact_id = (await contacts.get_contact(ws, ref.id)).id
        elif ref.email or ref.phone:
            kind, value = ("email", ref.email) if ref.email else ("phone", ref.phone)
            assert value is not None
            contact_id = (
                await contact_actions.find_or_create(
                    call.runtime.deps,
                    ws,
                    kind,
                    value,
                    actor=agent_actor(principal),
                    name=ref.name,
                )
            ).id
        else:
            raise Invalid("a contact is named by id, email or phone", field="contact")
    first = (body.message.text, Direction(body.message.direction)) if body.message else None
    ticket = await ticket_actions.create_ticket(
        call.runtime.deps,
        principal,
        subject=body.subject,
        contact_id=contact_id,
        priority=body.priority,
        tags=list(body.tags),
        team_id=body.team_id,
        assignee_id=body.assignee_id,
        first_message=first,
    )
    return ticket_out(ticket)


@api.op(
    "GET",
    "/tickets/{ticket_id}",
    summary="A ticket with its thread",
    tag=T,
    response=TicketDetail,
    errors=(404,),
)
async def get_ticket(call: Call) -> TicketDetail:
    call.agent.require(Action.WORK_TICKETS)
    seq = await call.runtime.relay.broker.last_seq(call.agent.workspace_id)
    ticket, messages = await tickets.detail(call.agent.workspace_id, call.path("ticket_id"))
    return TicketDetail(ticket=ticket_out(ticket), messages=messages, seq=seq)


@api.op(
    "PATCH",
    "/tickets/{ticket_id}",
    summary="Change status, priority, assignee, team or tags; names the version it saw",
    tag=T,
    body=TicketPatch,
    response=TicketOut,
    errors=(403, 404, 409, 422),
)
async def patch_ticket(call: Call) -> TicketOut:
    call.agent.require(Action.WORK_TICKETS)
    body: TicketPatch = call.body
    unset = msgspec.UNSET
    changes = TicketChanges(
        status=None if body.status is unset else body.status,
        priority=None if body.priority is unset else body.priority,
        assignee_id=None if body.assignee_id is unset else body.assignee_id,
        has_assignee=body.assignee_id is not unset,
        team_id=None if body.team_id is unset else body.team_id,
        has_team=body.team_id is not unset,
        tags=None if body.tags is unset else tuple(body.tags),
        snoozed_until=None if body.snoozed_until is unset else body.snoozed_until,
    )
    ticket = await ticket_actions.change_ticket(
        call.runtime.deps,
        workspace_id=call.agent.workspace_id,
        ticket_id=call.path("ticket_id"),
        seen_version=body.version,
        changes=changes,
        actor=agent_actor(call.agent),
        role=call.agent.role,
    )
    return ticket_out(ticket)


@api.op(
    "POST",
    "/tickets/{ticket_id}/messages",
    summary="Reply to the customer, or add a private note (kind=note)",
    tag=T,
    body=MessageCreate,
    response=MessageCreated,
    status=201,
    errors=(404, 409, 422),
)
async def post_message(call: Call) -> MessageCreated:
    principal = call.agent
    principal.require(Action.WORK_TICKETS)
    body: MessageCreate = call.body
    ws = require_id(principal.workspace_id, "workspace")
    ticket_id = require_id(call.path("ticket_id"), "ticket")
    text, template = body.text, None
    files = await _files(call, body.attachments)
    if body.kind == "message":
        chosen = body.template
        use = TemplateUse(chosen.name, chosen.language, tuple(chosen.params)) if chosen else None
        text, template = await checked_text(ws, ticket_id, body.text or "", use, bool(files))
    elif body.template is not None or not (text or files):
        raise Invalid("a note needs text, and takes no template", field="text")
    posted = await message_actions.post_message(
        call.runtime.deps,
        ws,
        ticket_id,
        NewMessage(
            text=text or "",
            direction=Direction.OUT,
            kind=Kind(body.kind),
            author=Author(kind="agent", id=principal.user_id, name=principal.name),
            client_id=body.client_id,
            template=template,
            attachments=tuple(files),
        ),
    )
    return MessageCreated(message=message_out(posted.message), ticket=ticket_out(posted.ticket))


class SeenIn(msgspec.Struct, forbid_unknown_fields=True):
    up_to: str  # the id of the customer's latest message the agent has in front of them


@api.op(
    "POST",
    "/tickets/{ticket_id}/seen",
    summary="I have the customer's messages up to this one in front of me: they are told "
    "'Seen' (only forward; an older point changes nothing)",
    tag=T,
    body=SeenIn,
    status=204,
    errors=(404, 422),
)
async def seen(call: Call) -> None:
    principal = call.agent
    principal.require(Action.WORK_TICKETS)
    body: SeenIn = call.body
    ticket = await tickets.read_ticket(
        require_id(principal.workspace_id, "workspace"),
        require_id(call.path("ticket_id"), "ticket"),
    )
    await message_actions.mark_seen(
        call.runtime.deps, ticket, require_id(body.up_to, "message"), principal
    )


@api.op(
    "GET",
    "/tickets/{ticket_id}/reply-options",
    summary="What a reply may be now: free text, or (WhatsApp, 24 h after the customer's "
    "last message) an approved template",
    tag=T,
    response=ReplyOptionsOut,
    errors=(404,),
)
async def ticket_reply_options(call: Call) -> ReplyOptionsOut:
    call.agent.require(Action.WORK_TICKETS)
    options = await reply_options(
        require_id(call.agent.workspace_id, "workspace"),
        require_id(call.path("ticket_id"), "ticket"),
    )
    return ReplyOptionsOut(
        channel=options.channel.value,
        free_text=options.free_text,
        window_closes_at=iso(options.window_closes_at),
        templates=[
            TemplateOut(t.name, t.language, t.body_text, t.param_count) for t in options.templates
        ],
        why=options.why,
    )


async def _files(call: Call, ids: list[str]) -> list[Attachment]:
    """The uploads a reply names: this agent's own, made within the last day."""
    if not ids:
        return []
    blobs = call.runtime.deps.blobs
    mine = await uploaded_by(call.runtime.redis, ids, f"agent:{call.agent.user_id}")
    if blobs is None or not mine:
        raise Invalid("attach files you uploaded in the last day", field="attachments")
    return await kept(blobs, call.agent.workspace_id, ids)
