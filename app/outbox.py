"""Events ride in the document they describe, and leave it once published.

A write puts its event into the changed document's `outbox` array in the same single-document
atomic update as the change itself (FerretDB has no multi-document transactions; neither is
needed). Right after the write the relay publishes every entry still in that document's outbox,
in array order, then pulls the published ones out. If the process dies in between, the entries
stay in the document and `sweep()` (run by every web process and the worker) publishes them
later. The broker drops an event id it has already published, so a retry never reaches
clients twice: each committed change is delivered once, possibly late, never lost.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from typing import Any

from beanie import Document

from app.doclock import DocumentLocks
from app.documents.common import utcnow
from realtime.broker import Broker
from realtime.envelope import Actor, Event

log = logging.getLogger("tandem.outbox")


def outbox_entry(
    ws: str, type_: str, actor: Actor, data: dict[str, Any], ticket: str | None = None
) -> dict[str, Any]:
    return {
        "id": uuid.uuid4().hex,
        "ws": ws,
        "type": type_,
        "ticket": ticket,
        "actor": {"kind": actor.kind, "id": actor.id, "name": actor.name},
        "at": utcnow(),
        "data": data,
    }


def lock_name(model: type[Document], doc_id: object) -> str:
    return f"{model.get_collection_name()}:{doc_id}"


def to_event(entry: dict[str, Any]) -> Event:
    actor = entry["actor"]
    return Event(
        ws=entry["ws"],
        type=entry["type"],
        ticket=entry.get("ticket"),
        id=entry["id"],
        actor=Actor(kind=actor["kind"], id=actor.get("id"), name=actor.get("name")),
        at=entry["at"].isoformat().replace("+00:00", "Z"),
        data=entry["data"],
    )


class EventRelay:
    def __init__(
        self, broker: Broker, documents: list[type[Document]], locks: DocumentLocks
    ) -> None:
        self.broker = broker
        self.documents = documents
        self.locks = locks

    async def flush(self, model: type[Document], doc: dict[str, Any] | Document) -> None:
        raw: dict[str, Any] = doc if isinstance(doc, dict) else doc.model_dump(by_alias=True)
        entries: list[dict[str, Any]] = list(raw.get("outbox") or [])
        if not entries:
            return
        published: list[str] = []
        try:
            for entry in entries:
                await self.broker.publish(to_event(entry))
                published.append(entry["id"])
        except Exception:
            # Left in the outbox: the sweep publishes it later, in order.
            log.exception("publishing %s events of %s failed", model.__name__, raw.get("_id"))
        if published:
            # Read-filter-write under the document's lock rather than `$pull` with a
            # condition, which FerretDB v1 does not apply to arrays of documents.
            collection = model.get_pymongo_collection()
            async with self.locks.hold(lock_name(model, raw["_id"])):
                current = await collection.find_one({"_id": raw["_id"]}, {"outbox": 1})
                if current is not None:
                    left = [e for e in current.get("outbox") or [] if e["id"] not in published]
                    await collection.update_one({"_id": raw["_id"]}, {"$set": {"outbox": left}})

    async def sweep(self, older_than: timedelta = timedelta(seconds=10)) -> int:
        """Publish events that a crashed or failed writer left behind; returns how many docs."""
        cutoff = utcnow() - older_than
        count = 0
        for model in self.documents:
            cursor = model.get_pymongo_collection().find(
                {"outbox.at": {"$lt": cutoff}}, {"outbox": 1}
            )
            async for raw in cursor:
                await self.flush(model, raw)
                count += 1
        return count
