"""Live suggestions: when a customer writes, the agents on the ticket are offered answers.

The relay turns each new customer message into an `ai.suggest` job (keyed by the message, so a
retried event asks once). The worker ranks, for the message's text, the workspace's published
articles (app/kb/engine.py, agents' audience) and its canned responses (by the same model,
their vectors cached per response and version) and publishes one `ai.suggestions` event on the
ticket. Nothing is written and nothing leaves Tandem; a workspace with AI switched off gets
none.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from urllib.parse import quote

import numpy as np
from beanie import PydanticObjectId
from bson import ObjectId

from app.actions.base import Deps, stamp
from app.actions.kb import answers
from app.documents import CannedResponse, Workspace
from app.jobs.queue import JobQueue
from app.kb.engine import KnowledgeBase
from app.kb.vectors import Matrix
from realtime.events import (
    Actor,
    AiSuggestions,
    Direction,
    Event,
    Kind,
    MessageCreated,
    SuggestionsData,
    SuggestionView,
)

log = logging.getLogger("tandem.kb")

SUGGEST_JOB = "ai.suggest"
ASSISTANT = Actor(kind="system", name="Suggestions")
ARTICLES = 3
CANNED = 2
CANNED_FLOOR = 0.25  # a canned response less similar than this is not worth offering
MAX_TEXT = 2000


class Suggesting:
    """A relay projection: each new customer message becomes an `ai.suggest` job."""

    def __init__(self, queue: JobQueue) -> None:
        self.queue = queue

    async def project(self, events: Sequence[Event]) -> None:
        for event in events:
            if not isinstance(event, MessageCreated) or event.ticket is None:
                continue
            message = event.data.message
            if message.direction is not Direction.IN or message.kind is not Kind.MESSAGE:
                continue
            if not message.text.strip():
                continue
            await self.queue.enqueue(
                SUGGEST_JOB,
                {
                    "ws": event.ws,
                    "ticket": event.ticket,
                    "message": message.id,
                    "text": message.text[:MAX_TEXT],
                },
                key=f"suggest:{message.id}",
            )


class CannedVectors:
    """Canned responses' vectors, per workspace, computed once per response and version."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str], Matrix] = {}

    async def ranked(
        self, kb: KnowledgeBase, ws: str, query: Matrix, k: int
    ) -> list[tuple[CannedResponse, float]]:
        canned = await CannedResponse.find(CannedResponse.workspace_id == ObjectId(ws)).to_list()
        missing = [c for c in canned if (str(c.id), c.updated_at.isoformat()) not in self._cache]
        if missing:
            texts = [f"{c.title}\n{c.body}" if c.title else c.body for c in missing]
            vectors = await kb.embed(texts)
            if vectors is None:
                return []
            for c, v in zip(missing, vectors, strict=True):
                self._cache[(str(c.id), c.updated_at.isoformat())] = v
        scored = [
            (c, float(np.dot(self._cache[(str(c.id), c.updated_at.isoformat())], query)))
            for c in canned
        ]
        scored = [(c, s) for c, s in scored if s >= CANNED_FLOOR]
        return sorted(scored, key=lambda item: -item[1])[:k]


async def suggest(
    deps: Deps, canned: CannedVectors, ws: str, ticket: str, message: str, text: str, base_url: str
) -> AiSuggestions | None:
    """Rank answers for `text` and publish them on the ticket; None when AI is off here or
    nothing fits."""
    kb = deps.kb
    if kb is None:
        return None
    workspace = await Workspace.get(ObjectId(ws))
    if workspace is None or not (workspace.ai.enabled and workspace.ai.suggestions):
        return None
    query = await kb.embed([text])  # once, for the articles and the canned responses
    vector = query[0] if query is not None else None
    found, ranked = await asyncio.gather(
        answers(
            kb,
            PydanticObjectId(ws),
            text,
            audience="agents",
            limit=ARTICLES,
            published=True,
            vector=vector,
        ),
        canned.ranked(kb, ws, vector, CANNED) if vector is not None else _nothing(),
    )
    items = [
        SuggestionView(
            kind="article",
            id=str(article.id),
            title=article.title,
            text=hit.passage.text,
            score=round(hit.score, 4),
            url=(
                f"{base_url}/help/{quote(workspace.slug)}/{quote(article.slug)}"
                if article.visibility == "public"
                else None
            ),
        )
        for article, hit in found
    ]
    items += [
        SuggestionView(
            kind="canned",
            id=str(c.id),
            title=c.title or f"/{c.shortcut}",
            text=c.body,
            score=round(score, 4),
        )
        for c, score in ranked
    ]
    if not items:
        return None
    event = stamp(
        AiSuggestions,
        ws=ws,
        actor=ASSISTANT,
        ticket=ticket,
        data=SuggestionsData(message_id=message, items=items),
    )
    await deps.relay.publish([event])
    return event


async def _nothing() -> list[tuple[CannedResponse, float]]:
    return []
