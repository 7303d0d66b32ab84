"""Waiting that ends early when the worker is told to stop."""

from __future__ import annotations

import asyncio


def reraise_if_cancelled() -> None:
    """Raise the current task's cancellation if a library swallowed it.

    redis-py can answer a task cancelled in the middle of a command with a connection error
    instead of CancelledError, and (8.1 here, measured) a cancellation that lands while a
    connection is being set up is often lost outright: the command returns normally. A loop
    that carries on would then never stop (its task stays "cancelling" forever), so every
    loop of the job runner calls this each turn and in its `except` for Redis errors."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


async def wait_any(*events: asyncio.Event) -> None:
    """Return when any of `events` is set."""
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
        await asyncio.gather(*waiters, return_exceptions=True)


async def pause(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep up to `seconds`; True when `stop` was set meanwhile.

    The time limit is `asyncio.wait`'s, not a cancellation: on Python 3.11 a task cancelled
    just as an `asyncio.timeout` expired could see its cancellation turned into the timeout's
    TimeoutError and swallowed, and a worker told to stop then looped on forever."""
    waiter = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait([waiter], timeout=max(seconds, 0.0))
    finally:
        waiter.cancel()
    return stop.is_set()
