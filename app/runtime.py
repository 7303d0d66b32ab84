"""Everything a request handler needs, built once at start-up and kept on `app.state`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis
from pymongo import AsyncMongoClient

from app.actions.base import Deps
from app.auth.sessions import SessionCodec
from app.auth.socket_tokens import SocketTokens
from app.auth.throttle import LoginThrottle
from app.auth.visitor_tokens import VisitorTokens
from app.live.presence_sink import RedisPresenceSink
from app.outbox import EventRelay
from app.search.index import SearchIndex
from app.seqmemo import SeqMemo
from app.services.dashboard import WorkspaceTickets
from app.settings import Settings
from app.views.store import ViewStore
from realtime.hub import Hub
from realtime.presence import CollisionStore, PresenceStore


@dataclass
class Runtime:
    settings: Settings
    sessions: SessionCodec
    socket_tokens: SocketTokens
    visitor_tokens: VisitorTokens
    store: AsyncMongoClient[dict[str, Any]]
    redis: aioredis.Redis
    relay: EventRelay
    deps: Deps  # what actions write with: the relay, the worker's timers
    login_throttle: LoginThrottle
    presence: PresenceStore
    collision: CollisionStore
    presence_sink: RedisPresenceSink
    hub: Hub
    # Grouped ticket counts per workspace, recomputed only when its event seq moves.
    tickets_memo: SeqMemo[WorkspaceTickets] = field(default_factory=SeqMemo)

    @property
    def search(self) -> SearchIndex:
        """The keyword index the relay keeps up to date (app/search)."""
        assert self.deps.search is not None
        return self.deps.search

    @property
    def views(self) -> ViewStore:
        """The inbox views the relay keeps up to date (app/views)."""
        assert self.deps.views is not None
        return self.deps.views
