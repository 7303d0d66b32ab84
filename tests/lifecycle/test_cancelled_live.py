"""The live socket of a cancelled workspace, on a real server: agents still connect and read,
but their typing, viewing and presence are refused; a visitor's socket is not accepted."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from realtime.client import TandemClient
from realtime.client_state import ConnectionFailed
from tests.apiclient import PASSWORD
from tests.live.conftest import running
from tests.live.test_two_processes import live_url, signed_up, socket_token

pytestmark = pytest.mark.processes
SITE = "https://shop.example"


@pytest.fixture(scope="module")
def server(request: pytest.FixtureRequest) -> Iterator[str]:
    for urls in running(1, request):
        yield urls[0]


async def test_a_cancelled_workspaces_sockets_read_but_signal_nothing(server: str) -> None:
    owner = await signed_up(server)
    ws = (await owner.get("/me")).json()["workspace"]["id"]
    ticket = (await owner.post("/tickets", json={"subject": "Still readable"})).json()
    assert (await owner.patch("/workspace", json={"allowed_origins": [SITE]})).status_code == 200
    widget = httpx.AsyncClient(base_url=server + "/api/v1/widget", headers={"Origin": SITE})
    visitor = (await widget.post("/session", json={"workspace": ws})).json()

    cancelled = await owner.post("/workspace/cancel", json={"password": PASSWORD})
    assert cancelled.status_code == 200, cancelled.text

    agent = TandemClient(live_url(server), token=await socket_token(owner), topics=["inbox"])
    async with agent:
        await agent.wait_ready()
        await agent.subscribe(f"ticket:{ticket['id']}")  # reading is allowed
        await agent.typing(ticket["id"], True)
        await agent.presence("online")
        async with asyncio.timeout(5):
            while len(agent.errors) < 2:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        assert {e.code for e in agent.errors} == {"forbidden"}
    collision = (await owner.get(f"/tickets/{ticket['id']}/collision")).json()
    assert collision["typing"] == []
    presence = (await owner.get("/presence")).json()
    assert all(member["status"] == "offline" for member in presence)

    # The visitor's socket token was issued before the cancel: the socket is refused anyway.
    refused = TandemClient(live_url(server), token=visitor["socket_token"], origin=SITE)
    with pytest.raises(ConnectionFailed) as closed:
        await refused.start()
    assert closed.value.code == 1008  # policy: not authenticated
    await refused.close()
    await widget.aclose()
    await owner.aclose()
