from __future__ import annotations

import msgspec


class TicketCounts(msgspec.Struct):
    seq: int  # the workspace's event seq read before counting
    views: dict[str, int]  # mine, unassigned, all (active tickets)
    status: dict[str, int]  # every status, all tickets
    teams: dict[str, int]  # active tickets by team id ("" = no team)
    channels: dict[str, int]
    tags: dict[str, int]


class TeamQueue(msgspec.Struct):
    team_id: str | None
    name: str
    count: int


class Queue(msgspec.Struct):
    status: dict[str, int]  # open, pending, snoozed
    teams: list[TeamQueue]
    channels: dict[str, int]
    unassigned: int


class Waiting(msgspec.Struct):
    ticket_id: str
    number: int
    subject: str
    status: str
    assignee_id: str | None
    version: int
    waiting_since: str
    age_seconds: float


class AgentLoad(msgspec.Struct):
    user_id: str
    name: str
    role: str
    presence: str  # online | away | offline
    open_tickets: int


class Today(msgspec.Struct):
    since: str  # local midnight, in UTC
    timezone: str  # the workspace's
    created: int
    resolved: int
    median_first_response_seconds: float | None


class Hourly(msgspec.Struct):  # by local hour of the workspace's day
    created: list[int]
    resolved: list[int]


class Dashboard(msgspec.Struct):
    seq: int
    generated_at: str
    queue: Queue
    oldest_waiting: Waiting | None
    waiting: list[Waiting]
    agents: list[AgentLoad]
    today: Today
    hourly: Hourly
