"""What every action shares: its dependencies and the way it stamps an event."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from app.auth.principal import Principal
from app.documents.common import utcnow
from app.outbox import EventRelay, new_event_id
from realtime.events import Actor, EventBase

if TYPE_CHECKING:
    from app.blobs.store import BlobStore
    from app.jobs.timers import Timers
    from app.kb.engine import KnowledgeBase
    from app.search.index import SearchIndex
    from app.views.store import ViewStore

E = TypeVar("E", bound=EventBase)

SYSTEM = Actor(kind="system")


@dataclass(frozen=True)
class Deps:
    relay: EventRelay
    timers: Timers | None = None  # where follow-ups (snooze wake-ups) are scheduled
    views: ViewStore | None = None  # the inbox views the relay keeps (app/views)
    search: SearchIndex | None = None  # the keyword index the relay keeps (app/search)
    blobs: BlobStore | None = None  # where attachments' bytes are kept (app/blobs)
    kb: KnowledgeBase | None = None  # knowledge-base lookups and embedding (app/kb)


def agent_actor(principal: Principal) -> Actor:
    return Actor(kind="agent", id=principal.user_id, name=principal.name)


def stamp(
    kind: Callable[..., E], *, ws: object, actor: Actor, data: Any, ticket: object = None
) -> E:
    """A new event of `kind`, not yet published (its seq comes from the broker)."""
    return kind(
        ws=str(ws),
        actor=actor,
        at=utcnow(),
        ticket=str(ticket) if ticket is not None else None,
        id=new_event_id(),
        data=data,
    )
