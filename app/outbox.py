"""Events ride in the document they describe until the worker sees them published.

An action puts its event into the changed document's `outbox` array in the same
single-document atomic update as the change itself (FerretDB has no multi-document
transactions; neither is needed), then publishes it at once. The same update drops what the
outbox held before if the broker has all of it published (one Redis EXISTS), so a document
carries its last event, not a backlog. The worker's sweep re-offers every entry older than a
few seconds to the broker — which drops an id it has already published, so this costs no
second delivery — and trims the published ones from their documents. If the writer died
before publishing, that re-offer is the event's first publication: each committed change
reaches clients once, possibly late, never lost.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from beanie import Document

from app.doclock import DocumentLocks
from app.documents.common import utcnow
from realtime.broker import Broker
from realtime.events import Event, event_from_document, event_to_document

log = logging.getLogger("tandem.outbox")


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
        self, broker: Broker, documents: list[type[Document]], locks: DocumentLocks
    ) -> None:
        self.broker = broker
        self.documents = documents
        self.locks = locks

    async def outbox_update(
        self, ws: object, held: list[dict[str, Any]], event: Event
    ) -> dict[str, Any]:
        """The part of a write's update that stores `event` in the document's outbox, which
        holds `held` (read under the document's lock). When everything held is published
        already — the usual case — the new event replaces it, so a document carries its last
        event and no backlog; otherwise it is appended behind what still waits."""
        entry = event_to_document(event)
        ids = [e["id"] for e in held]
        if not ids or await self.broker.published(str(ws), ids):
            return {"$set": {"outbox": [entry]}}
        return {"$push": {"outbox": entry}}

    async def publish(self, events: Sequence[Event]) -> None:
        """Publish events just written; a failure leaves them to the sweep, in order."""
        for event in events:
            try:
                await self.broker.publish(event)
            except Exception:
                log.exception("publishing %s %s failed; the sweep retries", event.id, event.ws)
                return

    async def sweep(self, older_than: timedelta = timedelta(seconds=10)) -> int:
        """Publish what is still unpublished in the outboxes (a crashed or failed writer's
        events) and trim what is published; returns how many documents were trimmed."""
        cutoff = utcnow() - older_than
        count = 0
        for model in self.documents:
            cursor = model.get_pymongo_collection().find(
                {"outbox.at": {"$lt": cutoff}}, {"outbox": 1}
            )
            async for raw in cursor:
                if await self._settle(model, raw, cutoff):
                    count += 1
        return count

    async def _settle(self, model: type[Document], raw: dict[str, Any], cutoff: Any) -> bool:
        published: set[str] = set()
        for entry in raw.get("outbox") or []:
            if entry["at"] >= cutoff:
                break  # younger entries are their writer's to publish; keep the order
            try:
                # None means it was published already: either way it is out now.
                await self.broker.publish(event_from_document(entry))
            except Exception:
                log.exception("sweeping %s of %s failed", model.__name__, raw["_id"])
                break
            published.add(entry["id"])
        if not published:
            return False
        # Read-filter-write under the document's lock rather than `$pull` with a condition,
        # which FerretDB v1 does not apply to arrays of documents.
        collection = model.get_pymongo_collection()
        async with self.locks.hold(lock_name(model, raw["_id"])):
            current = await collection.find_one({"_id": raw["_id"]}, {"outbox": 1})
            if current is not None:
                left = [e for e in current.get("outbox") or [] if e["id"] not in published]
                await collection.update_one({"_id": raw["_id"]}, {"$set": {"outbox": left}})
        return True
