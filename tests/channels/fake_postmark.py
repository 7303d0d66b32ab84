"""A local HTTP server that speaks Postmark's `POST /email`: it keeps what it was sent and
answers as told (200 with a MessageID, a 422 with an ErrorCode, a 5xx); and its outbound
message search, `GET /messages/outbound`, filtered by `metadata_<key>` as Postmark's is."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.local_server import serving


@dataclass
class FakePostmark:
    url: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)
    # What to answer next, in order; 200 once they run out.
    script: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    # The emails it took (answered 200), with the MessageID it gave them.
    sent: list[dict[str, Any]] = field(default_factory=list)
    # Seconds to wait after taking an email before answering: a sender killed meanwhile
    # never learns it went out.
    stall: float = 0.0
    searches: int = 0

    def app(self) -> Starlette:
        async def email(request: Request) -> JSONResponse:
            body = await request.json()
            self.received.append(body)
            self.tokens.append(request.headers.get("x-postmark-server-token", ""))
            if self.script:
                status, answer = self.script.pop(0)
                return JSONResponse(answer, status_code=status)
            message_id = str(uuid.uuid4())
            self.sent.append({**body, "MessageID": message_id})
            if self.stall:
                await asyncio.sleep(self.stall)
            return JSONResponse(
                {"ErrorCode": 0, "Message": "OK", "MessageID": message_id}, status_code=200
            )

        async def search(request: Request) -> JSONResponse:
            self.searches += 1
            if not request.headers.get("x-postmark-server-token"):
                return JSONResponse({"ErrorCode": 10, "Message": "No token"}, status_code=401)
            wanted = {
                key.removeprefix("metadata_"): value
                for key, value in request.query_params.items()
                if key.startswith("metadata_")
            }
            found = [
                m
                for m in self.sent
                if all(m.get("Metadata", {}).get(k) == v for k, v in wanted.items())
            ]
            count = int(request.query_params.get("count", "0"))
            offset = int(request.query_params.get("offset", "0"))
            page = [
                {"MessageID": m["MessageID"], "Metadata": m.get("Metadata", {}), "Status": "Sent"}
                for m in reversed(found)
            ][offset : offset + count]
            return JSONResponse({"TotalCount": len(found), "Messages": page})

        return Starlette(
            routes=[
                Route("/email", email, methods=["POST"]),
                Route("/messages/outbound", search, methods=["GET"]),
            ]
        )


@contextmanager
def fake_postmark() -> Iterator[FakePostmark]:
    fake = FakePostmark()
    with serving(fake.app()) as url:
        fake.url = url
        yield fake
