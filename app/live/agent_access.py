"""What an agent's socket may subscribe to and see."""

from __future__ import annotations

from app.auth.principal import Principal
from app.documents import Team, Ticket
from app.domain.roles import RANK, Action, Role, can
from app.services.ids import require_id
from realtime.events import (
    ArticleCreated,
    ArticleDeleted,
    ArticleUpdated,
    Event,
    Signal,
    SignalType,
)
from realtime.signals import ALL_SIGNALS

STATIC_TOPICS = frozenset({"inbox", "presence"})


class AgentAccess:
    """Agents see every ticket of their workspace; a team topic is for the team's members
    (supervisors and up may watch any team); a ticket topic needs a ticket of this workspace."""

    def __init__(self, principal: Principal, *, read_only: bool = False) -> None:
        self.principal = principal
        # A cancelled workspace is read-only: its agents read live, and signal nothing.
        self.sends: frozenset[SignalType] = frozenset() if read_only else ALL_SIGNALS
        self.user_id = principal.user_id
        self.display_name = principal.name
        self.workspace_id = principal.workspace_id
        self.credential = principal.credential

    async def can_subscribe(self, topic: str) -> str | None:
        if topic in STATIC_TOPICS:
            return None
        kind, _, ident = topic.partition(":")
        ws = require_id(self.workspace_id, "workspace")
        if kind == "ticket" and ident:
            oid = _oid(ident)
            found = oid and await Ticket.find_one(Ticket.id == oid, Ticket.workspace_id == ws)
            return None if found else "not_found"
        if kind == "team" and ident:
            oid = _oid(ident)
            if not oid or not await Team.find_one(Team.id == oid, Team.workspace_id == ws):
                return "not_found"
            in_team = ident in self.principal.team_ids
            senior = RANK[self.principal.role] >= RANK[Role.SUPERVISOR]
            return None if in_team or senior else "forbidden"
        return "unknown_topic"

    def view(self, event: Event) -> Event | None:
        if event.ws != self.workspace_id:
            return None
        if (
            isinstance(event, ArticleCreated | ArticleUpdated | ArticleDeleted)
            and event.data.article.status == "draft"
            and not can(self.principal.role, Action.MANAGE_KB)
        ):
            return None  # drafts are for the people who write articles
        return event

    def view_signal(self, signal: Signal) -> Signal | None:
        return signal if signal.ws == self.workspace_id else None


def _oid(value: str) -> object | None:
    try:
        return require_id(value, "id")
    except Exception:
        return None
