"""A workspace with one of everything, the people who call it, and a stranger from another.

The victim workspace has an owner, an admin, a supervisor, an agent and a spare agent (whose
picture and login the matrix uses), a widget visitor with a conversation, a team, a contact,
a ticket with a customer message and a note, a published public article, a canned response,
a pending invitation, an API token and files. The outsider owns another workspace.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette

from app.auth.sessions import COOKIE_NAME
from app.domain.access_table import Least
from tests.apiclient import PASSWORD, AgentClient, invite_and_join, sign_up

NEW_PASSWORD = PASSWORD + " renewed"  # what the matrix changes every member's password to
SITE = "https://shop.example"
EVIL = "https://evil.example"
# The smallest PNG: one transparent pixel.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)

WHATSAPP = {
    "phone_number_id": "1234567890",
    "waba_id": "9876543210",
    "access_token": "EAAG-access-token",
    "app_secret": "app-secret-for-tests",
}

# Who calls, weakest first.
CALLERS = ("anonymous", "visitor", "outsider", "agent", "supervisor", "admin", "owner")
LEAST = {
    "anonymous": Least.PUBLIC,
    "visitor": Least.VISITOR,
    "agent": Least.AGENT,
    "supervisor": Least.SUPERVISOR,
    "admin": Least.ADMIN,
    "owner": Least.OWNER,
    "outsider": Least.OWNER,  # of another workspace
}


@dataclass
class Caller:
    """One caller's browser or program: its own address, and credentials sent explicitly.
    Cookies an answer sets are dropped, so signing up or logging in as part of the matrix
    changes no one's identity; a member takes on only the new session a password change
    gives them (`adopt`)."""

    name: str
    http: httpx.AsyncClient
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def least(self) -> Least:
        return LEAST[self.name]

    async def call(self, method: str, url: str, **kw: Any) -> httpx.Response:
        headers = {**self.headers, **kw.pop("headers", {})}
        try:
            return await self.http.request(method, url, headers=headers, **kw)
        finally:
            self.http.cookies.clear()

    def adopt(self, response: httpx.Response) -> None:
        """Take the new session an answer issues to this member (a password change)."""
        cookie = response.cookies.get(COOKIE_NAME)
        if cookie and "X-CSRF-Token" in self.headers:
            self.headers["Cookie"] = f"{COOKIE_NAME}={cookie}"
            self.headers["X-CSRF-Token"] = response.json()["csrf_token"]


def session_headers(client: AgentClient) -> dict[str, str]:
    cookie = client.http.cookies.get(COOKIE_NAME)
    assert cookie
    return {
        "Cookie": f"{COOKIE_NAME}={cookie}",
        "X-CSRF-Token": client.http.headers["X-CSRF-Token"],
    }


def address_client(app: Starlette, host: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(host, 41000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=30)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def created(client: AgentClient, path: str, body: Any) -> dict[str, Any]:
    response = await client.post(path, json=body)
    assert response.status_code == 201, (path, response.text)
    answer: dict[str, Any] = response.json()
    return answer


@dataclass
class World:
    app: Starlette
    slug: str
    ids: dict[str, str]
    visitor_token: str
    callers: dict[str, Caller]
    logins: dict[str, dict[str, str]]  # each member's workspace and email
    password: str = PASSWORD  # every member's, until the matrix changes it

    async def log_in(self, name: str, password: str) -> dict[str, str]:
        """A new session of the member's own, apart from the one the matrix calls with."""
        client = address_client(self.app, "192.0.2.20")
        body = {**self.logins[name], "password": password}
        try:
            response = await client.post("/api/v1/auth/login", json=body)
            assert response.status_code == 200, (name, response.text)
            cookie = response.cookies[COOKIE_NAME]
        finally:
            await client.aclose()
        return {"Cookie": f"{COOKIE_NAME}={cookie}", "X-CSRF-Token": response.json()["csrf_token"]}

    async def log_in_again(self, password: str) -> None:
        """Every member signs in anew (after the matrix logged them out everywhere)."""
        self.password = password
        for name in self.logins:
            self.callers[name].headers.update(await self.log_in(name, password))

    @property
    def markers(self) -> tuple[str, ...]:
        """What of the victim's an outsider's answer may never contain."""
        keys = ("workspace_id", "ticket_id", "contact_id", "conversation_id", "team_id")
        return (*(self.ids[k] for k in keys), "VICTIM")

    async def _created(self, path: str, body: Any) -> dict[str, Any]:
        # As the owner's current session: a password change in the matrix renews it.
        response = await self.callers["owner"].call("POST", "/api/v1" + path, json=body)
        assert response.status_code == 201, (path, response.text)
        answer: dict[str, Any] = response.json()
        return answer

    async def fresh_ticket(self) -> dict[str, Any]:
        return await self.fresh("ticket")

    async def fresh(self, kind: str) -> dict[str, Any]:
        """A throwaway resource of the victim's, for one destructive call."""
        path, body = THROWAWAY[kind]
        return await self._created(path, body())


THROWAWAY: dict[str, tuple[str, Callable[[], dict[str, Any]]]] = {
    "ticket": ("/tickets", lambda: {"subject": unique("VICTIM ticket")}),
    "contact": ("/contacts", lambda: {"email": unique("c") + "@x.example"}),
    "canned": ("/canned-responses", lambda: {"shortcut": unique("c"), "body": "b"}),
    "team": ("/teams", lambda: {"name": unique("Team")}),
    "invitation": ("/invitations", lambda: {"email": unique("i") + "@x.example", "name": "In"}),
    "token": ("/api-tokens", lambda: {"name": unique("tok")}),
    "article": ("/kb/articles", lambda: {"title": unique("A"), "body": "B", "status": "published"}),
}


