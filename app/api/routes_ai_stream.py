"""Drafts and summaries written by the workspace's model, streamed to the agent who asked.

The answer is `text/event-stream` on the agent's own request, so it reaches no one else:
`event: delta` with `{"text"}` per piece, then `event: done` with the knowledge-base sources
offered to the model and the call's usage, or `event: error` with `{"code", "message"}` when
the provider fails. An agent stops a draft by aborting the request: the server notices the
disconnect, closes the upstream request, and the ledger records the call as cancelled.

Refusals come before anything is sent, as ordinary JSON errors: another workspace's ticket
(404), AI switched off (403), no key (409), this month's budget used up (402).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
import msgspec
from beanie import PydanticObjectId
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from app.actions.kb import answers
from app.ai.client import ProviderError, TextDelta, stream_chat
from app.ai.ledger import Meter, check_allowed, record
from app.ai.prompts import Line, Source, Who, draft_messages, last_customer_text, summary_messages
from app.api.endpoint import Api, Call
from app.documents import Message, Ticket, Workspace
from app.documents.ai import AiAction, AiOutcome
from app.documents.workspace import AiSettings
from app.domain.errors import Conflict
from app.domain.roles import Action
from app.services.ids import require_id
from app.services.tickets import read_ticket
from app.services.workspaces import get_workspace
from realtime.events import Direction, Kind

log = logging.getLogger("tandem.ai")
api = Api()

MAX_TOKENS: dict[AiAction, int] = {"draft": 800, "summary": 400, "translate": 800}
TIMEOUT_S = 30.0  # to connect, and between two pieces of the answer
SOURCES = 3
MAX_QUESTION_CHARS = 2000  # of the customer's message, to look articles up with
THREAD_READ = 40  # latest messages read; the prompt keeps what fits (app/ai/prompts.py)

INTERNAL = "something went wrong on our side; it was logged"

Emit = Callable[[str, dict[str, Any]], Awaitable[None]]
_encode = msgspec.json.Encoder().encode


def frame(event: str, data: dict[str, Any]) -> bytes:
    return b"event: " + event.encode() + b"\ndata: " + _encode(data) + b"\n\n"


@dataclass
class ModelCall:
    """One metered call, from the first byte sent to the ledger row."""

    http: httpx.AsyncClient
    ws: PydanticObjectId
    user_id: str
    action: AiAction
    ai: AiSettings
    api_key: str
    messages: list[dict[str, str]]
    sources: list[Source] = field(default_factory=list)
    meter: Meter = field(init=False)

    def __post_init__(self) -> None:
        self.meter = Meter(sent_chars=sum(len(m["content"]) for m in self.messages))

    async def run(self, emit: Emit) -> tuple[AiOutcome, str | None]:
        """Stream the answer through `emit`; the outcome and, for a failure, its code."""
        deltas = stream_chat(
            self.http,
            self.ai.base_url,
            self.api_key,
            self.ai.model,
            self.messages,
            max_tokens=MAX_TOKENS[self.action],
            timeout=TIMEOUT_S,
        )
        try:
            async with contextlib.aclosing(deltas):
                async for delta in deltas:
                    if isinstance(delta, TextDelta):
                        self.meter.add(delta.text)
                        await emit("delta", {"text": delta.text})
                    else:
                        self.meter.usage = delta
        except ProviderError as exc:
            log.info("ai %s for workspace %s failed: %s", self.action, self.ws, exc.code)
            if exc.status and self.meter.usage is None and not self.meter.received_chars:
                self.meter.refused = True
            await emit("error", {"code": exc.code, "message": exc.message})
            return "error", exc.code
        input_tokens, output_tokens, cost, estimated = self.meter.figures(self.ai)
        usage = {
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "cost": round(cost, 8),
            "estimated": estimated,
        }
        sources = [{"title": s.title, "url": s.url} for s in self.sources]
        await emit("done", {"sources": sources, "usage": usage})
        return "ok", None

    async def record(self, outcome: AiOutcome, code: str | None) -> None:
        try:
            await record(self.ws, self.user_id, self.action, self.ai, self.meter, outcome, code)
        except Exception:
            log.exception("could not record an AI call in the ledger")


class EventStream(Response):
    """A server-sent-event answer that runs one model call and cancels it when the client
    goes away. It keeps no body, so an idempotency key never replays it."""

    media_type = "text/event-stream"

    def __init__(self, call: ModelCall) -> None:
        self.call = call
        self.status_code = 200
        self.background = None
        self.init_headers({"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})

        async def emit(event: str, data: dict[str, Any]) -> None:
            await send(
                {"type": "http.response.body", "body": frame(event, data), "more_body": True}
            )

        running = asyncio.create_task(self.call.run(emit))
        gone = asyncio.create_task(_disconnected(receive))
        outcome: AiOutcome = "cancelled"
        code: str | None = None
        try:
            await asyncio.wait({running, gone}, return_when=asyncio.FIRST_COMPLETED)
            if running.done():
                outcome, code = _outcome(running)
        finally:
            gone.cancel()
            if not running.done():
                running.cancel()  # the upstream response is closed as the task unwinds
            await asyncio.gather(running, gone, return_exceptions=True)
            await asyncio.shield(self.call.record(outcome, code))
        if outcome != "cancelled":
            with contextlib.suppress(OSError):
                if code == "internal":
                    await emit("error", {"code": code, "message": INTERNAL})
                await send({"type": "http.response.body", "body": b"", "more_body": False})


def _outcome(task: asyncio.Task[tuple[AiOutcome, str | None]]) -> tuple[AiOutcome, str | None]:
    if task.cancelled():
        return "cancelled", None
    error = task.exception()
    if error is None:
        return task.result()
    if isinstance(error, OSError):  # the client went away while a piece was being sent
        return "cancelled", None
    log.error("an AI stream failed", exc_info=error)
    return "error", "internal"


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


# ---- what the model is given -------------------------------------------------------------------


def _line(raw: dict[str, Any]) -> Line | None:
    kind, direction = raw.get("kind", Kind.MESSAGE.value), raw.get("direction")
    if kind == Kind.SYSTEM.value:
        return None
    author = raw.get("author") or {}
    name = str(author.get("name") or "")
    if kind == Kind.NOTE.value:
        return Line("note", name, str(raw.get("text", "")))
    who: Who = "customer" if direction == Direction.IN.value else "agent"
    return Line(who, name, str(raw.get("text", "")))


async def thread_of(ticket: Ticket) -> list[Line]:
    """The ticket's latest messages and notes, oldest first."""
    raw = await (
        Message.get_pymongo_collection()
        .find(
            {"workspace_id": ticket.workspace_id, "ticket_id": ticket.id},
            {"direction": 1, "kind": 1, "author": 1, "text": 1},
        )
        .sort("_id", -1)
        .limit(THREAD_READ)
        .to_list()
    )
    return [line for line in map(_line, reversed(raw)) if line is not None]


