"""A local HTTP server for a test, run by uvicorn in a thread: what the provider fakes
(Postmark, the Graph API, an OpenAI-compatible model) stand on."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from starlette.types import ASGIApp

from app.devservices.process import free_port


@contextmanager
def serving(app: ASGIApp, log_level: str = "warning", **options: Any) -> Iterator[str]:
    """Serve `app` on a free loopback port until the block ends; yields its base URL.
    `options` go to uvicorn's config."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level=log_level, **options)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    while not server.started:
        threading.Event().wait(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=5)


@contextlib.asynccontextmanager
async def serving_in_this_loop(app: ASGIApp) -> AsyncIterator[str]:
    """Serve `app` from the test's own event loop (an app already started there, sharing its
    store and Redis clients) on a free loopback port; yields its `ws://` base URL."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, lifespan="off", ws="websockets-sansio", log_level="error"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(10):
        while not server.started:  # noqa: ASYNC110  # uvicorn offers a flag, not an event
            await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"ws://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
