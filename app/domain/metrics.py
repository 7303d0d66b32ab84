"""Queue and day figures for views and the supervisor dashboard, from plain rows."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from app.domain.tickets import Status

# Tickets someone still has to do something about; the views and queues count only these.
ACTIVE = (Status.OPEN, Status.PENDING, Status.SNOOZED)


@dataclass(frozen=True)
class Group:
    """How many tickets share one status, assignee, team and channel."""

    status: str
    assignee_id: str | None
    team_id: str | None
    channel: str
    count: int


@dataclass
class Tally:
    views: Counter[str] = field(default_factory=Counter)
    status: Counter[str] = field(default_factory=Counter)
    teams: Counter[str] = field(default_factory=Counter)
    channels: Counter[str] = field(default_factory=Counter)
    assignees: Counter[str] = field(default_factory=Counter)


def tally(groups: Iterable[Group], me: str) -> Tally:
    """Every status counts in `status`; the rest count active tickets only. `teams` uses ""
    for tickets without a team."""
    out = Tally()
    for status in Status:
        out.status[status.value] = 0
    for key in ("mine", "unassigned", "all"):
        out.views[key] = 0
    active = {s.value for s in ACTIVE}
    for g in groups:
        out.status[g.status] += g.count
        if g.status not in active:
            continue
        out.views["all"] += g.count
        if g.assignee_id is None:
            out.views["unassigned"] += g.count
        else:
            out.assignees[g.assignee_id] += g.count
            if g.assignee_id == me:
                out.views["mine"] += g.count
        out.teams[g.team_id or ""] += g.count
        out.channels[g.channel] += g.count
    return out


def day_start(now: datetime) -> datetime:
    """Midnight UTC of `now`'s day: "today" on the dashboard."""
    return now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def hourly(times: Iterable[datetime], start: datetime) -> list[int]:
    """How many of `times` fall in each hour of the day that begins at `start`."""
    buckets = [0] * 24
    for t in times:
        offset = aware(t) - start
        if timedelta(0) <= offset < timedelta(days=1):
            buckets[int(offset.total_seconds() // 3600)] += 1
    return buckets


def median_seconds(pairs: Iterable[tuple[datetime, datetime]]) -> float | None:
    """The median of `end - start` in seconds, or None without any pair."""
    spans = [(aware(end) - aware(start)).total_seconds() for start, end in pairs]
    return round(statistics.median(spans), 1) if spans else None


def age_seconds(since: datetime, now: datetime) -> float:
    return round(max(0.0, (now - aware(since)).total_seconds()), 1)


def aware(value: datetime) -> datetime:
    """The store hands back naive UTC datetimes."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)
