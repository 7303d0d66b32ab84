"""Live counts for the inbox views, and the supervisor's dashboard."""

from __future__ import annotations

from app.api.endpoint import Api, Call
from app.domain.roles import Action
from app.schemas.dashboard import Dashboard, TicketCounts
from app.services import dashboard

api = Api()


@api.op(
    "GET",
    "/tickets/counts",
    summary="How many tickets each view, status, team, channel and tag holds",
    tag="tickets",
    response=TicketCounts,
)
async def ticket_counts(call: Call) -> TicketCounts:
    call.agent.require(Action.WORK_TICKETS)
    seq = await call.runtime.relay.broker.last_seq(call.agent.workspace_id)
    return await dashboard.ticket_counts(
        call.runtime.views,
        call.runtime.tickets_memo,
        call.agent.workspace_id,
        call.agent.user_id,
        seq,
    )


@api.op(
    "GET",
    "/dashboard",
    summary="Queues, longest waits, agents' load and today's figures (supervisors and up)",
    tag="dashboard",
    response=Dashboard,
    errors=(403,),
)
async def supervisor_dashboard(call: Call) -> Dashboard:
    call.agent.require(Action.VIEW_DASHBOARD)
    seq = await call.runtime.relay.broker.last_seq(call.agent.workspace_id)
    return await dashboard.dashboard(
        call.runtime.views,
        call.runtime.tickets_memo,
        call.agent.workspace_id,
        call.runtime.presence,
        seq,
    )
