"""Two real uvicorn processes on one Redis: what one process's API does, the other's sockets
see, in order and once; a reconnect, to either process, misses nothing."""

import asyncio
import uuid

import httpx
import msgspec
import pytest

from realtime.client import TandemClient
from realtime.client_state import ConnectionFailed, ServerError
from realtime.events import Event, Signal

pytestmark = pytest.mark.processes
PASSWORD = "correct horse battery"


async def signed_up(base: str, name: str = "Olivia Owner") -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=base + "/api/v1")
    slug = f"mp-{uuid.uuid4().hex[:10]}"
    r = await client.post(
        "/auth/signup",
        json={
            "workspace_name": slug,
            "workspace_slug": slug,
            "name": name,
            "email": f"owner@{slug}.example",
            "password": PASSWORD,
        },
    )
    assert r.status_code == 201, r.text
    client.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    return client


async def socket_token(client: httpx.AsyncClient) -> str:
    return str((await client.post("/realtime/token")).json()["token"])


def live_url(base: str) -> str:
    return base.replace("http://", "ws://") + "/live"


async def collect(client: TandemClient, count: int) -> list[Event]:
    events: list[Event] = []
    async with asyncio.timeout(10):
        async for event in client:
            events.append(event)
            if len(events) == count:
                break
    return events


async def test_changes_through_b_reach_a_in_order_exactly_once(servers: list[str]) -> None:
    a_url, b_url = servers
    api_b = await signed_up(b_url)
    async with TandemClient(
        live_url(a_url), token=await socket_token(api_b), topics=["inbox"]
    ) as agent_on_a:
        await agent_on_a.wait_ready()
        ticket = (await api_b.post("/tickets", json={"subject": "Live"})).json()
        version = ticket["version"]
        for i in range(10):
            r = await api_b.patch(
                f"/tickets/{ticket['id']}", json={"version": version, "tags": [f"step-{i}"]}
            )
            version = r.json()["version"]
        events = await collect(agent_on_a, 11)
    assert [e.type for e in events] == ["ticket.created"] + ["ticket.updated"] * 10
    assert [e.data.ticket.tags for e in events[1:]] == [[f"step-{i}"] for i in range(10)]
    seqs = [e.seq for e in events]
    assert seqs == sorted(set(seqs))  # strictly increasing, no duplicates
    await api_b.aclose()


async def test_a_reconnect_to_either_process_gets_exactly_the_missed_events(
    servers: list[str],
) -> None:
    a_url, b_url = servers
    api = await signed_up(a_url)
    ticket = (await api.post("/tickets", json={"subject": "Resume me"})).json()
    token = await socket_token(api)
    async with TandemClient(live_url(a_url), token=token, topics=["inbox"]) as first:
        await first.wait_ready()
        await api.patch(f"/tickets/{ticket['id']}", json={"version": 1, "priority": "high"})
        (seen,) = await collect(first, 1)
    # Offline: five changes happen, made through both processes.
    version = 2
    for i in range(5):
        via = (
            api
            if i % 2
            else httpx.AsyncClient(
                base_url=b_url + "/api/v1", cookies=api.cookies, headers=api.headers
            )
        )
        r = await via.patch(
            f"/tickets/{ticket['id']}", json={"version": version, "tags": [f"t{i}"]}
        )
        assert r.status_code == 200, r.text
        version += 1
        if via is not api:
            await via.aclose()
    for url in (b_url, a_url):
        async with TandemClient(
            live_url(url), token=token, topics=["inbox"], since=seen.seq
        ) as back:
            missed = await collect(back, 5)
            assert [e.data.ticket.tags for e in missed] == [[f"t{i}"] for i in range(5)]
            await asyncio.sleep(0.3)
            assert back.last_seq == missed[-1].seq  # nothing more, nothing twice
    await api.aclose()


async def test_presence_and_collision_signals_appear_and_expire(servers: list[str]) -> None:
    a_url, b_url = servers
    owner = await signed_up(a_url)
    ticket = (await owner.post("/tickets", json={"subject": "Who is here?"})).json()
    signals: list[dict] = []

    async def on_signal(signal: Signal) -> None:
        signals.append({"type": signal.type, **msgspec.structs.asdict(signal.data)})

    async with (
        TandemClient(
            live_url(a_url),
            token=await socket_token(owner),
            topics=["inbox", "presence"],
            on_signal=on_signal,
        ) as watcher,
        TandemClient(live_url(b_url), token=await socket_token(owner), topics=["inbox"]) as ana,
    ):
        await watcher.wait_ready()
        await ana.wait_ready()
        await ana.presence("online")
        await ana.viewing(ticket["id"], True)
        await ana.typing(ticket["id"], True)
        async with asyncio.timeout(5):
            while {s["type"] for s in signals} < {"viewing", "typing", "presence"}:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        collision = (await owner.get(f"/tickets/{ticket['id']}/collision")).json()
        assert collision["viewing"]
        assert collision["typing"]
        presence = (await owner.get("/presence")).json()
        assert presence[0]["status"] == "online"
        typing = next(s for s in signals if s["type"] == "typing")
        assert 0 < typing["expires_in"] <= 10
        # Typing expires on its own, with nobody saying stop.
        await asyncio.sleep(typing["expires_in"] + 0.5)
        collision = (await owner.get(f"/tickets/{ticket['id']}/collision")).json()
        assert collision["typing"] == []
        assert collision["viewing"]  # still viewing: its expiry is longer
    await owner.aclose()


async def test_foreign_subscriptions_and_origins_are_refused(servers: list[str]) -> None:
    a_url, _ = servers
    mine = await signed_up(a_url)
    theirs = await signed_up(a_url)
    foreign = (await theirs.post("/tickets", json={"subject": "Not yours"})).json()
    async with TandemClient(live_url(a_url), token=await socket_token(mine)) as client:
        await client.wait_ready()
        with pytest.raises(ServerError) as refused:
            await client.subscribe(f"ticket:{foreign['id']}")
        assert refused.value.code == "not_found"
        await client.subscribe("inbox")
        await theirs.post("/tickets", json={"subject": "Also not yours"})
        await mine.post("/tickets", json={"subject": "Mine"})
        (event,) = await collect(client, 1)
        assert event.data.ticket.subject == "Mine"

    # A cookie sent from another site's page (cross-site WebSocket hijacking) is refused.
    hijack = TandemClient(
        live_url(a_url), cookies=dict(mine.cookies), origin="https://evil.example"
    )
    with pytest.raises(ConnectionFailed) as refused_socket:
        await hijack.start()
    assert refused_socket.value.code == 403
    assert hijack.last_seq is None
    await hijack.close()
    for client in (mine, theirs):
        await client.aclose()
