"""An agent with the conversation open: the customer's messages say "Seen", live and after a
reload; a read moves only forward and never makes another agent's edit conflict."""

from __future__ import annotations

import uuid

from starlette.applications import Starlette

from realtime.events import MessageRead, ReadData
from tests.apiclient import runtime_of, sign_up
from tests.widget.test_widget_api import site_client, start, widget_workspace


async def test_an_agent_reading_tells_the_customer_seen(app: Starlette) -> None:
    owner, ws, _ = await widget_workspace(app)
    visitor = site_client(app)
    await start(visitor, ws)
    ids = []
    for text in ("Hello?", "Is anyone there?"):
        sent = await visitor.post("/messages", json={"text": text, "client_id": uuid.uuid4().hex})
        assert sent.status_code == 201, sent.text
        ids.append(sent.json()["id"])
    ticket_id = sent.json()["conversation_id"]
    assert (await visitor.get("/conversation")).json()["seen_up_to"] is None
    version = (await owner.get(f"/tickets/{ticket_id}")).json()["ticket"]["version"]

    broker = runtime_of(app).relay.broker
    before = await broker.last_seq(ws)
    seen = await owner.post(f"/tickets/{ticket_id}/seen", json={"up_to": ids[0]})
    assert seen.status_code == 204, seen.text
    published = (await broker.replay(ws, before, 100)).events
    # One event, which the customer's socket is shown (it names no agent's change).
    assert [e.data for e in published if isinstance(e, MessageRead)] == [
        ReadData(by="agent", up_to=ids[0])
    ]
    assert (await visitor.get("/conversation")).json()["seen_up_to"] == ids[0]

    await owner.post(f"/tickets/{ticket_id}/seen", json={"up_to": ids[1]})
    assert (await visitor.get("/conversation")).json()["seen_up_to"] == ids[1]
    # An older point changes nothing; the ticket's version never moved.
    await owner.post(f"/tickets/{ticket_id}/seen", json={"up_to": ids[0]})
    assert (await visitor.get("/conversation")).json()["seen_up_to"] == ids[1]
    assert (await owner.get(f"/tickets/{ticket_id}")).json()["ticket"]["version"] == version

    reply = await owner.post(f"/tickets/{ticket_id}/messages", json={"text": "Yes, hi!"})
    own = await owner.post(
        f"/tickets/{ticket_id}/seen", json={"up_to": reply.json()["message"]["id"]}
    )
    assert own.status_code == 404  # only the customer's messages are seen
    stranger = await sign_up(app)
    foreign = await stranger.post(f"/tickets/{ticket_id}/seen", json={"up_to": ids[1]})
    assert foreign.status_code == 404
    for client in (owner, stranger):
        await client.aclose()
    await visitor.aclose()
