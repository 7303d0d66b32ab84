"""A local HTTP server that speaks Postmark's `POST /email`: it keeps what it was sent and
answers as told (200 with a MessageID, a 422 with an ErrorCode, a 5xx)."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from app.devservices.process import free_port


@dataclass
class FakePostmark:
    url: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)
    # What to answer next, in order; 200 once they run out.
    script: list[tuple[int, dict[str, Any]]] = field(default_factory=list)

    def app(self) -> Starlette:
        async def email(request: Request) -> JSONResponse:
            self.received.append(await request.json())
            self.tokens.append(request.headers.get("x-postmark-server-token", ""))
            if self.script:
                status, body = self.script.pop(0)
                return JSONResponse(body, status_code=status)
            return JSONResponse(
                {"ErrorCode": 0, "Message": "OK", "MessageID": str(uuid.uuid4())}, status_code=200
            )

        return Starlette(routes=[Route("/email", email, methods=["POST"])])


@contextmanager
def fake_postmark() -> Iterator[FakePostmark]:
    fake = FakePostmark()
    port = free_port()
    config = uvicorn.Config(fake.app(), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    while not server.started:
        threading.Event().wait(0.01)
    fake.url = f"http://127.0.0.1:{port}"
    try:
        yield fake
    finally:
        server.should_exit = True
        thread.join(timeout=5)