async def build_world(app: Starlette) -> World:
    slug = unique("victim")
    owner = await sign_up(app, slug, name="Olivia Owner")
    roles = ("agent", "supervisor", "admin")
    *joined, spare, outsider = await asyncio.gather(
        *(invite_and_join(owner, app, f"{role.title()} Person", role) for role in roles),
        invite_and_join(owner, app, "Sam Spare", "agent"),
        sign_up(app, name="Oscar Outsider"),
    )
    people = dict(zip(roles, joined, strict=True))
    ids: dict[str, str] = {
        "spare_id": spare.user_id,
        "owner_id": owner.user_id,
        "agent_id": people["agent"].user_id,
    }

    settings = await owner.patch("/workspace", json={"allowed_origins": [SITE]})
    assert settings.status_code == 200, settings.text
    ids["workspace_id"] = settings.json()["id"]
    assert (await owner.put("/channels/email")).status_code == 200
    assert (await owner.put("/channels/whatsapp", json=WHATSAPP)).status_code == 200
    # AI on with a key but no budget: its operations answer 402 to whoever may use them,
    # without a model call, so a 403 there can only be the role.
    ai = {"enabled": True, "suggestions": False, "api_key": "sk-test", "monthly_credit_cap": 0}
    assert (await owner.patch("/ai/settings", json=ai)).status_code == 200

    team = await created(owner, "/teams", {"name": "VICTIM team"})
    contact = await created(owner, "/contacts", {"email": "carla@victim.example"})
    ticket = await created(
        owner,
        "/tickets",
        {
            "subject": "VICTIM refund",
            "contact": {"id": contact["id"]},
            "message": {"text": "VICTIM charged twice"},
            "team_id": team["id"],
        },
    )
    thread = (await owner.get(f"/tickets/{ticket['id']}")).json()["messages"]
    note = await owner.post(
        f"/tickets/{ticket['id']}/messages", json={"text": "VICTIM note", "kind": "note"}
    )
    assert note.status_code == 201, note.text
    article = await created(
        owner,
        "/kb/articles",
        {"title": "VICTIM refunds", "body": "How refunds work.", "status": "published"},
    )
    canned = await created(owner, "/canned-responses", {"shortcut": "thanks", "body": "Thanks!"})
    invitation = await created(
        owner, "/invitations", {"email": "pending@victim.example", "name": "Pending Person"}
    )
    token = await created(owner, "/api-tokens", {"name": "crm"})
    upload = await owner.post(
        "/attachments", params={"filename": "a.txt"}, content=b"VICTIM file",
        headers={"content-type": "text/plain"},
    )  # fmt: skip
    assert upload.status_code == 201, upload.text
    avatar = await spare.put("/me/avatar", content=PNG, headers={"content-type": "image/png"})
    assert avatar.status_code == 200, avatar.text
    ids.update(
        team_id=team["id"],
        contact_id=contact["id"],
        ticket_id=ticket["id"],
        message_id=thread[0]["id"],
        article_id=article["id"],
        article_slug=article["slug"],
        canned_id=canned["id"],
        invitation_token=invitation["token"],
        token_id=token["id"],
        blob_id=upload.json()["id"],
    )

    visitor_token = await _visitor(app, owner, ids)
    callers = {
        name: Caller(name, address_client(app, f"198.51.100.{n + 10}"))
        for n, name in enumerate(CALLERS)
    }
    callers["visitor"].headers["Authorization"] = "Bearer " + visitor_token
    for name, client in {**people, "owner": owner, "outsider": outsider}.items():
        callers[name].headers.update(session_headers(client))
    sessions = await spare.get("/me/sessions")
    assert sessions.status_code == 200, sessions.text
    ids["spare_session_id"] = next(s["id"] for s in sessions.json() if s["current"])
    for client in (*people.values(), spare, outsider, owner):
        await client.aclose()
    logins = {
        name: {"workspace": ws, "email": f"{handle}@{ws}.example"}
        for name, ws, handle in (
            *((role, slug, role) for role in roles),
            ("owner", slug, "owner"),
            ("outsider", outsider.workspace_slug, "owner"),
        )
    }
    return World(app, slug, ids, visitor_token, callers, logins)


async def _visitor(app: Starlette, owner: AgentClient, ids: dict[str, str]) -> str:
    """A widget visitor who wrote, uploaded a file and got an answer."""
    site = address_client(app, "203.0.113.9")
    site.headers["Origin"] = SITE
    session = await site.post("/api/v1/widget/session", json={"workspace": ids["workspace_id"]})
    assert session.status_code == 200, session.text
    token = session.json()["visitor_token"]
    site.headers["Authorization"] = "Bearer " + token
    upload = await site.post(
        "/api/v1/widget/attachments", params={"filename": "v.txt"}, content=b"mine",
        headers={"content-type": "text/plain"},
    )  # fmt: skip
    assert upload.status_code == 201, upload.text
    sent = await site.post(
        "/api/v1/widget/messages",
        json={"text": "VICTIM visitor asks", "client_id": uuid.uuid4().hex},
    )
    assert sent.status_code == 201, sent.text
    conversation = sent.json()["conversation_id"]
    reply = await owner.post(f"/tickets/{conversation}/messages", json={"text": "Hello!"})
    assert reply.status_code == 201, reply.text
    ids.update(
        visitor_blob_id=upload.json()["id"],
        visitor_contact_id=session.json()["visitor"]["contact_id"],
        conversation_id=conversation,
        reply_id=reply.json()["message"]["id"],
    )
    await site.aclose()
    return str(token)


__all__ = [
    "CALLERS",
    "EVIL",
    "NEW_PASSWORD",
    "PASSWORD",
    "SITE",
    "WHATSAPP",
    "Caller",
    "World",
    "build_world",
]
