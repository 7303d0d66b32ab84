"""Presence and collision state on the suite's real Redis, plus the pure rules behind them."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import redis.asyncio as aioredis

from realtime.presence import (
    CollisionStore,
    Connection,
    PresenceStore,
    live_members,
    statuses,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def prefix() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture
def presence(redis_client: aioredis.Redis, prefix: str, clock: Clock) -> PresenceStore:
    return PresenceStore(redis_client, key_prefix=prefix, clock=clock)


@pytest.fixture
def collisions(redis_client: aioredis.Redis, prefix: str, clock: Clock) -> CollisionStore:
    return CollisionStore(redis_client, key_prefix=prefix, clock=clock)


# Pure rules.


def test_any_online_tab_makes_the_user_online() -> None:
    conns = [
        Connection("ann", "tab-1", "away", expires_at=20),
        Connection("ann", "tab-2", "online", expires_at=20),
        Connection("bob", "tab-1", "away", expires_at=20),
        Connection("bob", "tab-2", "away", expires_at=20),
    ]
    assert statuses(conns, now=10) == {"ann": "online", "bob": "away"}


def test_expired_connections_do_not_count() -> None:
    conns = [
        Connection("ann", "tab-1", "online", expires_at=10),  # expired exactly now
        Connection("ann", "tab-2", "away", expires_at=30),
        Connection("bob", "tab-1", "online", expires_at=5),
    ]
    assert statuses(conns, now=10) == {"ann": "away"}
    assert statuses(conns, now=40) == {}


def test_live_members_are_unexpired_and_sorted() -> None:
    assert live_members([("zoe", 20.0), ("ann", 11.0), ("bob", 10.0)], now=10.0) == ["ann", "zoe"]


# On Redis.


async def test_user_is_online_while_any_tab_is(presence: PresenceStore) -> None:
    await presence.heartbeat("ws", "ann", "tab-1", "online")
    await presence.heartbeat("ws", "ann", "tab-2", "away")
    await presence.heartbeat("ws", "bob", "tab-1", "away")
    assert await presence.snapshot("ws") == {"ann": "online", "bob": "away"}

    await presence.disconnect("ws", "ann", "tab-1")
    assert await presence.status("ws", "ann") == "away"

    await presence.heartbeat("ws", "ann", "tab-2", "online")
    await presence.disconnect("ws", "bob", "tab-1")
    assert await presence.snapshot("ws") == {"ann": "online"}
    assert await presence.status("ws", "bob") == "offline"


async def test_closing_one_tab_keeps_the_user_online(presence: PresenceStore) -> None:
    await presence.heartbeat("ws", "ann", "tab-1", "online")
    await presence.heartbeat("ws", "ann", "tab-2", "online")
    await presence.disconnect("ws", "ann", "tab-1")
    assert await presence.status("ws", "ann") == "online"


async def test_state_change_of_a_tab_replaces_its_old_state(presence: PresenceStore) -> None:
    await presence.heartbeat("ws", "ann", "tab-1", "online")
    await presence.heartbeat("ws", "ann", "tab-1", "away")
    assert await presence.status("ws", "ann") == "away"
    assert len(await presence.connections("ws")) == 1


async def test_tabs_of_a_crashed_process_expire_by_themselves(
    presence: PresenceStore, clock: Clock
) -> None:
    await presence.heartbeat("ws", "ann", "tab-1", "online", ttl=30)
    await presence.heartbeat("ws", "ann", "tab-2", "away", ttl=90)
    await presence.heartbeat("ws", "bob", "tab-1", "online", ttl=30)

    clock.now += 31
    assert await presence.snapshot("ws") == {"ann": "away"}

    await presence.heartbeat("ws", "bob", "tab-9", "online", ttl=30)  # bob comes back
    assert await presence.snapshot("ws") == {"ann": "away", "bob": "online"}
    # Writes trim what expired, so the set does not grow with every tab ever opened.
    assert {(c.user_id, c.conn_id) for c in await presence.connections("ws")} == {
        ("ann", "tab-2"),
        ("bob", "tab-9"),
    }


async def test_presence_expires_in_real_time_too(redis_client: aioredis.Redis, prefix: str) -> None:
    store = PresenceStore(redis_client, key_prefix=prefix)
    await store.heartbeat("ws", "ann", "tab-1", "online", ttl=0.3)
    assert await store.status("ws", "ann") == "online"
    await asyncio.sleep(0.4)
    assert await store.status("ws", "ann") == "offline"
    assert await redis_client.exists(f"{prefix}:{{ws:ws}}:presence") == 0


async def test_workspaces_are_isolated(presence: PresenceStore, collisions: CollisionStore) -> None:
    await presence.heartbeat("ws-a", "ann", "tab-1", "online")
    await collisions.set_viewing("ws-a", "t-1", "ann", on=True)
    await collisions.set_typing("ws-a", "t-1", "ann", on=True)

    assert await presence.snapshot("ws-b") == {}
    assert await collisions.viewers("ws-b", "t-1") == []
    assert await collisions.typers("ws-b", "t-1") == []


async def test_viewers_and_typers_of_a_ticket(collisions: CollisionStore) -> None:
    await collisions.set_viewing("ws", "t-1", "bob", on=True)
    await collisions.set_viewing("ws", "t-1", "ann", on=True)
    await collisions.set_viewing("ws", "t-2", "cid", on=True)
    await collisions.set_typing("ws", "t-1", "ann", on=True)
    assert await collisions.viewers("ws", "t-1") == ["ann", "bob"]
    assert await collisions.typers("ws", "t-1") == ["ann"]

    await collisions.set_viewing("ws", "t-1", "bob", on=False)
    await collisions.set_typing("ws", "t-1", "ann", on=False)
    assert await collisions.viewers("ws", "t-1") == ["ann"]
    assert await collisions.typers("ws", "t-1") == []
    assert await collisions.viewers("ws", "t-2") == ["cid"]


async def test_viewing_and_typing_expire_on_their_own(
    collisions: CollisionStore, clock: Clock
) -> None:
    await collisions.set_viewing("ws", "t-1", "ann", on=True)  # default ttl ~30 s
    await collisions.set_typing("ws", "t-1", "ann", on=True)  # default ttl ~6 s

    clock.now += 7
    assert await collisions.typers("ws", "t-1") == []
    assert await collisions.viewers("ws", "t-1") == ["ann"]

    clock.now += 30
    assert await collisions.viewers("ws", "t-1") == []


async def test_typing_expires_in_real_time(redis_client: aioredis.Redis, prefix: str) -> None:
    store = CollisionStore(redis_client, key_prefix=prefix)
    await store.set_typing("ws", "t-1", "ann", on=True, ttl=0.3)
    assert await store.typers("ws", "t-1") == ["ann"]
    await asyncio.sleep(0.4)
    assert await store.typers("ws", "t-1") == []
