"""Who is online, and who is viewing or typing on a ticket, shared by every process via Redis.

Every entry carries its own expiry time as its sorted-set score, so the connections of a
process that crashed simply stop counting: nothing has to sweep them. Expired entries are
trimmed on writes, and a key nobody refreshes expires as a whole.

    <prefix>:{ws:<id>}:presence               zset  member [user, conn, state] -> expires at
    <prefix>:{ws:<id>}:ticket:<tid>:viewing   zset  member user -> expires at
    <prefix>:{ws:<id>}:ticket:<tid>:typing    zset  member user -> expires at

Times are the writing process's clock (injectable for tests); they only need to agree across
processes to well within a TTL, which NTP gives.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from typing import Literal, cast

import msgspec
import redis.asyncio as aioredis
from redis.asyncio.client import Pipeline

State = Literal["online", "away"]
Status = Literal["online", "away", "offline"]
Clock = Callable[[], float]

_member_decoder = msgspec.json.Decoder(tuple[str, str, State])


class Connection(msgspec.Struct, frozen=True):
    """One heartbeat-kept connection (a browser tab) of a user."""

    user_id: str
    conn_id: str
    state: State
    expires_at: float


def statuses(connections: Iterable[Connection], now: float) -> dict[str, Status]:
    """Online if any live connection of the user is online, away if every live one is away.

    Users without a live connection are left out: absent means offline."""
    live = [c for c in connections if c.expires_at > now]
    result: dict[str, Status] = {c.user_id: "away" for c in live}
    result.update({c.user_id: "online" for c in live if c.state == "online"})
    return result


def live_members(scored: Iterable[tuple[str, float]], now: float) -> list[str]:
    """The members whose expiry is still ahead, sorted so every process lists them alike."""
    return sorted(member for member, expires_at in scored if expires_at > now)


def _member(user_id: str, conn_id: str, state: State) -> bytes:
    # JSON, so no separator character is ever ambiguous whatever the ids contain.
    return msgspec.json.encode([user_id, conn_id, state])


async def _scored(redis: aioredis.Redis, key: str) -> list[tuple[str, float]]:
    raw = await redis.zrange(key, 0, -1, withscores=True)
    # redis-py types zrange for all its flags at once; with scores it returns pairs.
    pairs = cast("list[tuple[bytes | str, float]]", raw)
    return [(m if isinstance(m, str) else m.decode(), float(score)) for m, score in pairs]


def _refresh_expiry(pipe: Pipeline, key: str, ttl: float, now: float) -> None:
    pipe.zremrangebyscore(key, "-inf", now)
    # The key outlives its longest-lived entry: set a TTL on a new key, otherwise only extend.
    ms = math.ceil(ttl * 1000)
    pipe.pexpire(key, ms, nx=True)
    pipe.pexpire(key, ms, gt=True)


class PresenceStore:
    def __init__(
        self, redis: aioredis.Redis, *, key_prefix: str = "tandem", clock: Clock = time.time
    ) -> None:
        self._redis = redis
        self._prefix = key_prefix
        self._clock = clock

    def _key(self, ws: str) -> str:
        return f"{self._prefix}:{{ws:{ws}}}:presence"

    async def heartbeat(
        self, ws: str, user_id: str, conn_id: str, state: State, ttl: float = 60.0
    ) -> None:
        now = self._clock()
        key = self._key(ws)
        other: State = "away" if state == "online" else "online"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zrem(key, _member(user_id, conn_id, other))
            pipe.zadd(key, {_member(user_id, conn_id, state): now + ttl})
            _refresh_expiry(pipe, key, ttl, now)
            await pipe.execute()

    async def disconnect(self, ws: str, user_id: str, conn_id: str) -> None:
        await self._redis.zrem(
            self._key(ws), _member(user_id, conn_id, "online"), _member(user_id, conn_id, "away")
        )

    async def connections(self, ws: str) -> list[Connection]:
        entries = await _scored(self._redis, self._key(ws))
        return [
            Connection(*_member_decoder.decode(member), expires_at=expires_at)
            for member, expires_at in entries
        ]

    async def snapshot(self, ws: str) -> dict[str, Status]:
        """Every user of `ws` who is online or away; anyone absent is offline."""
        return statuses(await self.connections(ws), self._clock())

    async def status(self, ws: str, user_id: str) -> Status:
        return (await self.snapshot(ws)).get(user_id, "offline")


class CollisionStore:
    """Who is viewing, and who is typing a reply on, a ticket: so two agents don't answer twice.

    Entries are per user, not per tab: a tab that turns viewing off clears the user until
    another of their tabs refreshes it, a few seconds later."""

    def __init__(
        self, redis: aioredis.Redis, *, key_prefix: str = "tandem", clock: Clock = time.time
    ) -> None:
        self._redis = redis
        self._prefix = key_prefix
        self._clock = clock

    def _key(self, ws: str, ticket_id: str, what: str) -> str:
        return f"{self._prefix}:{{ws:{ws}}}:ticket:{ticket_id}:{what}"

    async def set_viewing(
        self, ws: str, ticket_id: str, user_id: str, on: bool, ttl: float = 30.0
    ) -> None:
        await self._set(self._key(ws, ticket_id, "viewing"), user_id, on, ttl)

    async def set_typing(
        self, ws: str, ticket_id: str, user_id: str, on: bool, ttl: float = 6.0
    ) -> None:
        await self._set(self._key(ws, ticket_id, "typing"), user_id, on, ttl)

    async def viewers(self, ws: str, ticket_id: str) -> list[str]:
        return await self._live(self._key(ws, ticket_id, "viewing"))

    async def typers(self, ws: str, ticket_id: str) -> list[str]:
        return await self._live(self._key(ws, ticket_id, "typing"))

    async def _set(self, key: str, user_id: str, on: bool, ttl: float) -> None:
        if not on:
            await self._redis.zrem(key, user_id)
            return
        now = self._clock()
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zadd(key, {user_id: now + ttl})
            _refresh_expiry(pipe, key, ttl, now)
            await pipe.execute()

    async def _live(self, key: str) -> list[str]:
        return live_members(await _scored(self._redis, key), self._clock())
