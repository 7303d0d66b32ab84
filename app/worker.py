"""The background process: publishes outbox events left behind by crashed writers, and is
where delivery queues for outbound channels run."""

from __future__ import annotations

import asyncio
import logging
import signal

from app.main import build_runtime, close_runtime, sweep_forever
from app.settings import Settings

log = logging.getLogger("tandem.worker")


async def run_worker(settings: Settings) -> None:
    runtime = await build_runtime(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    sweeper = asyncio.create_task(sweep_forever(runtime.relay))
    log.info("worker running")
    try:
        await stop.wait()
    finally:
        sweeper.cancel()
        await asyncio.gather(sweeper, return_exceptions=True)
        await close_runtime(runtime)
