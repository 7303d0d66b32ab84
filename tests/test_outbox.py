"""A process that dies between the store write and the publish loses no event; the sweep
trims what is published without delivering it twice."""

from datetime import timedelta

import msgspec
from bson import ObjectId
from starlette.applications import Starlette

from app.documents import Ticket
from app.documents.common import utcnow
from app.outbox import new_event_id
from realtime.events import event_to_document
from tests.apiclient import runtime_of, sign_up
from tests.events import ticket_event


async def test_sweep_publishes_what_a_crashed_writer_left_exactly_once(app: Starlette) -> None:
    owner = await sign_up(app)
    created = (await owner.post("/tickets", json={"subject": "Crash test"})).json()
    relay = runtime_of(app).relay
    ws = (await owner.get("/me")).json()["workspace"]["id"]
    await relay.sweep(older_than=timedelta(0))  # the creation's own event is out already
    before = await relay.broker.last_seq(ws)

    # The write happened (the change and its event, in one update) and then the process died.
    event = msgspec.structs.replace(
        ticket_event(ws=ws, ticket=created["id"]),
        id=new_event_id(),
        at=utcnow() - timedelta(minutes=1),
    )
    await Ticket.get_pymongo_collection().update_one(
        {"_id": ObjectId(created["id"])},
        {"$push": {"outbox": event_to_document(event)}, "$set": {"priority": "urgent"}},
    )
    assert await relay.broker.last_seq(ws) == before  # nothing published yet

    assert await relay.sweep() >= 1
    replay = await relay.broker.replay(ws, before, 100)
    assert [e.id for e in replay.events] == [event.id]
    assert replay.events[0] == msgspec.structs.replace(event, seq=before + 1)

    # A second sweep (say, from another worker at the same moment) publishes nothing again.
    await relay.sweep(older_than=timedelta(0))
    again = await relay.broker.replay(ws, before, 100)
    assert [e.id for e in again.events] == [event.id]
    stored = await Ticket.get_pymongo_collection().find_one({"outbox.id": event.id})
    assert stored is None  # the published entry left the document
    await owner.aclose()


async def test_a_document_keeps_only_its_last_event_once_the_rest_is_published(
    app: Starlette,
) -> None:
    owner = await sign_up(app)
    ws = (await owner.get("/me")).json()["workspace"]["id"]
    relay = runtime_of(app).relay
    before = await relay.broker.last_seq(ws)
    created = (await owner.post("/tickets", json={"subject": "Published at once"})).json()
    version = created["version"]
    for status in ("pending", "open", "pending"):
        patched = await owner.patch(
            f"/tickets/{created['id']}", json={"version": version, "status": status}
        )
        assert patched.status_code == 200
        version = patched.json()["version"]
    published = await relay.broker.last_seq(ws)
    assert published == before + 4  # each action published its event right away
    stored = await Ticket.get_pymongo_collection().find_one({"_id": ObjectId(created["id"])})
    assert stored is not None
    assert [e["data"]["ticket"]["version"] for e in stored["outbox"]] == [version]

    await relay.sweep(older_than=timedelta(0))

    stored = await Ticket.get_pymongo_collection().find_one({"_id": ObjectId(created["id"])})
    assert stored is not None
    assert stored["outbox"] == []
    assert await relay.broker.last_seq(ws) == published  # nothing was delivered twice
    await owner.aclose()


async def test_an_unpublished_event_stays_queued_behind_a_new_one(app: Starlette) -> None:
    owner = await sign_up(app)
    ws = (await owner.get("/me")).json()["workspace"]["id"]
    created = (await owner.post("/tickets", json={"subject": "Redis hiccup"})).json()
    relay = runtime_of(app).relay
    # A writer whose publish failed left its event in the outbox.
    stuck = msgspec.structs.replace(
        ticket_event(ws=ws, ticket=created["id"]), id=new_event_id(), at=utcnow()
    )
    await Ticket.get_pymongo_collection().update_one(
        {"_id": ObjectId(created["id"])}, {"$push": {"outbox": event_to_document(stuck)}}
    )

    patched = await owner.patch(f"/tickets/{created['id']}", json={"version": 1, "tags": ["x"]})
    assert patched.status_code == 200

    stored = await Ticket.get_pymongo_collection().find_one({"_id": ObjectId(created["id"])})
    assert stored is not None
    assert [e["id"] for e in stored["outbox"]][-2:][0] == stuck.id  # kept, not replaced
    before = await relay.broker.last_seq(ws)
    await relay.sweep(older_than=timedelta(0))
    replay = await relay.broker.replay(ws, before, 100)
    assert [e.id for e in replay.events] == [stuck.id]  # published late, once
    await owner.aclose()
