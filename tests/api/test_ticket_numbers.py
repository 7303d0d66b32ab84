"""Ticket numbers: consecutive and unique under concurrent creates, and continuing from the
store's highest number when Redis lost the counter."""

from __future__ import annotations

import asyncio

from starlette.applications import Starlette

from app.actions.numbers import counter_key
from app.documents import Counter
from tests.apiclient import AgentClient, runtime_of, sign_up


async def create(owner: AgentClient, subject: str) -> int:
    made = await owner.post("/tickets", json={"subject": subject})
    assert made.status_code == 201, made.text
    return int(made.json()["number"])


async def test_concurrent_creates_get_consecutive_numbers(app: Starlette) -> None:
    owner = await sign_up(app)
    numbers = await asyncio.gather(*(create(owner, f"Rush {n}") for n in range(24)))
    assert sorted(numbers) == list(range(1, 25))
    await owner.aclose()


async def test_numbers_continue_after_redis_lost_the_counter(app: Starlette) -> None:
    owner = await sign_up(app)
    ws = (await owner.get("/me")).json()["workspace"]["id"]
    redis = runtime_of(app).redis
    for n in range(3):
        await create(owner, f"Before {n}")
    await redis.delete(counter_key(ws))
    assert await create(owner, "After a flush") == 4
    # A workspace numbered by the store's counter document (older versions) goes on from it.
    await Counter(id=f"{ws}:tickets", value=40).insert()
    await redis.delete(counter_key(ws))
    assert await create(owner, "After an upgrade") == 41
    await owner.aclose()
