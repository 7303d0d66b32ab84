"""The widget's server side: origins, visitor tokens, identity proof, idempotent messages."""

import asyncio
import uuid

import httpx
from starlette.applications import Starlette

from app.auth.visitor_tokens import identity_hash
from tests.apiclient import AgentClient, invite_and_join, sign_up

SITE = "https://shop.example"


async def widget_workspace(app: Starlette) -> tuple[AgentClient, str, str]:
    owner = await sign_up(app)
    me = (await owner.patch("/workspace", json={"allowed_origins": [SITE + "/"]})).json()
    settings = (await owner.get("/workspace/widget")).json()
    return owner, me["id"], settings["secret"]


def site_client(app: Starlette, origin: str = SITE) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.5", 40000))
    return httpx.AsyncClient(
        transport=transport, base_url="http://testserver/api/v1/widget", headers={"Origin": origin}
    )


async def start(client: httpx.AsyncClient, ws: str, **extra: object) -> dict:
    response = await client.post("/session", json={"workspace": ws, **extra})
    assert response.status_code == 200, response.text
    client.headers["Authorization"] = "Bearer " + response.json()["visitor_token"]
    return response.json()


async def test_disallowed_origins_are_refused_with_a_reason(app: Starlette) -> None:
    owner, ws, _ = await widget_workspace(app)
    evil = site_client(app, "https://evil.example")
    refused = await evil.post("/session", json={"workspace": ws})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "origin_not_allowed"
    preflight = await evil.options("/session")
    assert preflight.status_code == 204  # the real request is what gets refused

    # A token obtained on the right site does not work from another origin either.
    good = site_client(app)
    session = await start(good, ws)
    stolen = await evil.get(
        "/conversation", headers={"Authorization": "Bearer " + session["visitor_token"]}
    )
    assert stolen.status_code == 403
    for client in (evil, good):
        await client.aclose()
    await owner.aclose()


async def test_visitor_writes_agent_replies_and_a_reload_keeps_the_conversation(
    app: Starlette,
) -> None:
    owner, ws, _ = await widget_workspace(app)
    visitor = site_client(app)
    session = await start(visitor, ws)
    assert session["conversation_id"] is None
    assert session["agents_online"] is False
    first_id = uuid.uuid4().hex
    sent = await visitor.post(
        "/messages", json={"text": "<script>alert(1)</script> hi", "client_id": first_id}
    )
    assert sent.status_code == 201, sent.text
    ticket_id = sent.json()["conversation_id"]
    # The same message sent again (a retry after a dropped connection) is stored once.
    again = await visitor.post(
        "/messages", json={"text": "<script>alert(1)</script> hi", "client_id": first_id}
    )
    assert again.json()["id"] == sent.json()["id"]

    detail = (await owner.get(f"/tickets/{ticket_id}")).json()
    assert detail["ticket"]["channel"] == "webchat"
    assert [m["text"] for m in detail["messages"]] == ["<script>alert(1)</script> hi"]
    assert "<script>" not in detail["messages"][0]["html"]
    await owner.post(f"/tickets/{ticket_id}/messages", json={"text": "Hello! How can I help?"})
    await owner.post(f"/tickets/{ticket_id}/messages", json={"text": "VIP?", "kind": "note"})

    # A reload: the widget starts a session with the stored visitor token.
    reloaded = site_client(app)
    resumed = await start(reloaded, ws, visitor_token=session["visitor_token"])
    assert resumed["visitor"]["contact_id"] == session["visitor"]["contact_id"]
    assert resumed["conversation_id"] == ticket_id
    convo = (await reloaded.get("/conversation")).json()
    assert [(m["direction"], m["text"]) for m in convo["messages"]] == [
        ("in", "<script>alert(1)</script> hi"),
        ("out", "Hello! How can I help?"),
    ]  # the private note never reaches the visitor

    read = await reloaded.post("/read", json={"up_to": convo["messages"][-1]["id"]})
    assert read.status_code == 204
    thread = (await owner.get(f"/tickets/{ticket_id}")).json()["messages"]
    assert [m["delivery_status"] for m in thread if m["text"] == "Hello! How can I help?"] == [
        "read"
    ]
    for client in (visitor, reloaded):
        await client.aclose()
    await owner.aclose()


async def test_identity_verification_and_no_merging_of_claims(app: Starlette) -> None:
    owner, ws, secret = await widget_workspace(app)
    forged = site_client(app)
    bad = await forged.post(
        "/session",
        json={
            "workspace": ws,
            "user": {"id": "user-42", "hash": "0" * 64, "name": "Mallory"},
        },
    )
    assert bad.status_code == 403
    assert bad.json()["error"]["code"] == "identity_invalid"

    real = site_client(app)
    proven = await start(
        real, ws, user={"id": "user-42", "hash": identity_hash(secret, "user-42"), "name": "Grace"}
    )
    assert proven["visitor"]["verified"] is True
    again = site_client(app)
    same = await start(again, ws, user={"id": "user-42", "hash": identity_hash(secret, "user-42")})
    assert same["visitor"]["contact_id"] == proven["visitor"]["contact_id"]

    # An anonymous visitor claiming Grace's email in the pre-chat form stays a separate,
    # unverified contact: the claim is kept, nothing merges.
    await owner.patch(
        f"/contacts/{proven['visitor']['contact_id']}", json={"email": "grace@corp.example"}
    )
    anon = site_client(app)
    stranger = await start(anon, ws)
    claimed = await anon.post("/profile", json={"name": "Not Grace", "email": "grace@corp.example"})
    assert claimed.status_code == 200
    assert claimed.json()["contact_id"] != proven["visitor"]["contact_id"]
    assert claimed.json()["verified"] is False
    contact = (await owner.get(f"/contacts/{stranger['visitor']['contact_id']}")).json()
    assert contact["email"] is None
    assert contact["custom_attributes"]["claimed_email"] == "grace@corp.example"
    grace = (await owner.get(f"/contacts/{proven['visitor']['contact_id']}")).json()
    assert grace["name"] == "Grace"
    for client in (forged, real, again, anon):
        await client.aclose()
    await owner.aclose()


