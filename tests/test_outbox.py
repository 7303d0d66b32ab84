"""A process that dies between the store write and the publish loses no event; the sweep finds
it from the write's mark, never by scanning a collection, and delivers nothing twice."""

from collections.abc import Sequence
from datetime import timedelta

import pytest
from bson import ObjectId
from starlette.applications import Starlette

from app.documents import Ticket
from app.outbox import MARKS, EventRelay
from realtime.events import Event
from tests.apiclient import runtime_of, sign_up


async def marks_of(relay: EventRelay, ticket_id: str) -> list[bytes]:
    return [m for m in await relay.redis.zrange(MARKS, 0, -1) if ticket_id.encode() in m]


async def test_an_event_whose_writer_died_before_publishing_is_swept_out_once(
    app: Starlette, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = await sign_up(app)
    ws = (await owner.get("/me")).json()["workspace"]["id"]
    created = (await owner.post("/tickets", json={"subject": "Crash test"})).json()
    relay = runtime_of(app).relay
    before = await relay.broker.last_seq(ws)

    async def dies_before_publishing(events: Sequence[Event]) -> None:
        return None

    # The write happens (the change and its event, in one update); the process "dies" before
    # it publishes.
    with monkeypatch.context() as patch:
        patch.setattr(relay, "publish", dies_before_publishing)
        changed = await owner.patch(
            f"/tickets/{created['id']}", json={"version": 1, "priority": "urgent"}
        )
    assert changed.status_code == 200
    assert await relay.broker.last_seq(ws) == before  # nothing published yet
    assert await marks_of(relay, created["id"])  # but the write left its mark

    assert await relay.sweep(older_than=timedelta(0)) == 1
    replay = await relay.broker.replay(ws, before, 100)
    assert [e.type for e in replay.events] == ["ticket.updated"]
    assert replay.events[0].data.ticket.priority == "urgent"  # type: ignore[union-attr]
    assert await marks_of(relay, created["id"]) == []

    # A second sweep (say, from another worker at the same moment) publishes nothing again.
    assert await relay.sweep(older_than=timedelta(0)) == 0
    assert await relay.broker.last_seq(ws) == before + 1
    await owner.aclose()


async def test_a_published_events_mark_is_cleared_without_reading_the_store(
    app: Starlette,
) -> None:
    owner = await sign_up(app)
    ws = (await owner.get("/me")).json()["workspace"]["id"]
    relay = runtime_of(app).relay
    created = (await owner.post("/tickets", json={"subject": "Published at once"})).json()
    published = await relay.broker.last_seq(ws)
    assert len(await marks_of(relay, created["id"])) == 1

    assert await relay.sweep(older_than=timedelta(hours=1)) == 0  # too young to look at
    assert len(await marks_of(relay, created["id"])) == 1
    assert await relay.sweep(older_than=timedelta(0)) == 0  # published: nothing to recover

    assert await marks_of(relay, created["id"]) == []
    assert await relay.broker.last_seq(ws) == published  # nothing was delivered twice
    await owner.aclose()


async def test_a_document_keeps_only_its_last_event_once_the_rest_is_published(
    app: Starlette,
) -> None:
    owner = await sign_up(app)
    created = (await owner.post("/tickets", json={"subject": "Busy ticket"})).json()
    version = created["version"]
    for status in ("pending", "open", "pending"):
        patched = await owner.patch(
            f"/tickets/{created['id']}", json={"version": version, "status": status}
        )
        assert patched.status_code == 200
        version = patched.json()["version"]

    stored = await Ticket.get_pymongo_collection().find_one({"_id": ObjectId(created["id"])})
    assert stored is not None
    assert [e["data"]["ticket"]["version"] for e in stored["outbox"]] == [version]
    await owner.aclose()


async def test_an_unpublished_event_stays_queued_behind_a_new_one(
    app: Starlette, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = await sign_up(app)
    ws = (await owner.get("/me")).json()["workspace"]["id"]
    created = (await owner.post("/tickets", json={"subject": "Redis hiccup"})).json()
    relay = runtime_of(app).relay
    before = await relay.broker.last_seq(ws)

    async def publish_fails(events: Sequence[Event]) -> None:
        return None

    with monkeypatch.context() as patch:
        patch.setattr(relay, "publish", publish_fails)
        first = await owner.patch(f"/tickets/{created['id']}", json={"version": 1, "tags": ["a"]})
    second = await owner.patch(f"/tickets/{created['id']}", json={"version": 2, "tags": ["b"]})
    assert (first.status_code, second.status_code) == (200, 200)

    stored = await Ticket.get_pymongo_collection().find_one({"_id": ObjectId(created["id"])})
    assert stored is not None
    assert [e["data"]["ticket"]["tags"] for e in stored["outbox"]] == [["a"], ["b"]]
    await relay.sweep(older_than=timedelta(0))
    replay = await relay.broker.replay(ws, before, 100)
    # The second was published at once, the first late, by the sweep; each once.
    assert [e.data.ticket.tags for e in replay.events] == [["b"], ["a"]]  # type: ignore[union-attr]
    await owner.aclose()
