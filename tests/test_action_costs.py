"""One user action = one write = one event, counted from outside the app: every command its
store client sends (a pymongo CommandListener), every lock and Redis command (MONITOR), every
event published (a pub/sub subscriber) — the spy bench/actions runs, on the suite's services."""

from collections.abc import AsyncIterator

import pytest

from app.main import create_app
from bench.actions.actions import (
    Bench,
    Prepare,
    agent_reply,
    customer_message_reopens,
    private_note,
    status_and_assignee,
    status_change,
    widget_first_message,
)
from bench.actions.spy import ActionCounts, ActionSpy
from tests import apiclient


@pytest.fixture(scope="module")
async def measured(
    mongodb_url: str, redis_url: str, db_name: str
) -> AsyncIterator[tuple[ActionSpy, Bench]]:
    spy = ActionSpy(redis_url)  # its store listener before the app builds its client
    app = create_app(apiclient.test_settings(mongodb_url, redis_url, db_name))
    async with app.router.lifespan_context(app), spy:
        bench = await Bench.sign_up(app)
        yield spy, bench
        await bench.aclose()


async def cost(measured: tuple[ActionSpy, Bench], prepare: Prepare) -> ActionCounts:
    spy, bench = measured
    act = await prepare(bench)
    async with spy.measure() as window:
        await act()
    return window.counts


async def test_a_status_change_is_one_write_one_lock_one_event(
    measured: tuple[ActionSpy, Bench],
) -> None:
    counts = await cost(measured, status_change)
    assert counts.events == {"ticket.updated": 1}  # the timeline line rides in it
    assert counts.totals()["writes"] == 1
    assert counts.totals()["locks"] <= 1


async def test_a_status_and_assignee_change_is_one_write_and_one_event(
    measured: tuple[ActionSpy, Bench],
) -> None:
    counts = await cost(measured, status_and_assignee)
    assert counts.events == {"ticket.updated": 1}
    assert counts.totals()["writes"] == 1
    assert counts.totals()["locks"] <= 1


@pytest.mark.parametrize("prepare", [agent_reply, private_note, customer_message_reopens])
async def test_a_message_is_one_event_carrying_its_ticket(
    measured: tuple[ActionSpy, Bench], prepare: Prepare
) -> None:
    counts = await cost(measured, prepare)
    assert counts.events == {"message.created": 1}
    assert counts.locks.get("tickets", 0) == 1


async def test_a_widget_visitors_first_message_is_at_most_two_events(
    measured: tuple[ActionSpy, Bench],
) -> None:
    counts = await cost(measured, widget_first_message)
    assert counts.events == {"ticket.created": 1, "message.created": 1}