async def test_visitors_are_isolated_and_floods_are_limited(app: Starlette) -> None:
    owner, ws, _ = await widget_workspace(app)
    alice, bob = site_client(app), site_client(app)
    await start(alice, ws)
    await start(bob, ws)
    await alice.post("/messages", json={"text": "alice's secret", "client_id": "a1"})
    bob_view = (await bob.get("/conversation")).json()
    assert bob_view["messages"] == []
    forged = await bob.get("/conversation", headers={"Authorization": "Bearer vt.forged"})
    assert forged.status_code == 401

    results = await asyncio.gather(
        *(
            bob.post("/messages", json={"text": f"spam {i}", "client_id": f"s{i}"})
            for i in range(25)
        )
    )
    statuses = [r.status_code for r in results]
    assert statuses.count(201) == 20
    assert statuses.count(429) == 5
    limited = next(r for r in results if r.status_code == 429)
    assert limited.json()["error"]["code"] == "rate_limited"

    huge = await alice.post("/messages", json={"text": "x" * 1_100_000, "client_id": "big"})
    assert huge.status_code == 413
    long_text = await alice.post("/messages", json={"text": "x" * 10_001, "client_id": "long"})
    assert long_text.status_code == 422
    for client in (alice, bob):
        await client.aclose()
    await owner.aclose()


async def test_the_host_page_sets_bounded_attributes_but_not_reserved_ones(
    app: Starlette,
) -> None:
    owner, ws, _ = await widget_workspace(app)
    visitor = site_client(app)
    session = await start(visitor, ws)
    contact_id = session["visitor"]["contact_id"]
    first = await visitor.post("/profile", json={"attributes": {"plan": "pro", "seats": 12}})
    assert first.status_code == 200, first.text
    second = await visitor.post(
        "/profile", json={"attributes": {"seats": 14, "trial": False, "mrr": 99.5}}
    )
    assert second.status_code == 200, second.text
    contact = (await owner.get(f"/contacts/{contact_id}")).json()
    assert contact["custom_attributes"] == {
        "source": "webchat",
        "plan": "pro",
        "seats": 14,
        "trial": False,
        "mrr": 99.5,
    }

    refused = [
        {"source": "ads"},  # Tandem's own
        {"claimed_email": "ceo@bank.example"},
        {f"k{i}": i for i in range(21)},  # too many keys
        {"k" * 51: 1},  # key too long
        {"note": "v" * 501},  # value too long
        {"nested": {"a": 1}},  # only strings, numbers and booleans
        {"empty": None},
    ]
    for attributes in refused:
        answer = await visitor.post("/profile", json={"attributes": attributes})
        assert answer.status_code == 422, (attributes, answer.text)
    reserved = await visitor.post("/profile", json={"attributes": {"source": "ads"}})
    assert reserved.json()["error"]["code"] == "reserved_attribute"
    after = (await owner.get(f"/contacts/{contact_id}")).json()
    assert after["custom_attributes"] == contact["custom_attributes"]  # nothing was written
    await visitor.aclose()
    await owner.aclose()


async def test_the_owner_reads_rotates_and_words_the_widget(app: Starlette) -> None:
    owner, ws, secret = await widget_workspace(app)
    ana = await invite_and_join(owner, app, "Ana Agent")
    assert (await ana.get("/workspace/widget")).status_code == 403
    assert (await ana.post("/workspace/widget/secret")).status_code == 403

    worded = await owner.patch(
        "/workspace", json={"widget_reply_time": "under an hour", "widget_greeting": "Hej!"}
    )
    assert worded.status_code == 200, worded.text
    site = site_client(app)
    session = await start(site, ws)
    assert (session["reply_time"], session["greeting"]) == ("under an hour", "Hej!")

    rotated = (await owner.post("/workspace/widget/secret")).json()
    assert rotated["secret"] != secret
    old = await site.post(
        "/session",
        json={"workspace": ws, "user": {"id": "u-1", "hash": identity_hash(secret, "u-1")}},
    )
    assert old.status_code == 403
    assert old.json()["error"]["code"] == "identity_invalid"
    new = await start(
        site_client(app),
        ws,
        user={"id": "u-1", "hash": identity_hash(rotated["secret"], "u-1")},
    )
    assert new["visitor"]["verified"] is True
    audit = (await owner.get("/audit-events")).json()
    assert any(e["action"] == "workspace.widget_secret_rotated" for e in audit)
    assert all(rotated["secret"] not in str(e["data"]) for e in audit)
    await site.aclose()
    await owner.aclose()
