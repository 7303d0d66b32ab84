"""Snoozed tickets wake up by themselves: the worker's timer reopens them through the normal
action, agents see it live, and a worker killed while a timer is due still wakes it, once."""

import asyncio
import os
import signal
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis

from app.actions.tickets import wake_key
from app.jobs import JobQueue
from app.jobs.timers import Timers
from realtime.client import TandemClient
from realtime.events import Event, Status, TicketUpdated
from tests.live.test_two_processes import live_url, signed_up, socket_token
from tests.servers import start_worker, tandem_worker

pytestmark = pytest.mark.processes


def wakes(events: list[Event], ticket_id: str) -> list[TicketUpdated]:
    return [
        e
        for e in events
        if isinstance(e, TicketUpdated)
        and e.ticket == ticket_id
        and e.actor.kind == "system"
        and e.data.ticket.status is Status.OPEN
    ]


def collect_into(events: list[Event]) -> Callable[[Event], Awaitable[None]]:
    async def on_event(event: Event) -> None:
        events.append(event)

    return on_event


async def snooze(api: httpx.AsyncClient, subject: str, seconds: float) -> tuple[str, datetime]:
    ticket = (await api.post("/tickets", json={"subject": subject})).json()
    due = datetime.now(UTC) + timedelta(seconds=seconds)
    r = await api.patch(
        f"/tickets/{ticket['id']}",
        json={"version": ticket["version"], "status": "snoozed", "snoozed_until": due.isoformat()},
    )
    assert r.status_code == 200, r.text
    return ticket["id"], due


async def wait_for(condition: Callable[[], object], seconds: float = 20.0) -> None:
    async with asyncio.timeout(seconds):
        while True:
            if condition():
                return
            await asyncio.sleep(0.1)


async def test_a_snoozed_ticket_reopens_when_its_time_comes_and_agents_see_it(
    server: str, mongodb_url: str, redis_url: str, db_name: str, tmp_path: Path
) -> None:
    api = await signed_up(server)
    events: list[Event] = []
    on_event = collect_into(events)

    with tandem_worker(
        mongodb_url=mongodb_url,
        redis_url=redis_url,
        db_name=db_name,
        log_path=tmp_path / "worker.log",
    ):
        async with TandemClient(
            live_url(server), token=await socket_token(api), topics=["inbox"], on_event=on_event
        ) as agent:
            await agent.wait_ready()
            ticket_id, due = await snooze(api, "Call back tomorrow", 2.0)
            await wait_for(lambda: wakes(events, ticket_id))

    (woke,) = wakes(events, ticket_id)
    assert woke.data.changed == ["snoozed_until", "status"]
    assert woke.data.ticket.snoozed_until is None
    assert woke.at >= due
    assert [line.text for line in woke.data.lines] == ["Tandem set the status to open"]
    detail = (await api.get(f"/tickets/{ticket_id}")).json()
    assert detail["ticket"]["status"] == "open"
    assert detail["messages"][-1]["text"] == "Tandem set the status to open"
    await api.aclose()


async def test_a_ticket_snoozed_again_keeps_sleeping_until_its_new_time(
    server: str, mongodb_url: str, redis_url: str, db_name: str, tmp_path: Path
) -> None:
    api = await signed_up(server)
    with tandem_worker(
        mongodb_url=mongodb_url,
        redis_url=redis_url,
        db_name=db_name,
        log_path=tmp_path / "worker.log",
    ):
        ticket_id, _ = await snooze(api, "Not yet", 1.5)
        later = datetime.now(UTC) + timedelta(hours=1)
        current = (await api.get(f"/tickets/{ticket_id}")).json()["ticket"]
        r = await api.patch(
            f"/tickets/{ticket_id}",
            json={"version": current["version"], "snoozed_until": later.isoformat()},
        )
        assert r.status_code == 200, r.text
        await asyncio.sleep(4)  # well past the first time: its timer was replaced

    ticket = (await api.get(f"/tickets/{ticket_id}")).json()["ticket"]
    assert ticket["status"] == "snoozed"
    assert datetime.fromisoformat(ticket["snoozed_until"]) == later.replace(
        microsecond=later.microsecond // 1000 * 1000
    )
    await api.aclose()


async def test_a_worker_killed_while_a_timer_is_due_still_wakes_the_ticket_once(
    server: str, mongodb_url: str, redis_url: str, db_name: str, tmp_path: Path
) -> None:
    api = await signed_up(server)
    events: list[Event] = []
    on_event = collect_into(events)

    log_path = tmp_path / "worker.log"
    first = start_worker(
        mongodb_url=mongodb_url, redis_url=redis_url, db_name=db_name, log_path=log_path
    )
    try:
        async with TandemClient(
            live_url(server), token=await socket_token(api), topics=["inbox"], on_event=on_event
        ) as agent:
            await agent.wait_ready()
            ticket_id, due = await snooze(api, "Wake me", 2.0)
            await asyncio.sleep(1.0)
            os.kill(first.pid, signal.SIGKILL)
            first.wait()
            # The due time passes with no worker running: the ticket sleeps on.
            await asyncio.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()) + 1.5)
            still = (await api.get(f"/tickets/{ticket_id}")).json()["ticket"]
            assert still["status"] == "snoozed"
            assert wakes(events, ticket_id) == []

            with tandem_worker(
                mongodb_url=mongodb_url,
                redis_url=redis_url,
                db_name=db_name,
                log_path=log_path,
            ):
                await wait_for(lambda: wakes(events, ticket_id))
                await asyncio.sleep(3)  # room for a second firing, which must not come
    finally:
        if first.poll() is None:
            first.kill()

    assert len(wakes(events, ticket_id)) == 1
    assert (await api.get(f"/tickets/{ticket_id}")).json()["ticket"]["status"] == "open"
    await api.aclose()


async def test_a_worker_starting_wakes_tickets_overdue_without_a_timer(
    server: str, mongodb_url: str, redis_url: str, db_name: str, tmp_path: Path
) -> None:
    api = await signed_up(server)
    ticket_id, due = await snooze(api, "Snoozed before timers existed", 1.0)
    redis = aioredis.from_url(redis_url)
    try:
        # As if it had been snoozed by a version of Tandem without timers.
        assert await Timers(JobQueue(redis)).cancel(wake_key(ticket_id))
    finally:
        await redis.aclose()
    await asyncio.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()) + 0.5)

    with tandem_worker(
        mongodb_url=mongodb_url,
        redis_url=redis_url,
        db_name=db_name,
        log_path=tmp_path / "worker.log",
    ):

        async def woken() -> bool:
            ticket = (await api.get(f"/tickets/{ticket_id}")).json()["ticket"]
            return bool(ticket["status"] == "open")

        async with asyncio.timeout(20):
            while True:
                if await woken():
                    break
                await asyncio.sleep(0.2)
    await api.aclose()
