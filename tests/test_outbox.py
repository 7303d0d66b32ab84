"""A process that dies between the store write and the publish loses no event."""

from datetime import timedelta

from bson import ObjectId
from starlette.applications import Starlette

from app.documents import Ticket
from app.documents.common import utcnow
from app.outbox import outbox_entry
from realtime.envelope import Actor
from tests.apiclient import runtime_of, sign_up


async def test_sweep_publishes_what_a_crashed_writer_left_exactly_once(app: Starlette) -> None:
    owner = await sign_up(app)
    created = (await owner.post("/tickets", json={"subject": "Crash test"})).json()
    relay = runtime_of(app).relay
    ws = (await owner.get("/me")).json()["workspace"]["id"]
    before = await relay.broker.last_seq(ws)

    # The write happened (the change and its event, in one update) and then the process died.
    entry = outbox_entry(
        ws,
        "ticket.updated",
        Actor(kind="agent", id=owner.user_id),
        {"ticket": {"id": created["id"]}, "changed": ["priority"]},
        ticket=created["id"],
    )
    entry["at"] = utcnow() - timedelta(minutes=1)
    await Ticket.get_pymongo_collection().update_one(
        {"_id": ObjectId(created["id"])},
        {"$push": {"outbox": entry}, "$set": {"priority": "urgent"}},
    )
    assert await relay.broker.last_seq(ws) == before  # nothing published yet

    assert await relay.sweep() >= 1
    replay = await relay.broker.replay(ws, before)
    assert [e.id for e in replay.events] == [entry["id"]]
    assert replay.events[0].type == "ticket.updated"

    # A second sweep (say, from the worker at the same moment) publishes nothing again.
    await relay.sweep(older_than=timedelta(0))
    again = await relay.broker.replay(ws, before)
    assert [e.id for e in again.events] == [entry["id"]]
    stored = await Ticket.get_pymongo_collection().find_one({"outbox.id": entry["id"]})
    assert stored is None  # the published entry left the document
    await owner.aclose()
