"""Sessions live on the server: logging out, "log out everywhere", a password change, a
revocation from the profile and a deactivation each end sessions at once, on every process —
the old cookie stops working, the sockets it opened close within seconds, and the one-minute
socket tokens it asked for stop opening new ones."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import msgspec
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.apiclient import PASSWORD, AgentClient, invite_and_join, new_client, sign_up

pytestmark = pytest.mark.processes
ENDED_WITHIN = 5.0  # seconds: what the product promises


def ws_url(base: str) -> str:
    return base.replace("http://", "ws://") + "/live"


async def hello(client: ClientConnection) -> None:
    await client.send(msgspec.json.encode({"type": "hello", "topics": ["inbox"]}).decode())
    async with asyncio.timeout(10):
        while True:
            frame: dict[str, Any] = msgspec.json.decode(await client.recv())
            if frame.get("type") == "ack" and frame.get("for") == "hello":
                return


@asynccontextmanager
async def cookie_socket(base: str, agent: AgentClient) -> AsyncIterator[ClientConnection]:
    """The agent app's socket: the session cookie, from the app's own origin."""
    cookie = agent.http.cookies.get("tandem_session")
    assert cookie
    headers = {"Cookie": f"tandem_session={cookie}", "Origin": base}
    async with connect(ws_url(base), additional_headers=headers) as client:
        await hello(client)
        yield client


@asynccontextmanager
async def token_socket(base: str, token: str) -> AsyncIterator[ClientConnection]:
    async with connect(ws_url(base) + f"?token={token}") as client:
        await hello(client)
        yield client


async def socket_token(agent: AgentClient) -> str:
    answer = await agent.post("/realtime/token")
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["token"]
    return token


async def closed_within(client: ClientConnection, seconds: float = ENDED_WITHIN) -> int | None:
    """Read until the server closes the socket; its close code."""
    async with asyncio.timeout(seconds):
        try:
            while True:
                await client.recv()
        except ConnectionClosed:
            pass
    return client.close_code


async def still_open(client: ClientConnection) -> bool:
    await client.send(msgspec.json.encode({"type": "ping", "id": "p7"}).decode())
    try:
        async with asyncio.timeout(5):
            while True:
                frame = msgspec.json.decode(await client.recv())
                if frame.get("type") == "pong":
                    return True
    except (ConnectionClosed, TimeoutError):
        return False


async def refused(base: str, token: str) -> bool:
    """Whether a socket token no longer opens a socket (closed with 1008 before any hello)."""
    try:
        async with connect(ws_url(base) + f"?token={token}") as client:
            await client.send(msgspec.json.encode({"type": "hello", "topics": ["inbox"]}).decode())
            async with asyncio.timeout(5):
                await client.recv()
            return False
    except ConnectionClosed as closed:
        return closed.rcvd is not None and closed.rcvd.code == 1008
    except InvalidStatus:
        return True


def same_browser(base: str, agent: AgentClient) -> AgentClient:
    """Another client holding the very cookie (and CSRF token) of `agent`: what an attacker
    who copied it, or a tab kept open, would send."""
    copy = new_client(base)
    copy.http.cookies.set("tandem_session", agent.http.cookies.get("tandem_session") or "")
    copy.http.headers["X-CSRF-Token"] = agent.http.headers["X-CSRF-Token"]
    return copy


async def log_in(base: str, agent: AgentClient, email: str) -> AgentClient:
    """A second browser of the same person."""
    other = new_client(base)
    answer = await other.post(
        "/auth/login",
        json={"workspace": agent.workspace_slug, "email": email, "password": PASSWORD},
        headers={"Origin": base},
    )
    other.adopt_session(answer)
    other.workspace_slug = agent.workspace_slug
    return other


async def test_logout_ends_the_cookie_its_sockets_and_its_socket_tokens(
    servers: list[str],
) -> None:
    a, b = servers
    owner = await sign_up(a)
    copy = same_browser(a, owner)
    unused_token = await socket_token(owner)
    async with (
        cookie_socket(b, owner) as by_cookie,
        token_socket(b, await socket_token(owner)) as by_token,
    ):
        loop = asyncio.get_running_loop()
        started = loop.time()
        out = await owner.post("/auth/logout", headers={"Origin": a})
        assert out.status_code == 204
        assert await closed_within(by_cookie) == 1008
        assert await closed_within(by_token) == 1008
        assert loop.time() - started < ENDED_WITHIN
    assert (await copy.get("/me")).status_code == 401
    created = await copy.post("/tickets", json={"subject": "after logout"})
    assert created.status_code == 401
    assert await refused(b, unused_token)
    for client in (owner, copy):
        await client.aclose()


async def test_a_deactivated_agents_socket_closes_and_gets_no_more_conversations(
    servers: list[str],
) -> None:
    a, b = servers
    owner = await sign_up(a)
    agent = await invite_and_join(owner, a, "Dana Agent")
    async with cookie_socket(b, agent) as socket:
        off = await owner.patch(f"/members/{agent.user_id}", json={"active": False})
        assert off.status_code == 200, off.text
        assert await closed_within(socket) == 1008
    # Whatever the team does next reaches no socket of theirs, and none opens again.
    assert (await owner.post("/tickets", json={"subject": "new"})).status_code == 201
    assert (await agent.get("/me")).status_code == 401
    with pytest.raises((ConnectionClosed, InvalidStatus, TimeoutError)):
        async with cookie_socket(b, agent):
            pass
    await owner.aclose()
    await agent.aclose()


async def test_a_password_change_ends_my_other_sessions_and_keeps_this_one(
    servers: list[str],
) -> None:
    a, b = servers
    owner = await sign_up(a)
    email = f"owner@{owner.workspace_slug}.example"
    phone = await log_in(a, owner, email)
    async with cookie_socket(b, owner) as mine, cookie_socket(b, phone) as theirs:
        changed = await owner.post(
            "/me/password",
            json={"current_password": PASSWORD, "new_password": "a brand new passphrase"},
        )
        assert changed.status_code == 200, changed.text
        assert await closed_within(theirs) == 1008
        assert await still_open(mine)
    assert (await phone.get("/me")).status_code == 401
    assert (await owner.get("/me")).status_code == 200
    assert (await owner.post("/tickets", json={"subject": "s"})).status_code == 201
    await owner.aclose()
    await phone.aclose()


async def test_my_sessions_are_listed_and_one_can_be_signed_out_from_another(
    servers: list[str],
) -> None:
    a, b = servers
    owner = await sign_up(a)
    email = f"owner@{owner.workspace_slug}.example"
    lost_phone = await log_in(b, owner, email)
    listed = (await owner.get("/me/sessions")).json()
    assert len(listed) == 2
    assert [s["current"] for s in listed].count(True) == 1
    other = next(s for s in listed if not s["current"])
    assert other["address"] == "127.0.0.1"
    assert other["user_agent"]
    async with cookie_socket(b, lost_phone) as socket:
        assert (await owner.delete(f"/me/sessions/{other['id']}")).status_code == 204
        assert await closed_within(socket) == 1008
    assert (await lost_phone.get("/me")).status_code == 401
    assert (await owner.get("/me")).status_code == 200
    assert len((await owner.get("/me/sessions")).json()) == 1
    # Someone else's session id is not mine to end.
    stranger = await sign_up(a)
    mine = (await stranger.get("/me/sessions")).json()[0]["id"]
    assert (await owner.delete(f"/me/sessions/{mine}")).status_code == 404
    assert (await stranger.get("/me")).status_code == 200
    events = (await owner.get("/audit-events", params={"action": "session."})).json()
    assert [e["action"] for e in events] == ["session.revoked"]
    for client in (owner, lost_phone, stranger):
        await client.aclose()


async def test_log_out_everywhere_ends_every_session_of_mine(servers: list[str]) -> None:
    a, b = servers
    owner = await sign_up(a)
    email = f"owner@{owner.workspace_slug}.example"
    laptop = await log_in(b, owner, email)
    teammate = await invite_and_join(owner, a, "Tess Teammate")
    async with cookie_socket(b, laptop) as socket, cookie_socket(a, teammate) as theirs:
        assert (await owner.post("/auth/logout-everywhere")).status_code == 204
        assert await closed_within(socket) == 1008
        assert await still_open(theirs)
    assert (await owner.get("/me")).status_code == 401
    assert (await laptop.get("/me")).status_code == 401
    assert (await teammate.get("/me")).status_code == 200
    for client in (owner, laptop, teammate):
        await client.aclose()


async def test_a_revoked_api_token_closes_the_sockets_it_opened(servers: list[str]) -> None:
    a, b = servers
    owner = await sign_up(a)
    made = await owner.post("/api-tokens", json={"name": "dashboard screen"})
    secret, token_id = made.json()["token"], made.json()["id"]
    async with httpx.AsyncClient(
        base_url=a + "/api/v1", headers={"Authorization": f"Bearer {secret}"}
    ) as integration:
        token = (await integration.post("/realtime/token")).json()["token"]
        unused = (await integration.post("/realtime/token")).json()["token"]
        async with token_socket(b, token) as socket, cookie_socket(b, owner) as owners:
            assert (await owner.delete(f"/api-tokens/{token_id}")).status_code == 204
            assert await closed_within(socket) == 1008
            assert await still_open(owners)
        assert (await integration.get("/tickets")).status_code == 401
    assert await refused(b, unused)
    await owner.aclose()


async def test_a_new_role_makes_the_members_sockets_reconnect_as_they_now_are(
    servers: list[str],
) -> None:
    a, b = servers
    owner = await sign_up(a)
    sue = await invite_and_join(owner, a, "Sue Supervisor", role="supervisor")
    async with cookie_socket(b, sue) as socket:
        demoted = await owner.patch(f"/members/{sue.user_id}", json={"role": "agent"})
        assert demoted.status_code == 200, demoted.text
        assert await closed_within(socket) == 1012  # reconnect now, not "log in again"
    assert (await sue.get("/me")).json()["role"] == "agent"
    async with cookie_socket(b, sue) as again:
        assert await still_open(again)
    await owner.aclose()
    await sue.aclose()


async def test_leaving_a_team_makes_the_members_sockets_reconnect(servers: list[str]) -> None:
    a, b = servers
    owner = await sign_up(a)
    ana = await invite_and_join(owner, a, "Ana Agent")
    team = (await owner.post("/teams", json={"name": "Billing"})).json()
    put = await owner.put(f"/teams/{team['id']}/members", json={"user_ids": [ana.user_id]})
    assert put.status_code == 200, put.text
    async with cookie_socket(b, ana) as socket:
        out = await owner.put(f"/teams/{team['id']}/members", json={"user_ids": []})
        assert out.status_code == 200, out.text
        assert await closed_within(socket) == 1012
    await owner.aclose()
    await ana.aclose()
