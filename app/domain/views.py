"""Which inbox views a ticket belongs to, and which view answers a list query: plain rules.

A view is a sorted set of ticket ids named `<order>:<set>`. The orders:

    n   by number (creation): newest and oldest
    u   by `updated_at`: the most recently active first
    w   by `waiting_since`: longest waiting first; holds only tickets whose customer waits

The sets, each in every order (for `w`, only its waiting tickets):

    all            every ticket, any status
    s:<status>     one status
    active         open, pending and snoozed tickets
    a:<user id>    active tickets assigned to the user; `a:-` the unassigned ones
    t:<team id>    active tickets of the team; `t:-` those without a team
    c:<channel>    active tickets that came in on the channel
    g:<tag>        active tickets with the tag

The inbox counts are the sizes of the `n:` views. Beside them each ticket has a few day
placements (`d:<UTC date>:created|resolved|answered`) for today's figures on the dashboard,
kept only for recent days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from app.domain import metrics
from app.domain.errors import NotFound
from app.domain.metrics import Tally
from realtime.events import Status, TicketView

ACTIVE = frozenset(metrics.ACTIVE)  # the statuses the inbox counts as still to do
NONE = "-"  # the set of tickets without an assignee or team
DAYS_KEPT = 8  # day placements older than this are not made (and expire from Redis)

ORDER_PREFIX = {"newest": "n", "oldest": "n", "updated": "u", "waiting": "w"}
DESCENDING = {"newest": True, "oldest": False, "updated": True, "waiting": False}


@dataclass(frozen=True)
class Placement:
    """A ticket's entry in one view: the view's name, the member, its score."""

    view: str
    member: str
    score: float


def ms(moment: datetime) -> int:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return round(aware.timestamp() * 1000)


def parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def sets_of(ticket: TicketView) -> list[str]:
    """The sets (without order prefix) a ticket is in, by its status and fields."""
    names = ["all", f"s:{ticket.status.value}"]
    if ticket.status in ACTIVE:
        names += [
            "active",
            f"a:{ticket.assignee_id or NONE}",
            f"t:{ticket.team_id or NONE}",
            f"c:{ticket.channel.value}",
        ]
        names += [f"g:{tag}" for tag in sorted(set(ticket.tags))]
    return names


def day_of(moment: datetime) -> str:
    return (
        (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC).date().isoformat()
    )


def placements(ticket: TicketView, now: datetime) -> list[Placement]:
    """Every view entry of `ticket`: its sets in each order, and its recent day figures."""
    out: list[Placement] = []
    created = parse_time(ticket.created_at)
    updated = parse_time(ticket.updated_at) or created
    waiting = parse_time(ticket.waiting_since)
    for name in sets_of(ticket):
        out.append(Placement(f"n:{name}", ticket.id, ticket.number))
        if updated is not None:
            out.append(Placement(f"u:{name}", ticket.id, ms(updated)))
        if waiting is not None:
            out.append(Placement(f"w:{name}", ticket.id, ms(waiting)))
    oldest_day = now - timedelta(days=DAYS_KEPT)
    resolved = parse_time(ticket.resolved_at)
    answered = parse_time(ticket.first_response_at)
    if created is not None and created >= oldest_day:
        out.append(Placement(f"d:{day_of(created)}:created", ticket.id, ms(created)))
    if resolved is not None and resolved >= oldest_day:  # resolved, or closed since
        out.append(Placement(f"d:{day_of(resolved)}:resolved", ticket.id, ms(resolved)))
    if answered is not None and created is not None and answered >= oldest_day:
        # The member carries the response time, so the day's median needs no other read.
        seconds = round(max(0.0, (answered - created).total_seconds()), 1)
        out.append(
            Placement(f"d:{day_of(answered)}:answered", f"{seconds}|{ticket.id}", ms(answered))
        )
    return out


@dataclass(frozen=True)
class ListFilter:
    """A list query in view terms. `status` is None for any status; "active" for the
    active ones; else one status. `assignee` is a user id or NONE; `team` likewise."""

    status: str | None = None
    assignee: str | None = None
    team: str | None = None
    tag: str | None = None
    channel: str | None = None
    order: str = "newest"


def candidate_sets(f: ListFilter) -> list[str]:
    """The sets that hold every ticket the filter can match; the list walks the smallest and
    checks the rest of the filter on each ticket it meets."""
    dimensions = [
        f"a:{f.assignee}" if f.assignee else None,
        f"t:{f.team}" if f.team else None,
        f"g:{f.tag}" if f.tag else None,
        f"c:{f.channel}" if f.channel else None,
    ]
    named = [d for d in dimensions if d]
    active_only = f.status == "active" or (f.status is not None and Status(f.status) in ACTIVE)
    if f.status is None:
        return ["all"]
    status_set = "active" if f.status == "active" else f"s:{f.status}"
    # The dimension sets hold active tickets only: they answer active queries alone.
    return [*named, status_set] if active_only else [status_set]


def matches(ticket: TicketView, f: ListFilter) -> bool:
    if f.status == "active" and ticket.status not in ACTIVE:
        return False
    if f.status not in (None, "active") and ticket.status.value != f.status:
        return False
    if f.assignee and (ticket.assignee_id or NONE) != f.assignee:
        return False
    if f.team and (ticket.team_id or NONE) != f.team:
        return False
    if f.tag and f.tag not in ticket.tags:
        return False
    if f.channel and ticket.channel.value != f.channel:
        return False
    return not (f.order == "waiting" and not ticket.waiting_since)


@dataclass(frozen=True)
class Cursor:
    """Where a page ended: the score and member of the last ticket it passed."""

    score: int
    member: str

    def __str__(self) -> str:
        return f"{self.score}.{self.member}"


def parse_cursor(text: str) -> Cursor:
    """A malformed cursor is 404 like any id that does not exist."""
    score, _, member = text.partition(".")
    if not score.lstrip("-").isdigit() or len(member) != 24 or not _is_hex(member):
        raise NotFound("no such cursor")
    return Cursor(int(score), member)


def _is_hex(text: str) -> bool:
    return all(ch in "0123456789abcdef" for ch in text)


def tally(sizes: dict[str, int], me: str) -> tuple[Tally, dict[str, int]]:
    """The inbox counts from the `n:` views' sizes: the same figures `metrics.tally` gives
    from grouped store rows, and the active tickets per tag."""
    out = Tally()
    for status in Status:
        out.status[status.value] = sizes.get(f"n:s:{status.value}", 0)
    out.views["all"] = sizes.get("n:active", 0)
    out.views["unassigned"] = sizes.get(f"n:a:{NONE}", 0)
    out.views["mine"] = sizes.get(f"n:a:{me}", 0) if me else 0
    tags: dict[str, int] = {}
    for name, size in sizes.items():
        kind, _, value = name.removeprefix("n:").partition(":")
        if kind == "a" and value != NONE:
            out.assignees[value] = size
        elif kind == "t":
            out.teams["" if value == NONE else value] = size
        elif kind == "c":
            out.channels[value] = size
        elif kind == "g":
            tags[value] = size
    return out, tags
