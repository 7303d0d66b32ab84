"""Twenty agents write to one ticket at once: no update is lost, stale ones get 409."""

import asyncio

from starlette.applications import Starlette

from tests.apiclient import invite_and_join, sign_up


async def test_twenty_concurrent_writers_on_the_same_version(app: Starlette) -> None:
    owner = await sign_up(app)
    ticket = (await owner.post("/tickets", json={"subject": "Busy ticket"})).json()
    seen = ticket["version"]

    async def write(i: int) -> tuple[int, dict]:
        r = await owner.patch(f"/tickets/{ticket['id']}", json={"version": seen, "tags": [f"t{i}"]})
        return r.status_code, r.json()

    results = await asyncio.gather(*(write(i) for i in range(20)))
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] + [409] * 19
    winner = next(body for status, body in results if status == 200)
    for status, body in results:
        if status == 409:
            assert body["error"]["code"] == "stale_version"
            # The loser is told the current state, which is at least the winner's.
            assert body["error"]["details"]["current"]["version"] >= seen
    final = (await owner.get(f"/tickets/{ticket['id']}")).json()["ticket"]
    assert final["version"] == seen + 1
    assert final["tags"] == winner["tags"]
    await owner.aclose()


async def test_twenty_writers_that_retry_on_conflict_lose_nothing(app: Starlette) -> None:
    owner = await sign_up(app)
    agents = [owner] + [
        await invite_and_join(owner, app, f"Agent{i} Smith", "supervisor") for i in range(3)
    ]
    ticket = (await owner.post("/tickets", json={"subject": "Tag me"})).json()
    conflicts = 0

    async def add_tag(i: int) -> None:
        nonlocal conflicts
        client = agents[i % len(agents)]
        while True:
            current = (await client.get(f"/tickets/{ticket['id']}")).json()["ticket"]
            r = await client.patch(
                f"/tickets/{ticket['id']}",
                json={
                    "version": current["version"],
                    "tags": [*current["tags"], f"writer-{i}"],
                },
            )
            if r.status_code == 200:
                return
            assert r.status_code == 409, r.text
            conflicts += 1

    await asyncio.gather(*(add_tag(i) for i in range(20)))
    final = (await owner.get(f"/tickets/{ticket['id']}")).json()["ticket"]
    assert sorted(final["tags"]) == sorted(f"writer-{i}" for i in range(20))
    assert final["version"] == ticket["version"] + 20
    assert conflicts > 0  # they really did collide
    for client in agents:
        await client.aclose()


async def test_a_refused_stale_write_names_who_changed_the_ticket(app: Starlette) -> None:
    owner = await sign_up(app)
    ana = await invite_and_join(owner, app, "Ana Agent")
    bo = await invite_and_join(owner, app, "Bo Agent")
    ticket = (await owner.post("/tickets", json={"subject": "Two hands"})).json()
    assert ticket["changed_by"] is None

    won = await ana.patch(
        f"/tickets/{ticket['id']}", json={"version": ticket["version"], "status": "pending"}
    )
    assert won.status_code == 200, won.text
    lost = await bo.patch(
        f"/tickets/{ticket['id']}", json={"version": ticket["version"], "status": "resolved"}
    )
    assert lost.status_code == 409
    current = lost.json()["error"]["details"]["current"]
    assert current["status"] == "pending"
    assert current["changed_by"] == {"kind": "agent", "id": ana.user_id, "name": "Ana Agent"}
    for client in (owner, ana, bo):
        await client.aclose()
