"""Who is online, and who is viewing or replying to a ticket, as the live signals left it."""

from __future__ import annotations

import msgspec

from app.api.endpoint import Api, Call
from app.domain.roles import Action
from app.services.tickets import get_ticket
from app.services.workspaces import list_members

api = Api()


class MemberPresence(msgspec.Struct):
    user_id: str
    name: str
    status: str  # online | away | offline


class TicketCollision(msgspec.Struct):
    ticket_id: str
    viewing: list[str]
    typing: list[str]


@api.op(
    "GET",
    "/presence",
    summary="Every member's online / away / offline status",
    tag="presence",
    response=list[MemberPresence],
)
async def presence(call: Call) -> list[MemberPresence]:
    snapshot = await call.runtime.presence.snapshot(call.agent.workspace_id)
    return [
        MemberPresence(str(user.id), user.name, snapshot.get(str(user.id), "offline"))
        for user, _ in await list_members(call.agent.workspace_id)
        if user.active
    ]


@api.op(
    "GET",
    "/tickets/{ticket_id}/collision",
    summary="Agents viewing or typing a reply on a ticket right now",
    tag="presence",
    response=TicketCollision,
    errors=(404,),
)
async def collision(call: Call) -> TicketCollision:
    call.agent.require(Action.WORK_TICKETS)
    ticket = await get_ticket(call.agent.workspace_id, call.path("ticket_id"))
    ws, tid = call.agent.workspace_id, str(ticket.id)
    return TicketCollision(
        ticket_id=tid,
        viewing=await call.runtime.collision.viewers(ws, tid),
        typing=await call.runtime.collision.typers(ws, tid),
    )
