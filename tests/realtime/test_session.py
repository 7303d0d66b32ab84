"""The protocol without the socket: frames in, frames out, on a real MemoryBroker."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis

from realtime.access import Authorizer
from realtime.events import Event, Signal
from realtime.memory_broker import MemoryBroker
from realtime.presence import CollisionStore, PresenceStore
from realtime.session import Limits, Session
from tests.events import ticket_event
from tests.realtime.helpers import (
    WS,
    StorePresence,
    agent,
    as_dicts,
    frame,
    make_event,
    publish,
    seqs,
    visitor,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def broker() -> AsyncIterator[MemoryBroker]:
    broker = MemoryBroker()
    await broker.start()
    yield broker
    await broker.close()


def session_for(broker: MemoryBroker, principal: Authorizer | None = None, **kw: Any) -> Session:
    return Session(broker=broker, authorizer=principal or agent(), **kw)


async def send(session: Session, kind: str, **fields: Any) -> list[dict[str, Any]]:
    return as_dicts(await session.handle_text(frame(kind, **fields)))


def live(session: Session, events: list[Event]) -> list[int]:
    """What the hub would push: the seqs of the events the session accepts, in order."""
    return [e.seq for e in events if session.offer(e) is not None]


async def test_hello_replays_missed_events_in_order_then_continues_live(
    broker: MemoryBroker,
) -> None:
    await publish(broker, 5)
    session = session_for(broker)

    out = await send(session, "hello", since=2, topics=["inbox"])
    later = await publish(broker, 2)

    assert out[0] == {"type": "ack", "for": "hello", "seq": 5, "replayed": 3}
    assert seqs(out) == [3, 4, 5]
    assert [f["prev"] for f in out[1:]] == [2, 3, 4]
    assert live(session, later) == [6, 7]


async def test_hello_without_since_starts_live_from_the_current_seq(broker: MemoryBroker) -> None:
    await publish(broker, 3)
    session = session_for(broker)

    out = await send(session, "hello", topics=["inbox"])
    later = await publish(broker, 1)

    assert out == [{"type": "ack", "for": "hello", "seq": 3, "replayed": 0}]
    assert live(session, later) == [4]
    assert session.prev_seq == 3


async def test_missed_events_gone_from_the_log_answer_resync() -> None:
    small = MemoryBroker(log_size=3)
    await publish(small, 10)
    session = session_for(small)

    out = await send(session, "hello", since=2, topics=["inbox"])
    later = await publish(small, 1)

    assert out == [
        {"type": "ack", "for": "hello", "seq": 10, "replayed": 0},
        {"type": "resync", "seq": 10},
    ]
    assert live(session, later) == [11]
    assert session.prev_seq == 10


async def test_a_client_from_a_reset_log_is_told_to_resync(broker: MemoryBroker) -> None:
    await publish(broker, 2)
    session = session_for(broker)

    out = await send(session, "hello", since=40, topics=["inbox"])

    assert out[1:] == [{"type": "resync", "seq": 2}]
    assert live(session, await publish(broker, 1)) == [3]


async def test_resume_sends_again_everything_after_the_clients_point(
    broker: MemoryBroker,
) -> None:
    session = session_for(broker)
    await send(session, "hello", topics=["inbox"])
    assert live(session, await publish(broker, 4)) == [1, 2, 3, 4]

    out = await send(session, "resume", since=2)

    assert out[0] == {"type": "ack", "for": "resume", "seq": 4, "replayed": 2}
    assert seqs(out) == [3, 4]
    assert live(session, await publish(broker, 1)) == [5]


async def test_an_event_is_never_sent_twice(broker: MemoryBroker) -> None:
    session = session_for(broker)
    await send(session, "hello", topics=["inbox"])
    events = await publish(broker, 3)

    assert live(session, events) == [1, 2, 3]
    assert live(session, events) == []
    out = await send(session, "resume", since=1)
    assert seqs(out) == [2, 3]
    assert live(session, events) == []


async def test_a_replayed_event_arriving_late_on_the_live_path_is_dropped(
    broker: MemoryBroker,
) -> None:
    # The live copy of an event can reach the process after a replay already read it from
    # the log (pub/sub is slower than a read). A handler that holds delivery makes it so.
    session = session_for(broker)
    release = asyncio.Event()
    sent: list[int] = []

    async def slow_fan_out(event: Event) -> None:
        await release.wait()
        if session.offer(event) is not None:
            sent.append(event.seq)

    broker.on_event(slow_fan_out)
    await send(session, "hello", topics=["inbox"])
    publishing = asyncio.gather(*(broker.publish(make_event(n)) for n in range(3)))
    await asyncio.sleep(0.01)  # all three are in the log; their live delivery is held
    assert await broker.last_seq(WS) == 3

    out = await send(session, "resume", since=0)
    release.set()
    await publishing
    await publish(broker, 1)

    assert seqs(out) + sent == [1, 2, 3, 4]


async def test_events_the_broker_skipped_are_caught_up_in_order(broker: MemoryBroker) -> None:
    session = session_for(broker)
    await send(session, "hello", topics=["inbox"])
    one, _lost, three, four = await publish(broker, 4)

    assert live(session, [one, three]) == [1]  # 2 was lost on the way (pub/sub dropped)
    assert session.behind
    assert live(session, [four]) == []  # held until the catch-up
    caught = as_dicts(await session.catch_up())

    assert seqs(caught) == [2, 3, 4]
    assert not session.behind
    assert live(session, await publish(broker, 1)) == [5]


async def test_only_subscribed_topics_are_delivered(broker: MemoryBroker) -> None:
    session = session_for(broker)
    await send(session, "hello", topics=["ticket:t2"])
    events = [
        *await publish(broker, 1, ticket="t1"),
        *await publish(broker, 1, ticket="t2"),
        *await publish(broker, 1, ticket="t1"),
        *await publish(broker, 1, ticket="t2"),
    ]

    assert live(session, events) == [2, 4]
    assert session.prev_seq == 2  # the socket got 2 before 4: 3 was never its to miss

    ack = await send(session, "subscribe", topic="ticket:t1", id="s1")
    assert ack == [{"type": "ack", "for": "subscribe", "id": "s1", "topic": "ticket:t1", "seq": 4}]
    assert live(session, await publish(broker, 1, ticket="t1")) == [5]

    await send(session, "unsubscribe", topic="ticket:t1", id="u1")
    assert live(session, await publish(broker, 1, ticket="t1")) == []


async def test_a_forbidden_topic_is_refused_and_delivers_nothing(broker: MemoryBroker) -> None:
    principal = agent()
    principal.forbidden.add("team:finance")
    session = session_for(broker, principal)
    hello = await send(session, "hello", topics=["team:finance"])

    refused = await send(session, "subscribe", topic="team:finance", id="s1")
    unknown = await send(session, "subscribe", topic="everything", id="s2")
    event = ticket_event(team_id="finance")
    published = await broker.publish(event)

    assert hello[1]["code"] == "forbidden"
    assert refused == [
        {
            "type": "error",
            "code": "forbidden",
            "message": "cannot subscribe to 'team:finance'",
            "id": "s1",
        }
    ]
    assert unknown[0]["code"] == "invalid_field"
    assert published is not None
    assert live(session, [published]) == []


async def test_a_visitor_never_receives_private_notes_or_other_conversations(
    broker: MemoryBroker,
) -> None:
    session = session_for(broker, visitor("t1"))
    await publish(broker, 1, ticket="t1")
    await publish(broker, 1, ticket="t1", private=True)
    await publish(broker, 1, ticket="t2")

    hello = await send(session, "hello", since=0, topics=["ticket:t1", "inbox"])
    later = [
        *await publish(broker, 1, ticket="t2"),
        *await publish(broker, 1, ticket="t1", private=True),
        *await publish(broker, 1, ticket="t1"),
    ]

    assert hello[1]["code"] == "forbidden"  # the inbox is for agents
    assert seqs(hello) == [1]
    assert live(session, later) == [6]
    assert session.prev_seq == 1


async def test_frames_other_than_hello_and_ping_wait_for_hello(broker: MemoryBroker) -> None:
    session = session_for(broker)

    assert await send(session, "ping", id="p") == [{"type": "pong", "id": "p"}]
    assert (await send(session, "subscribe", topic="inbox"))[0]["code"] == "bad_state"
    assert live(session, await publish(broker, 1)) == []
    await send(session, "hello")
    assert (await send(session, "hello"))[0]["code"] == "bad_state"


async def test_a_token_in_hello_authenticates_and_a_bad_one_closes(broker: MemoryBroker) -> None:
    principals = {"good": agent("agent-7")}

    async def authenticate(token: str) -> Authorizer | None:
        return principals.get(token)

    good = Session(broker=broker, authenticate=authenticate)
    bad = Session(broker=broker, authenticate=authenticate)

    assert (await send(good, "hello", token="good"))[0]["for"] == "hello"
    assert good.workspace_id == WS
    assert await send(bad, "hello", token="forged") == [
        {"type": "error", "code": "not_authenticated", "message": "sign in again"},
        {"close": 1008},
    ]
    assert await send(Session(broker=broker), "hello") == [
        {"type": "error", "code": "not_authenticated", "message": "sign in again"},
        {"close": 1008},
    ]


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("{oops", "bad_frame"),
        ('{"type": "dance"}', "unknown_type"),
        ('{"type": "resume", "since": "beginning"}', "invalid_field"),
    ],
)
async def test_a_malformed_frame_gets_an_error_and_the_session_goes_on(
    broker: MemoryBroker, raw: str, code: str
) -> None:
    session = session_for(broker)
    await send(session, "hello", topics=["inbox"])

    answer = as_dicts(await session.handle_text(raw))

    assert [(f["type"], f["code"]) for f in answer] == [("error", code)]
    assert await send(session, "ping") == [{"type": "pong"}]
    assert live(session, await publish(broker, 1)) == [1]


async def test_an_oversize_frame_closes_with_1009(broker: MemoryBroker) -> None:
    session = session_for(broker, limits=Limits(max_frame_bytes=1000))

    out = as_dicts(await session.handle_text(frame("ping", id="x" * 2000)))
    multibyte = as_dicts(await session.handle_text(frame("ping", id="é" * 600)))

    assert out == [
        {"type": "error", "code": "too_large", "message": "frames are limited to 1000 bytes"},
        {"close": 1009},
    ]
    assert multibyte[-1] == {"close": 1009}


async def test_flooding_is_rate_limited_then_closed_with_1008(broker: MemoryBroker) -> None:
    clock = Clock()
    limits = Limits(frames_per_second=5, frame_burst=5, strikes=3)
    session = session_for(broker, clock=clock, limits=limits)

    answers = [as_dicts(await session.handle_text(frame("ping"))) for _ in range(9)]
    clock.now += 1.0
    after_a_pause = await send(session, "ping")

    assert answers[:5] == [[{"type": "pong"}]] * 5
    assert [a[0].get("code") for a in answers[5:8]] == ["rate_limited"] * 3
    assert answers[8] == [{"close": 1008}]
    assert after_a_pause == [{"type": "pong"}]  # a client that slows down is served again


async def test_typing_and_viewing_reach_other_sockets_but_not_the_sender(
    broker: MemoryBroker,
) -> None:
    ada = session_for(broker, agent("ada"))
    bo = session_for(broker, agent("bo"))
    guest = session_for(broker, visitor("t2"))
    received: dict[str, list[Signal]] = {"ada": [], "bo": [], "guest": []}

    async def fan_out(signal: Signal) -> None:
        for name, s in (("ada", ada), ("bo", bo), ("guest", guest)):
            if s.offer_signal(signal) is not None:
                received[name].append(signal)

    broker.on_signal(fan_out)
    await send(ada, "hello", topics=["inbox"])
    await send(bo, "hello", topics=["ticket:t1"])
    await send(guest, "hello", topics=["ticket:t2"])

    assert await send(ada, "typing", ticket="t1", on=True) == []
    assert await send(bo, "viewing", ticket="t1", on=True) == []

    assert [(s.type, s.data.user, s.data.on) for s in received["bo"]] == [("typing", "ada", True)]
    assert received["bo"][0].data.expires_in == 6.0
    assert [(s.type, s.data.user) for s in received["ada"]] == [("viewing", "bo")]
    assert received["guest"] == []
    refused = await send(guest, "typing", ticket="t1", on=True)
    assert refused[0]["code"] == "forbidden"


async def test_closing_withdraws_viewing_and_presence_from_the_store(
    broker: MemoryBroker, redis_client: aioredis.Redis
) -> None:
    prefix = f"t{id(broker)}"
    presence = PresenceStore(redis_client, key_prefix=prefix)
    collisions = CollisionStore(redis_client, key_prefix=prefix)
    ada = session_for(broker, agent("ada"), presence=StorePresence(presence, collisions))
    watcher = session_for(broker, agent("bo"))
    seen: list[Signal] = []

    async def fan_out(signal: Signal) -> None:
        if watcher.offer_signal(signal) is not None:
            seen.append(signal)

    broker.on_signal(fan_out)
    await send(watcher, "hello", topics=["ticket:t1", "presence"])
    await send(ada, "hello")
    await send(ada, "presence", state="online")
    await send(ada, "viewing", ticket="t1", on=True)
    assert await collisions.viewers(WS, "t1") == ["ada"]
    assert await presence.status(WS, "ada") == "online"

    await ada.close()

    assert await collisions.viewers(WS, "t1") == []
    assert await presence.status(WS, "ada") == "offline"
    assert [(s.type, s.data.on, s.data.state) for s in seen] == [
        ("presence", None, "online"),
        ("viewing", True, None),
        ("viewing", False, None),
        ("presence", None, "offline"),
    ]
