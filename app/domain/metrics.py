"""Queue and day figures for views and the supervisor dashboard, from plain rows."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.domain.errors import Invalid
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


def zone(name: str) -> ZoneInfo:
    """An IANA time zone ("Europe/Lisbon"), or 422 naming the field."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise Invalid(
            f"{name!r} is not a known time zone (use an IANA name like Europe/Lisbon)",
            field="timezone",
        ) from None


@dataclass(frozen=True)
class Day:
    """A calendar day where the workspace is: from `start` up to `end`, both in UTC (23 or 25
    hours long when the clocks change)."""

    start: datetime
    end: datetime
    tz: ZoneInfo


def local_day(now: datetime, tz: ZoneInfo) -> Day:
    local = aware(now).astimezone(tz)
    midnight = datetime(local.year, local.month, local.day, tzinfo=tz)
    following = midnight.date() + timedelta(days=1)
    next_midnight = datetime(following.year, following.month, following.day, tzinfo=tz)
    return Day(midnight.astimezone(UTC), next_midnight.astimezone(UTC), tz)


def hourly(times: Iterable[datetime], day: Day) -> list[int]:
    """How many of `times` fall in each local hour (0-23) of `day`; the repeated hour of a
    clocks-back day counts in its one bucket."""
    buckets = [0] * 24
    for t in times:
        moment = aware(t)
        if day.start <= moment < day.end:
            buckets[moment.astimezone(day.tz).hour] += 1
    return buckets


def hour_spans(day: Day) -> list[tuple[int, datetime, datetime]]:
    """The day cut where its local clock turns an hour: (local hour, start, end) in UTC,
    23 to 25 spans (a clocks-back day has two spans for its repeated hour). Offsets are
    whole quarter hours everywhere, so the turns are found in 15-minute steps."""
    turns = [day.start]
    step = timedelta(minutes=15)
    moment = day.start + step
    while moment < day.end:
        if moment.astimezone(day.tz).minute == 0:
            turns.append(moment)
        moment += step
    ends = [*turns[1:], day.end]
    return [
        (start.astimezone(day.tz).hour, start, end) for start, end in zip(turns, ends, strict=True)
    ]


def median_seconds(pairs: Iterable[tuple[datetime, datetime]]) -> float | None:
    """The median of `end - start` in seconds, or None without any pair."""
    spans = [(aware(end) - aware(start)).total_seconds() for start, end in pairs]
    return round(statistics.median(spans), 1) if spans else None


def median_of(values: Iterable[float]) -> float | None:
    """The median, to a tenth, or None without any value."""
    seen = list(values)
    return round(statistics.median(seen), 1) if seen else None


def age_seconds(since: datetime, now: datetime) -> float:
    return round(max(0.0, (now - aware(since)).total_seconds()), 1)


def aware(value: datetime) -> datetime:
    """The store hands back naive UTC datetimes."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)
