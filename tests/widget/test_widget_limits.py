"""A script that sets an allowed Origin cannot fill an inbox: new visitors, new conversations
and messages are limited per client address and per workspace, while a real visitor behind the
same address keeps chatting and visitors elsewhere are served."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from starlette.applications import Starlette

from app import widget_limits
from app.widget_limits import Limit
from tests.widget.test_widget_api import SITE, widget_workspace


def client_at(app: Starlette, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(
        transport=transport, base_url="http://testserver/api/v1/widget", headers={"Origin": SITE}
    )


async def new_visitor(client: httpx.AsyncClient, ws: str) -> httpx.Response:
    """A session without a visitor token, as a script would start one."""
    return await client.post("/session", json={"workspace": ws})


async def write(client: httpx.AsyncClient, token: str, text: str) -> httpx.Response:
    return await client.post(
        "/messages",
        json={"text": text, "client_id": uuid.uuid4().hex},
        headers={"Authorization": "Bearer " + token},
    )


async def first_message(client: httpx.AsyncClient, ws: str) -> tuple[httpx.Response, str]:
    """A new visitor writes the message that would open a conversation; with their token."""
    session = await new_visitor(client, ws)
    assert session.status_code == 200, session.text
    token = session.json()["visitor_token"]
    return await write(client, token, "hello"), token


def assert_limited(response: httpx.Response, code: str, longest: int) -> None:
    assert response.status_code == 429, response.text
    error = response.json()["error"]
    assert error["code"] == code
    wait = int(response.headers["Retry-After"])
    assert 0 < wait <= longest
    assert error["details"] == {"retry_after": wait}  # for a page that cannot read headers


async def test_one_address_cannot_start_endless_visitors(app: Starlette) -> None:
    owner, ws, _ = await widget_workspace(app)
    script = client_at(app, "198.51.100.7")
    answers = await asyncio.gather(*(new_visitor(script, ws) for _ in range(26)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] * widget_limits.VISITORS_PER_ADDRESS.most + [429] * 6
    assert_limited(next(a for a in answers if a.status_code == 429), "too_many_visitors", 60)

    # A visitor of that address who already chats is still served: their token resumes.
    known = next(a for a in answers if a.status_code == 200).json()
    resumed = await script.post(
        "/session", json={"workspace": ws, "visitor_token": known["visitor_token"]}
    )
    assert resumed.status_code == 200, resumed.text
    assert resumed.json()["visitor"]["contact_id"] == known["visitor"]["contact_id"]
    # And someone at another address starts as usual.
    elsewhere = client_at(app, "192.0.2.44")
    assert (await new_visitor(elsewhere, ws)).status_code == 200
    for client in (script, elsewhere):
        await client.aclose()
    await owner.aclose()


async def test_a_script_of_fresh_visitors_opens_only_a_few_tickets(app: Starlette) -> None:
    owner, ws, _ = await widget_workspace(app)
    script = client_at(app, "198.51.100.8")
    # Fifteen fresh visitors write at once: each visitor is within its own limits.
    written = await asyncio.gather(*(first_message(script, ws) for _ in range(15)))
    answers = [answer for answer, _ in written]
    statuses = sorted(a.status_code for a in answers)
    most = widget_limits.CONVERSATIONS_PER_ADDRESS.most
    assert statuses == [201] * most + [429] * (15 - most)
    assert_limited(next(a for a in answers if a.status_code == 429), "too_many_conversations", 60)
    inbox = (await owner.get("/tickets", params={"limit": 50})).json()["items"]
    assert len(inbox) == most

    # A visitor whose conversation is open goes on writing from the same address.
    chatting, token = next((a, t) for a, t in written if a.status_code == 201)
    ticket_id = chatting.json()["conversation_id"]
    more = await write(script, token, "still there?")
    assert more.status_code == 201, more.text
    assert more.json()["conversation_id"] == ticket_id
    # A visitor elsewhere opens a conversation as usual.
    elsewhere = client_at(app, "192.0.2.45")
    assert (await first_message(elsewhere, ws))[0].status_code == 201
    for client in (script, elsewhere):
        await client.aclose()
    await owner.aclose()


async def test_the_workspace_ceiling_holds_and_refused_requests_do_not_use_it(
    app: Starlette, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        widget_limits, "CONVERSATIONS_PER_WORKSPACE", Limit("conversations", 12, 3600)
    )
    owner, ws, _ = await widget_workspace(app)
    script = client_at(app, "198.51.100.9")
    first = [(await first_message(script, ws))[0] for _ in range(10)]
    assert [a.status_code for a in first] == [201] * 10
    # The script goes on; every attempt is refused at its address and counts nowhere else.
    refused = [(await first_message(script, ws))[0] for _ in range(5)]
    assert {a.status_code for a in refused} == {429}

    # Real visitors elsewhere still get the two conversations left this hour ...
    others = [client_at(app, f"192.0.2.{n}") for n in (50, 51, 52)]
    assert (await first_message(others[0], ws))[0].status_code == 201
    assert (await first_message(others[1], ws))[0].status_code == 201
    # ... and then the whole workspace waits, up to the hour.
    late, _ = await first_message(others[2], ws)
    assert_limited(late, "too_many_conversations", 3600)
    for client in (script, *others):
        await client.aclose()
    await owner.aclose()


async def test_messages_are_limited_per_address_too(
    app: Starlette, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(widget_limits, "MESSAGES_PER_ADDRESS", Limit("messages:addr", 30, 60))
    owner, ws, _ = await widget_workspace(app)
    script = client_at(app, "198.51.100.10")
    tokens = []
    for _ in range(2):
        session = await new_visitor(script, ws)
        tokens.append(session.json()["visitor_token"])
    answers = [
        await write(script, token, f"message {n}")
        for token in tokens
        for n in range(20)  # each visitor within its own 20 a minute
    ]
    statuses = [a.status_code for a in answers]
    assert statuses.count(201) == 30
    assert_limited(next(a for a in answers if a.status_code == 429), "rate_limited", 60)
    await script.aclose()
    await owner.aclose()
