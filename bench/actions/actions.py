"""The user actions the probe measures, each as an unmeasured preparation and a measured act.

Everything goes through the HTTP API of an in-process app (httpx over ASGI), as a browser, an
API caller or a webchat widget would call it, so the same code measures whatever write path
the server has.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette

PREFIX = "/api/v1"
SITE = "https://shop.example"  # the widget's host page, put on the allowed origins
PASSWORD = "correct horse battery staple"

Act = Callable[[], Awaitable[None]]


def expect(response: httpx.Response, *codes: int) -> dict[str, Any]:
    if response.status_code not in codes:
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path}: "
            f"{response.status_code} {response.text[:300]}"
        )
    if response.status_code == 204 or not response.content:
        return {}
    body: dict[str, Any] = response.json()
    return body


def asgi_client(app: Starlette, base: str, **headers: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    return httpx.AsyncClient(
        transport=transport, base_url="http://testserver" + base, headers=headers, timeout=30
    )


@dataclass
class Visitor:
    """A webchat visitor's browser on the host site."""

    http: httpx.AsyncClient
    messages: itertools.count[int] = field(default_factory=itertools.count)
    conversation_id: str = ""

    async def send(self, text: str) -> dict[str, Any]:
        body = expect(
            await self.http.post(
                "/messages", json={"text": text, "client_id": f"m{next(self.messages)}"}
            ),
            201,
        )
        self.conversation_id = str(body["conversation_id"])
        return body


@dataclass
class Bench:
    """A workspace with its owner and one agent, and the clients the actions use."""

    app: Starlette
    owner: httpx.AsyncClient
    agent: httpx.AsyncClient
    agent_id: str
    workspace_id: str
    serial: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    clients: list[httpx.AsyncClient] = field(default_factory=list)

    @classmethod
    async def sign_up(cls, app: Starlette) -> Bench:
        slug = "probe-" + secrets.token_hex(4)
        owner = asgi_client(app, PREFIX)
        signed = expect(
            await owner.post(
                "/auth/signup",
                json={
                    "workspace_name": "Action probe",
                    "workspace_slug": slug,
                    "name": "Olivia Owner",
                    "email": f"owner@{slug}.example",
                    "password": PASSWORD,
                },
            ),
            200,
            201,
        )
        owner.headers["X-CSRF-Token"] = signed["csrf_token"]
        workspace = expect(await owner.patch("/workspace", json={"allowed_origins": [SITE]}), 200)
        invited = expect(
            await owner.post(
                "/invitations",
                json={"email": f"ana@{slug}.example", "name": "Ana Agent", "role": "agent"},
            ),
            201,
        )
        agent = asgi_client(app, PREFIX)
        joined = expect(
            await agent.post(
                "/invitations/accept", json={"token": invited["token"], "password": PASSWORD}
            ),
            200,
            201,
        )
        agent.headers["X-CSRF-Token"] = joined["csrf_token"]
        return cls(app, owner, agent, str(joined["user_id"]), str(workspace["id"]))

    def unique(self, what: str) -> str:
        return f"{what}-{next(self.serial)}"

    async def new_ticket(self) -> dict[str, Any]:
        """An open, unassigned ticket from a customer (by email) with their first message."""
        return expect(
            await self.owner.post(
                "/tickets",
                json={
                    "subject": self.unique("Charged twice"),
                    "contact": {"email": self.unique("carla") + "@example.com"},
                    "message": {"text": "I was charged twice this month."},
                },
            ),
            201,
        )

    async def patch(self, ticket: dict[str, Any], **changes: Any) -> dict[str, Any]:
        body = {"version": ticket["version"], **changes}
        return expect(await self.agent.patch(f"/tickets/{ticket['id']}", json=body), 200)

    async def visitor(self) -> Visitor:
        http = asgi_client(self.app, PREFIX + "/widget", Origin=SITE)
        self.clients.append(http)
        session = expect(await http.post("/session", json={"workspace": self.workspace_id}), 200)
        http.headers["Authorization"] = "Bearer " + session["visitor_token"]
        return Visitor(http)

    async def aclose(self) -> None:
        for client in [self.owner, self.agent, *self.clients]:
            await client.aclose()


