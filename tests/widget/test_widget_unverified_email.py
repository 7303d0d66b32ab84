"""An email address typed into the widget is unverified: agents see it, marked so, but it never
makes the visitor the contact that later tickets and emails for that address belong to."""

from __future__ import annotations

import json

from starlette.applications import Starlette

from app.actions.inbound import receive
from app.live.visitor_access import VisitorAccess
from channels import postmark
from realtime.events import Channel
from tests.apiclient import runtime_of
from tests.channels.postmark_payloads import inbound_email
from tests.widget.test_widget_api import site_client, start, widget_workspace

VICTIM = "victim@example.com"


async def test_a_typed_email_does_not_take_the_address_from_its_owner(app: Starlette) -> None:
    owner, ws, _ = await widget_workspace(app)
    visitor = site_client(app)
    session = await start(visitor, ws)
    visitor_id = session["visitor"]["contact_id"]
    typed = await visitor.post("/profile", json={"name": "Mallory", "email": "Victim@Example.com"})
    assert typed.status_code == 200, typed.text
    assert typed.json()["email"] == VICTIM  # the visitor sees what they typed
    sent = await visitor.post("/messages", json={"text": "hi", "client_id": "c1"})
    own_conversation = sent.json()["conversation_id"]

    # Agents see the address on the visitor, marked unverified ...
    shown = (await owner.get(f"/contacts/{visitor_id}")).json()
    assert (shown["email"], shown["email_verified"]) == (VICTIM, False)
    # ... but looking the address up finds nobody yet.
    assert (await owner.get("/contacts/lookup", params={"email": VICTIM})).status_code == 404

    # An agent opens a ticket for the address: a new contact, not the visitor's.
    created = await owner.post(
        "/tickets",
        json={
            "subject": "Your refund",
            "contact": {"email": VICTIM},
            "message": {"text": "Your refund of 900 EUR is on its way", "direction": "out"},
        },
    )
    assert created.status_code == 201, created.text
    ticket = created.json()
    victim_id = ticket["contact_id"]
    assert victim_id != visitor_id
    victim = (await owner.get(f"/contacts/{victim_id}")).json()
    assert (victim["email"], victim["email_verified"]) == (VICTIM, True)

    # The visitor sees only their own conversation, and their socket may not open the new one.
    conversation = (await visitor.get("/conversation")).json()
    assert conversation["conversation_id"] == own_conversation
    assert [m["text"] for m in conversation["messages"]] == ["hi"]
    socket = VisitorAccess(ws, visitor_id, "Mallory")
    assert await socket.can_subscribe(f"ticket:{ticket['id']}") == "forbidden"

    # An email from the address finds the real contact as well.
    payload = inbound_email(sender=VICTIM, name="Vic Tim", subject="Thanks!", text="Got it")
    inbound = postmark.parse_inbound(ws, json.dumps(payload).encode())
    received = await receive(runtime_of(app).deps, Channel.EMAIL, inbound)
    assert str(received.contact.id) == victim_id
    await visitor.aclose()
    await owner.aclose()


async def test_an_email_from_a_typed_address_starts_its_own_contact(app: Starlette) -> None:
    owner, ws, _ = await widget_workspace(app)
    visitor = site_client(app)
    session = await start(visitor, ws)
    await visitor.post("/profile", json={"email": "someone@example.com"})

    payload = inbound_email(sender="someone@example.com", text="It's really me")
    inbound = postmark.parse_inbound(ws, json.dumps(payload).encode())
    received = await receive(runtime_of(app).deps, Channel.EMAIL, inbound)
    assert str(received.contact.id) != session["visitor"]["contact_id"]
    found = (await owner.get("/contacts/lookup", params={"email": "someone@example.com"})).json()
    assert (found["id"], found["email_verified"]) == (str(received.contact.id), True)
    # The widget's visitor keeps what they typed, and still sees no email conversation.
    assert (await visitor.get("/conversation")).json()["conversation_id"] is None
    await visitor.aclose()
    await owner.aclose()
