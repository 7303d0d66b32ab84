"""Counts for the inbox views and the supervisor's dashboard.

They are read from the views Tandem keeps in Redis as events happen (app/views): sizes of
sets, the head of the waiting view, today's day views — a few ms whatever the workspace
holds. While a workspace's views are being rebuilt, the same figures come from a few
aggregations over the store instead, once per event seq per process."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from beanie import PydanticObjectId

from app.documents import Team, Ticket, Workspace
from app.documents.common import utcnow
from app.domain import metrics
from app.domain import views as view_rules
from app.domain.metrics import ACTIVE, Group, Tally
from app.domain.tickets import Status
from app.domain.views import ListFilter
from app.schemas.common import iso
from app.schemas.dashboard import (
    AgentLoad,
    Dashboard,
    Hourly,
    Queue,
    TeamQueue,
    TicketCounts,
    Today,
    Waiting,
)
from app.schemas.tickets import ticket_out
from app.seqmemo import SeqMemo
from app.services.ids import require_id
from app.services.workspaces import list_members
from app.views.rebuild import request_rebuild
from app.views.store import ViewStore
from realtime.events import TicketView
from realtime.presence import PresenceStore

WAITING_SHOWN = 10


async def groups(ws: PydanticObjectId) -> list[Group]:
    pipeline: list[dict[str, Any]] = [
        {"$match": {"workspace_id": ws}},
        {
            "$group": {
                "_id": {
                    "status": "$status",
                    "assignee_id": "$assignee_id",
                    "team_id": "$team_id",
                    "channel": "$channel",
                },
                "count": {"$sum": 1},
            }
        },
    ]
    rows = await Ticket.get_pymongo_collection().aggregate(pipeline)
    return [
        Group(
            status=row["_id"]["status"],
            assignee_id=row["_id"].get("assignee_id"),
            team_id=row["_id"].get("team_id"),
            channel=row["_id"]["channel"],
            count=row["count"],
        )
        async for row in rows
    ]


async def active_tags(ws: PydanticObjectId) -> dict[str, int]:
    pipeline: list[dict[str, Any]] = [
        {"$match": {"workspace_id": ws, "status": {"$in": [s.value for s in ACTIVE]}}},
        {"$unwind": "$tags"},
        {"$group": {"_id": "$tags", "count": {"$sum": 1}}},
    ]
    rows = await Ticket.get_pymongo_collection().aggregate(pipeline)
    return {row["_id"]: row["count"] async for row in rows}


@dataclass(frozen=True)
class WorkspaceTickets:
    """The grouped counts of a workspace's tickets at one event seq."""

    groups: list[Group]
    tags: dict[str, int]


TicketsMemo = SeqMemo[WorkspaceTickets]


async def workspace_tickets(memo: TicketsMemo, ws: PydanticObjectId, seq: int) -> WorkspaceTickets:
    async def read() -> WorkspaceTickets:
        return WorkspaceTickets(groups=await groups(ws), tags=await active_tags(ws))

    return await memo.get(str(ws), seq, read)


async def counted_tickets(
    views: ViewStore, memo: TicketsMemo, ws: PydanticObjectId, me: str, seq: int
) -> tuple[Tally, dict[str, int]]:
    """The workspace's counts (with `me`'s view) and its active tickets per tag."""
    if await views.is_built(str(ws)):
        return view_rules.tally(await views.counts(str(ws)), me)
    await request_rebuild(views, str(ws))
    tickets = await workspace_tickets(memo, ws, seq)
    return metrics.tally(tickets.groups, me), dict(tickets.tags)


async def ticket_counts(
    views: ViewStore, memo: TicketsMemo, workspace_id: str, user_id: str, seq: int
) -> TicketCounts:
    ws = require_id(workspace_id, "workspace")
    tally, tags = await counted_tickets(views, memo, ws, user_id, seq)
    return TicketCounts(
        seq=seq,
        views=dict(tally.views),
        status=dict(tally.status),
        teams=dict(tally.teams),
        channels=dict(tally.channels),
        tags=tags,
    )


def waiting_out(ticket: TicketView, now: datetime) -> Waiting:
    assert ticket.waiting_since is not None
    since = datetime.fromisoformat(ticket.waiting_since)
    return Waiting(
        ticket_id=ticket.id,
        number=ticket.number,
        subject=ticket.subject,
        status=ticket.status.value,
        assignee_id=ticket.assignee_id,
        version=ticket.version,
        waiting_since=iso(metrics.aware(since)) or "",
        age_seconds=metrics.age_seconds(since, now),
    )


