"""Records live presence, viewing and typing in Redis, for clients that load them over HTTP."""

from __future__ import annotations

from typing import Literal

from realtime.presence import CollisionStore, PresenceStore


class RedisPresenceSink:
    def __init__(self, presence: PresenceStore, collision: CollisionStore) -> None:
        self.presence = presence
        self.collision = collision

    async def set_presence(
        self, ws: str, user_id: str, conn_id: str, state: Literal["online", "away"], ttl: float
    ) -> None:
        await self.presence.heartbeat(ws, user_id, conn_id, state, ttl=ttl)

    async def set_viewing(
        self, ws: str, ticket_id: str, user_id: str, on: bool, ttl: float
    ) -> None:
        await self.collision.set_viewing(ws, ticket_id, user_id, on, ttl=ttl)

    async def set_typing(self, ws: str, ticket_id: str, user_id: str, on: bool, ttl: float) -> None:
        await self.collision.set_typing(ws, ticket_id, user_id, on, ttl=ttl)

    async def disconnect(self, ws: str, user_id: str, conn_id: str) -> None:
        await self.presence.disconnect(ws, user_id, conn_id)
