"""One contract, two brokers: MemoryBroker in-process, RedisBroker on the suite's real Redis."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import msgspec
import pytest
import redis.asyncio as aioredis

from realtime.broker import Broker, Reconnect
from realtime.events import Event, Signal, SignalData
from realtime.memory_broker import MemoryBroker, replay_after
from realtime.redis_broker import RedisBroker, reconnect_delay
from tests.events import message_event, number_of

MakeBroker = Callable[..., Awaitable[Broker]]
ALL = 10_000  # a replay limit no test reaches


def make_event(ws: str, n: int, *, id: str = "") -> Event:
    return message_event(n, ws=ws, ticket="ticket-1", id=id)


class Recorder:
    """What one process's handlers were given, and a way to wait until it is enough."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.signals: list[Signal] = []
        self.reconnects: list[Reconnect] = []
        self._changed = asyncio.Condition()

    async def on_event(self, event: Event) -> None:
        self.events.append(event)
        await self._notify()

    async def on_signal(self, signal: Signal) -> None:
        self.signals.append(signal)
        await self._notify()

    async def on_reconnect(self, info: Reconnect) -> None:
        self.reconnects.append(info)
        await self._notify()

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def until(self, check: Callable[[], bool]) -> None:
        async with asyncio.timeout(5), self._changed:
            await self._changed.wait_for(check)

    def attach(self, broker: Broker) -> Recorder:
        broker.on_event(self.on_event)
        broker.on_signal(self.on_signal)
        broker.on_reconnect(self.on_reconnect)
        return self


@pytest.fixture(params=["memory", "redis"])
async def make_broker(request: pytest.FixtureRequest) -> AsyncIterator[MakeBroker]:
    """Brokers of one "deployment": with `peer=True`, another process's broker on the same
    backend (for MemoryBroker, which is one process by definition, the same instance)."""
    started: list[Broker] = []
    prefix = f"t{uuid.uuid4().hex[:10]}"
    url = request.getfixturevalue("redis_url") if request.param == "redis" else ""

    async def make(*, log_size: int = 10_000, peer: bool = False) -> Broker:
        if request.param == "memory":
            if peer and started:
                return started[0]
            broker: Broker = MemoryBroker(log_size=log_size)
        else:
            broker = RedisBroker(url, log_size=log_size, key_prefix=prefix)
        await broker.start()
        started.append(broker)
        return broker

    yield make
    for broker in started:
        await broker.close()


async def test_seq_increases_by_one_per_workspace_independently(make_broker: MakeBroker) -> None:
    broker = await make_broker()
    seqs: dict[str, list[int]] = {"ws-a": [], "ws-b": []}
    for n, ws in enumerate(["ws-a", "ws-b", "ws-a", "ws-a", "ws-b"]):
        published = await broker.publish(make_event(ws, n))
        assert published is not None
        seqs[ws].append(published.seq)

    assert seqs == {"ws-a": [1, 2, 3], "ws-b": [1, 2]}
    assert await broker.last_seq("ws-a") == 3
    assert await broker.last_seq("ws-b") == 2
    assert await broker.last_seq("ws-never-used") == 0


async def test_replay_returns_exactly_the_events_after_since(make_broker: MakeBroker) -> None:
    broker = await make_broker()
    published = [await broker.publish(make_event("ws", n)) for n in range(5)]
    await broker.publish(make_event("other-ws", 99))

    replay = await broker.replay("ws", 2, ALL)

    assert replay.complete
    assert replay.last_seq == 5
    assert replay.events == published[2:]
    assert [number_of(e) for e in replay.events] == [2, 3, 4]
    assert (await broker.replay("ws", 0, ALL)).events == published
    up_to_date = await broker.replay("ws", 5, ALL)
    assert (up_to_date.events, up_to_date.complete) == ([], True)


async def test_replay_past_the_retained_log_asks_for_resync(make_broker: MakeBroker) -> None:
    broker = await make_broker(log_size=10)
    for n in range(300):
        await broker.publish(make_event("ws", n))

    trimmed = await broker.replay("ws", 0, ALL)
    recent = await broker.replay("ws", 295, ALL)

    assert (trimmed.complete, trimmed.events, trimmed.last_seq) == (False, [], 300)
    assert recent.complete
    assert [e.seq for e in recent.events] == [296, 297, 298, 299, 300]


async def test_since_beyond_the_log_asks_for_resync(make_broker: MakeBroker) -> None:
    # A client that saw seq 7 of a log that no longer exists (restarted dev process, flushed
    # Redis) must not be told it is up to date.
    broker = await make_broker()
    await broker.publish(make_event("ws", 1))
    await broker.publish(make_event("ws", 2))

    assert not (await broker.replay("ws", 7, ALL)).complete
    assert not (await broker.replay("fresh-ws", 3, ALL)).complete
    assert not (await broker.replay("ws", 2**70, ALL)).complete