async def longest_waiting(
    views: ViewStore, ws: PydanticObjectId, built: bool, now: datetime
) -> list[Waiting]:
    """Open tickets whose customer waits for a reply, longest wait first."""
    if built:
        wanted = ListFilter(status=Status.OPEN.value, order="waiting")
        tickets, _ = await views.page(str(ws), wanted, None, WAITING_SHOWN)
        return [waiting_out(t, now) for t in tickets]
    raw = await (
        Ticket.get_pymongo_collection()
        .find(
            {"workspace_id": ws, "status": Status.OPEN.value, "waiting_since": {"$ne": None}},
            {"outbox": 0, "activity": 0},
        )
        .sort("waiting_since", 1)
        .limit(WAITING_SHOWN)
        .to_list()
    )
    return [waiting_out(ticket_out(Ticket.model_validate(r)), now) for r in raw]


def team_queues(teams: list[Team], counted: Tally) -> list[TeamQueue]:
    names = {str(t.id): t.name for t in teams}
    queues = [
        TeamQueue(team_id=tid, name=name, count=counted.teams[tid]) for tid, name in names.items()
    ]
    if counted.teams[""]:
        queues.append(TeamQueue(team_id=None, name="No team", count=counted.teams[""]))
    return sorted(queues, key=lambda q: (-q.count, q.name))


async def today_from_views(
    views: ViewStore, ws: PydanticObjectId, day: metrics.Day
) -> tuple[Today, Hourly]:
    """Today's figures from the day views: a count per local hour (a few dozen ZCOUNTs),
    and the response times of the tickets first answered today for the median."""
    spans = metrics.hour_spans(day)
    bounds = [(start, end) for _, start, end in spans]
    created, resolved, answered = await asyncio.gather(
        views.day_counts(str(ws), "created", bounds),
        views.day_counts(str(ws), "resolved", bounds),
        views.day_members(str(ws), "answered", day.start, day.end),
    )
    chart = Hourly(created=[0] * 24, resolved=[0] * 24)
    for (hour, _, _), made, done in zip(spans, created, resolved, strict=True):
        chart.created[hour] += made
        chart.resolved[hour] += done
    figures = Today(
        since=iso(day.start) or "",
        timezone=day.tz.key,
        created=sum(created),
        resolved=sum(resolved),
        median_first_response_seconds=metrics.median_of(
            float(member.partition("|")[0]) for member in answered
        ),
    )
    return figures, chart


async def today(ws: PydanticObjectId, day: metrics.Day) -> tuple[Today, Hourly]:
    start = day.start
    collection = Ticket.get_pymongo_collection()
    fields = {"created_at": 1, "resolved_at": 1, "first_response_at": 1}
    created, resolved, answered = await asyncio.gather(
        *(
            collection.find({"workspace_id": ws, when: {"$gte": start}}, fields).to_list()
            for when in ("created_at", "resolved_at", "first_response_at")
        )
    )
    figures = Today(
        since=iso(start) or "",
        timezone=day.tz.key,
        created=len(created),
        resolved=len(resolved),
        median_first_response_seconds=metrics.median_seconds(
            (r["created_at"], r["first_response_at"]) for r in answered
        ),
    )
    chart = Hourly(
        created=metrics.hourly((r["created_at"] for r in created), day),
        resolved=metrics.hourly((r["resolved_at"] for r in resolved), day),
    )
    return figures, chart


async def workspace_today(
    views: ViewStore, ws: PydanticObjectId, built: bool, now: datetime
) -> tuple[Today, Hourly]:
    """Today's figures for the calendar day where the workspace is."""
    workspace = await Workspace.get(ws)
    tz = metrics.zone(workspace.timezone if workspace else "UTC")
    day = metrics.local_day(now, tz)
    return await (today_from_views(views, ws, day) if built else today(ws, day))


async def dashboard(
    views: ViewStore, memo: TicketsMemo, workspace_id: str, presence: PresenceStore, seq: int
) -> Dashboard:
    ws = require_id(workspace_id, "workspace")
    now = utcnow()
    built = await views.is_built(workspace_id)
    # Independent reads, run together: the dashboard is refetched on every event.
    (counted, _), waiting, online, members, teams, (figures, chart) = await asyncio.gather(
        counted_tickets(views, memo, ws, "", seq),
        longest_waiting(views, ws, built, now),
        presence.snapshot(workspace_id),
        list_members(workspace_id),
        Team.find(Team.workspace_id == ws).to_list(),
        workspace_today(views, ws, built, now),
    )
    agents = [
        AgentLoad(
            user_id=str(user.id),
            name=user.name,
            role=membership.role.value,
            presence=online.get(str(user.id), "offline"),
            open_tickets=counted.assignees[str(user.id)],
        )
        for user, membership in members
        if user.active
    ]
    return Dashboard(
        seq=seq,
        generated_at=iso(now) or "",
        queue=Queue(
            status={s.value: counted.status[s.value] for s in ACTIVE},
            teams=team_queues(teams, counted),
            channels=dict(counted.channels),
            unassigned=counted.views["unassigned"],
        ),
        oldest_waiting=waiting[0] if waiting else None,
        waiting=waiting,
        agents=sorted(agents, key=lambda a: (a.presence == "offline", a.name)),
        today=figures,
        hourly=chart,
    )
