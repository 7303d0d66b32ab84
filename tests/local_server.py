"""A local HTTP server for a test, run by uvicorn in a thread: what the provider fakes
(Postmark, the Graph API, an OpenAI-compatible model) stand on."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
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