Prepare = Callable[[Bench], Awaitable[Act]]


@dataclass(frozen=True)
class Action:
    key: str
    label: str
    prepare: Prepare


async def nothing(b: Bench) -> Act:
    async def act() -> None:
        pass

    return act


async def status_change(b: Bench) -> Act:
    ticket = await b.new_ticket()

    async def act() -> None:
        await b.patch(ticket, status="pending")

    return act


async def status_and_assignee(b: Bench) -> Act:
    ticket = await b.new_ticket()

    async def act() -> None:  # the agent takes the unassigned ticket and sets it pending
        await b.patch(ticket, status="pending", assignee_id=b.agent_id)

    return act


async def priority_change(b: Bench) -> Act:
    ticket = await b.new_ticket()

    async def act() -> None:
        await b.patch(ticket, priority="high")

    return act


async def agent_reply(b: Bench) -> Act:
    ticket = await b.new_ticket()

    async def act() -> None:
        text = "Sorry about that: the second charge is refunded."
        expect(await b.agent.post(f"/tickets/{ticket['id']}/messages", json={"text": text}), 201)

    return act


async def private_note(b: Bench) -> Act:
    ticket = await b.new_ticket()

    async def act() -> None:
        body = {"text": "Refund issued in the billing tool.", "kind": "note"}
        expect(await b.agent.post(f"/tickets/{ticket['id']}/messages", json=body), 201)

    return act


async def customer_message_reopens(b: Bench) -> Act:
    visitor = await b.visitor()
    await visitor.send("Hello, my order has not arrived.")
    ticket = expect(await b.agent.get(f"/tickets/{visitor.conversation_id}"), 200)["ticket"]
    await b.patch(ticket, status="pending")

    async def act() -> None:
        await visitor.send("It arrived today, but the box is damaged.")

    return act


async def widget_session(b: Bench) -> Act:
    async def act() -> None:
        await b.visitor()

    return act


async def widget_first_message(b: Bench) -> Act:
    visitor = await b.visitor()

    async def act() -> None:
        await visitor.send("Hello, my order has not arrived.")

    return act


async def widget_next_message(b: Bench) -> Act:
    visitor = await b.visitor()
    await visitor.send("Hello, my order has not arrived.")

    async def act() -> None:
        await visitor.send("The order number is 4242.")

    return act


async def create_ticket_with_message(b: Bench) -> Act:
    async def act() -> None:
        body = {
            "subject": b.unique("Invoice missing"),
            "contact": {"email": b.unique("dan") + "@example.com"},
            "message": {"text": "Where is my invoice for March?"},
        }
        expect(await b.agent.post("/tickets", json=body), 201)

    return act


ACTIONS: tuple[Action, ...] = (
    Action("nothing", "nothing (control: an empty window)", nothing),
    Action("status", "status change (open → pending)", status_change),
    Action(
        "status_assignee",
        "status + assignee together (agent takes it, pending)",
        status_and_assignee,
    ),
    Action("priority", "priority change", priority_change),
    Action("reply", "agent reply", agent_reply),
    Action("note", "private note", private_note),
    Action(
        "customer_message",
        "customer message on an existing ticket (webchat, reopens it from pending)",
        customer_message_reopens,
    ),
    Action("widget_session", "widget: a new visitor's session", widget_session),
    Action(
        "widget_first",
        "widget: visitor's first message (creates the ticket)",
        widget_first_message,
    ),
    Action("widget_next", "widget: visitor's next message (open ticket)", widget_next_message),
    Action(
        "create_ticket",
        "create ticket with a first message (API, new contact by email)",
        create_ticket_with_message,
    ),
)