async def sources_for(call: Call, workspace: Workspace, question: str) -> list[Source]:
    """The published articles that best answer `question`, for agents (internal ones too,
    without a link)."""
    engine = call.runtime.deps.kb
    if engine is None or workspace.id is None:
        return []
    found = await answers(
        engine, workspace.id, question[:MAX_QUESTION_CHARS], audience="agents", limit=SOURCES
    )
    base = call.runtime.settings.public_url
    return [
        Source(
            title=article.title,
            url=(
                f"{base}/help/{quote(workspace.slug)}/{quote(article.slug)}"
                if article.visibility == "public"
                else None
            ),
            text=hit.passage.text,
        )
        for article, hit in found
        if article.status == "published"
    ]


def _http(call: Call) -> httpx.AsyncClient:
    http: httpx.AsyncClient = call.request.app.state.ai_http
    return http


async def _start(call: Call, action: AiAction) -> EventStream:
    call.agent.require(Action.WORK_TICKETS)
    ws = require_id(call.agent.workspace_id, "workspace")
    ticket = await read_ticket(ws, require_id(call.path("ticket_id"), "ticket"))
    workspace = await get_workspace(call.agent.workspace_id)
    api_key = await check_allowed(ws, workspace.ai)
    lines = await thread_of(ticket)
    sources: Sequence[Source] = []
    if action == "draft":
        question = last_customer_text(lines)
        if question is None:
            raise Conflict(
                "the ticket has no message from the customer to reply to", code="nothing_to_answer"
            )
        sources = await sources_for(call, workspace, question)
        messages = draft_messages(ticket.subject, lines, sources)
    else:
        if not lines:
            raise Conflict("the ticket has no messages to summarize", code="nothing_to_answer")
        messages = summary_messages(ticket.subject, lines)
    model_call = ModelCall(
        _http(call), ws, call.agent.user_id, action, workspace.ai, api_key, messages, list(sources)
    )
    return EventStream(model_call)


STREAM_ERRORS = (402, 403, 404, 409)
EVENTS = (
    'Server-sent events: `event: delta` with `{"text": …}` per piece of the answer, then '
    '`event: done` with `{"sources": [{"title", "url"}], "usage": {"input_tokens", '
    '"output_tokens", "cost", "estimated"}}`, or `event: error` with `{"code", "message"}`. '
    "Abort the request to stop the model."
)


@api.op(
    "POST",
    "/tickets/{ticket_id}/ai/draft",
    summary="A draft reply to the customer's latest message, grounded in the knowledge base, "
    "streamed as text/event-stream (delta…, then done or error)",
    tag="ai",
    errors=STREAM_ERRORS,
    stream=EVENTS,
)
async def ai_draft(call: Call) -> EventStream:
    return await _start(call, "draft")


@api.op(
    "POST",
    "/tickets/{ticket_id}/ai/summary",
    summary="A summary of the ticket's thread, streamed as text/event-stream "
    "(delta…, then done or error)",
    tag="ai",
    errors=STREAM_ERRORS,
    stream=EVENTS,
)
async def ai_summary(call: Call) -> EventStream:
    return await _start(call, "summary")