async def test_replay_gives_up_to_limit_events_and_more_asks_for_resync(
    make_broker: MakeBroker,
) -> None:
    broker = await make_broker()
    published = [await broker.publish(make_event("ws", n)) for n in range(10)]

    exactly = await broker.replay("ws", 6, 4)
    one_more = await broker.replay("ws", 5, 4)
    up_to_date = await broker.replay("ws", 10, 0)

    assert (exactly.complete, exactly.events) == (True, published[6:])
    assert (one_more.complete, one_more.events, one_more.last_seq) == (False, [], 10)
    assert (up_to_date.complete, up_to_date.events) == (True, [])
    assert not (await broker.replay("ws", 9, 0)).complete


async def test_republished_event_id_reaches_clients_once(make_broker: MakeBroker) -> None:
    broker = await make_broker()
    seen = Recorder().attach(await make_broker(peer=True))

    first = await broker.publish(make_event("ws", 1, id="evt-1"))
    retry = await broker.publish(make_event("ws", 1, id="evt-1"))
    next_ = await broker.publish(make_event("ws", 2, id="evt-2"))
    await seen.until(lambda: len(seen.events) == 2)

    assert first is not None
    assert next_ is not None
    assert retry is None
    assert (first.seq, next_.seq) == (1, 2)
    assert [e.id for e in (await broker.replay("ws", 0, ALL)).events] == ["evt-1", "evt-2"]
    await asyncio.sleep(0.05)
    assert [e.id for e in seen.events] == ["evt-1", "evt-2"]


async def test_the_broker_says_which_event_ids_it_has_published(make_broker: MakeBroker) -> None:
    broker = await make_broker()
    await broker.publish(make_event("ws", 1, id="evt-1"))
    await broker.publish(make_event("ws", 2, id="evt-2"))

    assert await broker.published("ws", ["evt-1", "evt-2"])
    assert await broker.published("ws", [])
    assert not await broker.published("ws", ["evt-1", "evt-3"])  # one of them is not out
    assert not await broker.published("other-ws", ["evt-1"])  # ids are per workspace


async def test_events_without_id_are_never_deduplicated(make_broker: MakeBroker) -> None:
    broker = await make_broker()
    a = await broker.publish(make_event("ws", 1))
    b = await broker.publish(make_event("ws", 1))
    assert a is not None
    assert b is not None
    assert (a.seq, b.seq) == (1, 2)


async def test_every_process_gets_every_event_once_in_order(make_broker: MakeBroker) -> None:
    publisher = await make_broker()
    here = Recorder().attach(publisher)
    there = Recorder().attach(await make_broker(peer=True))

    async def publish_many(worker: int) -> None:
        for n in range(50):
            ws = "ws-a" if n % 2 else "ws-b"
            await publisher.publish(make_event(ws, n, id=f"w{worker}-{n}"))

    await asyncio.gather(*(publish_many(w) for w in range(4)))
    await here.until(lambda: len(here.events) >= 200)
    await there.until(lambda: len(there.events) >= 200)
    await asyncio.sleep(0.05)  # room for a stray duplicate to show up

    for got in (here.events, there.events):
        assert len(got) == 200
        assert {e.id for e in got} == {f"w{w}-{n}" for w in range(4) for n in range(50)}
        for ws in ("ws-a", "ws-b"):
            assert [e.seq for e in got if e.ws == ws] == list(range(1, 101))
    replayed = await publisher.replay("ws-a", 0, ALL)
    assert replayed.events == [e for e in there.events if e.ws == "ws-a"]


async def test_signals_are_delivered_but_never_replayed(make_broker: MakeBroker) -> None:
    broker = await make_broker()
    seen = Recorder().attach(await make_broker(peer=True))
    typing = Signal(ws="ws", type="typing", data=SignalData(user="agent-1", on=True), ticket="t-1")

    await broker.signal(typing)
    await seen.until(lambda: bool(seen.signals))

    assert seen.signals == [typing]
    assert seen.events == []
    assert await broker.last_seq("ws") == 0
    assert (await broker.replay("ws", 0, ALL)).events == []


async def test_failing_handler_does_not_stop_delivery(make_broker: MakeBroker) -> None:
    broker = await make_broker()

    async def broken(event: Event) -> None:
        raise RuntimeError("handler bug")

    broker.on_event(broken)
    seen = Recorder().attach(broker)
    await broker.publish(make_event("ws", 1))
    await broker.publish(make_event("ws", 2))
    await seen.until(lambda: len(seen.events) == 2)


