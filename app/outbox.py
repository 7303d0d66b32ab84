"""Events ride in the document they describe; a mark in Redis says where to look for them.

An action puts its event into the changed document's `outbox` array in the same
single-document atomic update as the change itself (FerretDB has no multi-document
transactions; neither is needed), then publishes it at once. Just before that write it leaves
a mark — `<workspace>|<collection>|<document>|<event>` in one Redis sorted set, scored by the
time — and the same update drops what the outbox held before when the broker has all of it
published (one EXISTS), so a document carries its last event, not a backlog.

The worker's sweep reads only the marks older than a few seconds: a mark whose event the broker
has published is simply removed (Redis only); otherwise its document is read by `_id` and what
its outbox still holds is published — the broker drops ids it has already published. So a
process that dies between its write and its publish delays that event by seconds: it reaches
clients once, never lost, and the sweep never scans a collection.

Before an event is published, the relay's projections (the inbox views, the search index)
take it in: they are idempotent, so a retried event changes nothing twice, and an event
that reached clients has always reached them first.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, Protocol

from beanie import Document
from bson import ObjectId

from app.doclock import DocumentLocks
from realtime.broker import Broker
from realtime.events import Event, event_from_document, event_to_document

log = logging.getLogger("tandem.outbox")

MARKS = "tandem:outbox:marks"
SWEEP_BATCH = 500


class Projection(Protocol):
    async def project(self, events: Sequence[Event]) -> None:
        """Take in what the events say; applying one twice changes nothing."""
        ...


def new_event_id() -> str:
    return uuid.uuid4().hex


def merged(*updates: dict[str, Any]) -> dict[str, Any]:
    """One update document from several, operator by operator."""
    out: dict[str, Any] = {}
    for update in updates:
        for operator, fields in update.items():
            out.setdefault(operator, {}).update(fields)
    return out


def lock_name(model: type[Document], doc_id: object) -> str:
    return f"{model.get_collection_name()}:{doc_id}"


class EventRelay:
    def __init__(
        self,
        broker: Broker,
        documents: list[type[Document]],
        locks: DocumentLocks,
        projections: Sequence[Projection] = (),
    ) -> None:
        self.broker = broker
        self.projections = list(projections)
        self.models = {model.get_collection_name(): model for model in documents}
        self.locks = locks
        self.redis = locks.redis

    async def mark(self, model: type[Document], doc_id: object, event: Event) -> None:
        """Before a write that carries `event` into the document: where the sweep looks if its
        writer never publishes it."""
        member = f"{event.ws}|{model.get_collection_name()}|{doc_id}|{event.id}"
        await self.redis.zadd(MARKS, {member: time.time()})

    async def outbox_update(
        self, model: type[Document], doc_id: object, held: list[dict[str, Any]], event: Event
    ) -> dict[str, Any]:
        """Marks the write, and returns the part of its update that stores `event` in the
        document's outbox, which holds `held` (read under the document's lock): everything
        held is replaced when it is all published — the usual case — else appended to."""
        ids = [e["id"] for e in held]
        # Two independent Redis round trips: made together, they cost one.
        _, published = await asyncio.gather(
            self.mark(model, doc_id, event), self.broker.published(event.ws, ids)
        )
        entry = event_to_document(event)
        if published:
            return {"$set": {"outbox": [entry]}}
        return {"$push": {"outbox": entry}}

    async def publish(self, events: Sequence[Event]) -> None:
        """Project and publish events just written; a failure leaves them to the sweep, in
        order."""
        for event in events:
            try:
                await self._project_and_publish(event)
            except Exception:
                log.exception("publishing %s %s failed; the sweep retries", event.id, event.ws)
                return

    async def _project_and_publish(self, event: Event) -> None:
        for projection in self.projections:
            await projection.project([event])
        await self.broker.publish(event)

    async def sweep(self, older_than: timedelta = timedelta(seconds=10)) -> int:
        """Settle the marks older than `older_than`: publish whatever their documents still
        hold unpublished. Returns how many documents needed it."""
        cutoff = time.time() - older_than.total_seconds()
        recovered = 0
        while True:
            raw = await self.redis.zrangebyscore(MARKS, "-inf", cutoff, start=0, num=SWEEP_BATCH)
            marks = [m.decode() if isinstance(m, bytes) else str(m) for m in raw]
            settled: list[str] = []
            for member in marks:
                try:
                    if await self._settle(member):
                        recovered += 1
                except Exception:
                    log.exception("sweeping %s failed; the next sweep retries", member)
                    break
                settled.append(member)
            if settled:
                await self.redis.zrem(MARKS, *settled)
            if len(settled) < SWEEP_BATCH:
                return recovered

    async def _settle(self, member: str) -> bool:
        ws, collection, doc_id, event_id = member.split("|")
        if await self.broker.published(ws, [event_id]):
            return False
        model = self.models.get(collection)
        if model is None:
            log.warning("a mark names an unknown collection: %s", member)
            return False
        raw = await model.get_pymongo_collection().find_one(
            {"_id": ObjectId(doc_id)}, {"outbox": 1}
        )
        entries = (raw or {}).get("outbox") or []
        for entry in entries:
            # In order; the ones published already are dropped by the broker.
            await self._project_and_publish(event_from_document(entry))
        if event_id not in {e["id"] for e in entries}:
            log.info("mark %s: its write never happened (its writer died first)", member)
        return bool(entries)
