"""The agents' "who is viewing or replying" lists agents only: a widget visitor on the live
socket of a real server never shows up there, whatever frames their socket sends."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from realtime.client import TandemClient
from realtime.events import Signal
from tests.live.conftest import running
from tests.live.test_two_processes import signed_up

pytestmark = pytest.mark.processes
SITE = "https://shop.example"


@pytest.fixture(scope="module")
def server(request: pytest.FixtureRequest) -> Iterator[str]:
    for urls in running(1, request):
        yield urls[0]


async def owner_of_new_workspace(base: str) -> httpx.AsyncClient:
    client = await signed_up(base)
    allowed = await client.patch("/workspace", json={"allowed_origins": [SITE]})
    assert allowed.status_code == 200, allowed.text
    return client


async def collision_showing(
    owner: httpx.AsyncClient, ticket_id: str, agent_id: str
) -> dict[str, list[str]]:
    """The ticket's collision state, once it shows the agent viewing it."""
    for _ in range(100):
        state: dict[str, list[str]] = (await owner.get(f"/tickets/{ticket_id}/collision")).json()
        if agent_id in state["viewing"]:
            return state
        await asyncio.sleep(0.1)
    raise AssertionError(f"the agent never showed as viewing: {state}")


async def test_a_visitor_never_appears_among_a_tickets_viewers_or_repliers(server: str) -> None:
    owner = await owner_of_new_workspace(server)
    me = (await owner.get("/me")).json()
    widget = httpx.AsyncClient(base_url=server + "/api/v1/widget", headers={"Origin": SITE})
    session = (await widget.post("/session", json={"workspace": me["workspace"]["id"]})).json()
    widget.headers["Authorization"] = "Bearer " + session["visitor_token"]
    sent = await widget.post("/messages", json={"text": "Hi there", "client_id": "m1"})
    assert sent.status_code == 201, sent.text
    ticket_id = sent.json()["conversation_id"]
    visitor_id = session["visitor"]["contact_id"]
    agent_id = me["user_id"]

    customer_typing = asyncio.Event()

    async def on_signal(signal: Signal) -> None:
        if signal.type == "typing" and signal.data.user == visitor_id and signal.data.on:
            customer_typing.set()

    live = server.replace("http://", "ws://") + "/live"
    agent_token = (await owner.post("/realtime/token")).json()["token"]
    async with (
        TandemClient(
            live, token=agent_token, topics=[f"ticket:{ticket_id}"], on_signal=on_signal
        ) as agent,
        TandemClient(
            live, token=session["socket_token"], origin=SITE, topics=[f"ticket:{ticket_id}"]
        ) as visitor,
    ):
        await agent.wait_ready()
        await visitor.wait_ready()
        await agent.viewing(ticket_id, True)
        # Everything a visitor's socket could send about the ticket.
        await visitor.viewing(ticket_id, True)
        await visitor.typing(ticket_id, True)
        # The agent is told live that the customer is typing: the visitor's frames were handled.
        await asyncio.wait_for(customer_typing.wait(), 10)
        collision = await collision_showing(owner, ticket_id, agent_id)

    assert collision["viewing"] == [agent_id]
    assert visitor_id not in collision["typing"]
    assert [str(e) for e in visitor.errors] == ["forbidden: this connection may not send viewing"]
    for client in (owner, widget):
        await client.aclose()