# RedisBroker only: what happens when its pub/sub connection drops.


@pytest.fixture
def prefix() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def pair(redis_url: str, prefix: str) -> AsyncIterator[tuple[RedisBroker, RedisBroker]]:
    subscriber = RedisBroker(redis_url, key_prefix=prefix)
    publisher = RedisBroker(redis_url, key_prefix=prefix)
    await subscriber.start()
    await publisher.start()
    yield subscriber, publisher
    await subscriber.close()
    await publisher.close()


async def kill_subscriber(redis: aioredis.Redis, broker: RedisBroker) -> None:
    clients: list[dict[str, Any]] = await redis.client_list(_type="pubsub")
    ids = [c["id"] for c in clients if c["name"] == broker.client_name]
    assert ids
    for client_id in ids:
        await redis.client_kill_filter(_id=client_id)


async def test_events_published_while_disconnected_are_recovered(
    pair: tuple[RedisBroker, RedisBroker], redis_client: aioredis.Redis
) -> None:
    subscriber, publisher = pair
    seen = Recorder().attach(subscriber)
    await publisher.publish(make_event("ws", 0))
    await seen.until(lambda: len(seen.events) == 1)

    await kill_subscriber(redis_client, subscriber)
    for n in range(1, 20):
        await publisher.publish(make_event("ws", n))
    await seen.until(lambda: bool(seen.reconnects))
    await publisher.publish(make_event("ws", 20))
    await seen.until(lambda: len(seen.events) >= 21)
    await asyncio.sleep(0.05)

    assert [e.seq for e in seen.events] == list(range(1, 22))
    assert seen.reconnects == [Reconnect(recovered=frozenset({"ws"}), lost=frozenset())]
    assert subscriber.reconnects == 1


async def test_reconnect_after_the_log_was_reset_reports_the_workspace_lost(
    pair: tuple[RedisBroker, RedisBroker], redis_client: aioredis.Redis, prefix: str
) -> None:
    subscriber, publisher = pair
    seen = Recorder().attach(subscriber)
    for n in range(3):
        await publisher.publish(make_event("ws", n))
    await seen.until(lambda: len(seen.events) == 3)

    await redis_client.delete(f"{prefix}:{{ws:ws}}:seq", f"{prefix}:{{ws:ws}}:log")
    await kill_subscriber(redis_client, subscriber)
    await seen.until(lambda: bool(seen.reconnects))
    restarted = await publisher.publish(make_event("ws", 100))
    await seen.until(lambda: len(seen.events) == 4)

    assert seen.reconnects == [Reconnect(recovered=frozenset(), lost=frozenset({"ws"}))]
    assert restarted is not None
    assert seen.events[-1] == restarted  # the new log's seq 1 is not mistaken for a duplicate


async def test_a_lost_counter_never_reuses_a_seq(
    pair: tuple[RedisBroker, RedisBroker], redis_client: aioredis.Redis, prefix: str
) -> None:
    _, publisher = pair
    for n in range(3):
        await publisher.publish(make_event("ws", n))

    await redis_client.delete(f"{prefix}:{{ws:ws}}:seq")
    after = await publisher.publish(make_event("ws", 3))

    assert after is not None
    assert after.seq == 4
    assert await publisher.last_seq("ws") == 4
    assert [e.seq for e in (await publisher.replay("ws", 0, ALL)).events] == [1, 2, 3, 4]


# Pure rules.


def test_replay_after_is_complete_only_without_holes() -> None:
    retained = [msgspec.structs.replace(make_event("ws", n), seq=n) for n in (4, 5, 6)]

    assert replay_after(3, 6, retained, ALL).complete
    assert [e.seq for e in replay_after(4, 6, retained, ALL).events] == [5, 6]
    assert not replay_after(2, 6, retained, ALL).complete  # seq 3 already trimmed
    assert replay_after(2, 6, retained, ALL).events == []  # never a tail with a hole before it
    assert not replay_after(7, 6, retained, ALL).complete  # a log from another epoch
    assert replay_after(6, 6, retained, ALL) == replay_after(6, 6, [], ALL)
    assert replay_after(0, 0, [], ALL).complete
    assert replay_after(3, 6, retained, 3).complete
    too_many = replay_after(3, 6, retained, 2)
    assert (too_many.complete, too_many.events, too_many.last_seq) == (False, [], 6)


def test_reconnect_delay_grows_to_a_cap_with_jitter() -> None:
    delays = [reconnect_delay(attempt) for attempt in range(20)]
    assert all(0 < d <= 5.0 for d in delays)
    assert delays[0] <= 0.05
    assert delays[-1] >= 2.5
