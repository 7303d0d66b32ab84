"""Login throttling holds under parallel guessing, never answers 500 under a burst, and
cannot be turned against the account's owner: guessing from elsewhere makes strangers wait,
not the owner at an address they log in from."""

from __future__ import annotations

import asyncio

import httpx
from starlette.applications import Starlette

from tests.apiclient import PASSWORD, AgentClient, sign_up


def browser_at(app: Starlette, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver/api/v1")


async def real_checks(owner: AgentClient) -> int:
    """How many guesses had their password checked: each wrong one is audited."""
    events = (
        await owner.get("/audit-events", params={"action": "login.failed", "limit": 200})
    ).json()
    return sum(1 for e in events if e["data"]["reason"] == "wrong_password")


async def guess(client: httpx.AsyncClient, slug: str, password: str) -> httpx.Response:
    body = {"workspace": slug, "email": f"owner@{slug}.example", "password": password}
    return await client.post("/auth/login", json=body)


async def test_parallel_guesses_from_one_address_get_ten_checks_at_most(app: Starlette) -> None:
    owner = await sign_up(app)
    async with browser_at(app, "203.0.113.7") as attacker:
        answers = await asyncio.gather(
            *(guess(attacker, owner.workspace_slug, f"guess-{n}") for n in range(40))
        )
    codes = sorted(a.status_code for a in answers)
    assert set(codes) == {401, 429}, codes
    assert codes.count(401) == 10
    assert all(a.headers.get("retry-after") for a in answers if a.status_code == 429)
    assert await real_checks(owner) == 10
    await owner.aclose()


async def test_a_burst_from_many_addresses_gets_no_server_error_and_backs_off(
    app: Starlette,
) -> None:
    owner = await sign_up(app)
    clients = [browser_at(app, f"198.51.100.{n % 250 + 1}") for n in range(150)]
    try:
        answers = await asyncio.gather(
            *(guess(c, owner.workspace_slug, f"spray-{n}") for n, c in enumerate(clients))
        )
    finally:
        for client in clients:
            await client.aclose()
    codes = [a.status_code for a in answers]
    assert set(codes) <= {401, 429}, sorted(set(codes))
    # Twenty failures from strangers, then one more that starts the back-off: the rest wait.
    assert await real_checks(owner) == 21
    waits = [int(a.headers["retry-after"]) for a in answers if a.status_code == 429]
    assert len(waits) == 129
    assert all(1 <= w <= 900 for w in waits)
    await owner.aclose()


async def test_guessing_from_elsewhere_cannot_lock_the_owner_out(app: Starlette) -> None:
    owner = await sign_up(app)
    slug = owner.workspace_slug
    async with browser_at(app, "192.0.2.10") as office:
        assert (await guess(office, slug, PASSWORD)).status_code == 200
        for n in range(40):  # strangers, one address after another
            async with browser_at(app, f"203.0.113.{n + 1}") as attacker:
                await guess(attacker, slug, f"try-{n}")
        async with browser_at(app, "203.0.113.200") as stranger:
            held = await guess(stranger, slug, PASSWORD)
            assert held.status_code == 429  # even the right password waits from elsewhere
        assert (await guess(office, slug, PASSWORD)).status_code == 200
    await owner.aclose()
