"""API tokens act within their scopes and until they expire: a read token cannot change
anything, a write token cannot reach settings, members, tokens or the widget's secret."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from starlette.applications import Starlette

from app.documents import ApiToken
from app.documents.common import utcnow
from tests.apiclient import AgentClient, sign_up


@pytest.fixture
async def owner(app: Starlette) -> AsyncIterator[AgentClient]:
    client = await sign_up(app)
    yield client
    await client.aclose()


async def bearer(app: Starlette, owner: AgentClient, **body: object) -> httpx.AsyncClient:
    made = await owner.post("/api-tokens", json={"name": "integration", **body})
    assert made.status_code == 201, made.text
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50001))
    return httpx.AsyncClient(
        transport=transport,
        base_url="http://testserver/api/v1",
        headers={"Authorization": f"Bearer {made.json()['token']}"},
    )


async def test_a_read_token_reads_and_changes_nothing(app: Starlette, owner: AgentClient) -> None:
    made = (await owner.post("/tickets", json={"subject": "Refund"})).json()
    async with await bearer(app, owner, scopes=["read"]) as reader:
        assert (await reader.get(f"/tickets/{made['id']}")).status_code == 200
        refused = await reader.post("/tickets", json={"subject": "x"})
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "insufficient_scope"
        assert (
            await reader.patch(f"/tickets/{made['id']}", json={"priority": "high"})
        ).status_code == 403
    listed = (await owner.get("/tickets")).json()
    assert [t["subject"] for t in listed["items"]] == ["Refund"]


async def test_a_write_token_works_tickets_but_reaches_no_admin_settings(
    app: Starlette, owner: AgentClient
) -> None:
    async with await bearer(app, owner) as writer:  # the default: read and write
        assert (await writer.post("/tickets", json={"subject": "a"})).status_code == 201
        for method, path, body in [
            ("GET", "/workspace", None),
            ("GET", "/workspace/widget", None),
            ("PATCH", "/workspace", {"name": "Taken over"}),
            ("POST", "/api-tokens", {"name": "another"}),
            ("GET", "/api-tokens", None),
            ("POST", "/invitations", {"email": "x@example.com", "name": "X", "role": "admin"}),
            ("GET", "/audit-events", None),
        ]:
            answer = await writer.request(method, path, json=body)
            assert answer.status_code == 403, (method, path, answer.text)
            assert answer.json()["error"]["code"] == "insufficient_scope", (method, path)
    tokens = (await owner.get("/api-tokens")).json()
    assert [t["scopes"] for t in tokens] == [["read", "write"]]
    assert (await owner.get("/me")).json()["workspace"]["name"] != "Taken over"


async def test_an_admin_token_does_what_its_creator_may(app: Starlette, owner: AgentClient) -> None:
    async with await bearer(app, owner, scopes=["admin"]) as admin:
        assert (await admin.get("/audit-events")).status_code == 200
        assert (await admin.post("/api-tokens", json={"name": "child"})).status_code == 201
    tokens = (await owner.get("/api-tokens")).json()
    assert sorted(tuple(t["scopes"]) for t in tokens) == [
        ("read", "write"),
        ("read", "write", "admin"),
    ]


async def test_a_token_stops_working_when_it_expires(app: Starlette, owner: AgentClient) -> None:
    async with await bearer(app, owner, expires_in_days=1) as expiring:
        assert (await expiring.get("/tickets")).status_code == 200
        listed = (await owner.get("/api-tokens")).json()
        assert listed[0]["expires_at"] is not None
        token = await ApiToken.get(listed[0]["id"])
        assert token is not None
        token.expires_at = utcnow() - timedelta(seconds=1)
        await token.save()
        assert (await expiring.get("/tickets")).status_code == 401


async def test_tokens_are_made_with_sane_limits(owner: AgentClient) -> None:
    for body in (
        {"name": "t", "scopes": ["root"]},
        {"name": "t", "scopes": []},
        {"name": "t", "expires_in_days": 0},
        {"name": "t", "expires_in_days": 10_000},
    ):
        assert (await owner.post("/api-tokens", json=body)).status_code == 422, body
    never = await owner.post("/api-tokens", json={"name": "t", "expires_in_days": None})
    assert never.status_code == 201
    assert never.json()["expires_at"] is None
