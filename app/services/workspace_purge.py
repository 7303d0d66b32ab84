"""Deleting a cancelled workspace for good once its window has passed (the worker's
`workspace.purge` job, app/services/lifecycle.py).

Everything goes, in this order, each step in bounded batches:

1. a tombstone is written (`workspace_tombstones`: the workspace's id and dates, nothing
   about anyone) and the workspace marked `purging_since`, so it can no longer be restored;
2. the documents that let anyone in — memberships, users, sessions, API and account tokens,
   invitations — so nobody signs in to what is left;
3. its files (each blob's files document, then its chunks);
4. every document with its `workspace_id` in every other collection of the database,
   whatever it is (tickets, messages, contacts, kb vectors, audit events, AI usage, and
   collections added later), then its legacy ticket counter and its workspace document;
5. every Redis key whose name carries its id (the event log and sequence, inbox views,
   search index, presence, KB change log, idempotency records, rate limits, job markers),
   its outbox marks, and the queued, scheduled, retrying and dead jobs that name it;
6. the tombstone gets `purged_at`.

Every step deletes what is still there, so a purge that stops half way (a crash, a
timeout) is taken up again by the next run from the start, and finds less to do: a workspace
is due while its document says so or its tombstone has no `purged_at`. Documents are found
by `workspace_id` and deleted one `_id` at a time, a few in flight, the one delete FerretDB
answers from an index on every backend.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import redis.asyncio as aioredis
from bson import ObjectId
from pymongo.asynchronous.database import AsyncDatabase

from app.blobs.mongo import CHUNKS, FILES
from app.blobs.store import BlobStore
from app.doclock import DocumentLocks
from app.documents.common import utcnow
from app.jobs.queue import JobQueue
from app.outbox import MARKS

log = logging.getLogger("tandem.purge")

TOMBSTONES = "workspace_tombstones"
WORKSPACES = "workspaces"
BATCH = 500
DELETE_AHEAD = 16
SCAN_COUNT = 1000
# Who may act for the workspace goes first: once these are gone nobody signs in to it.
ACCESS_FIRST = (
    "memberships",
    "users",
    "login_sessions",
    "api_tokens",
    "account_tokens",
    "invitations",
)
APART = frozenset({WORKSPACES, TOMBSTONES, FILES, CHUNKS})
Doc = dict[str, Any]


@dataclass
class PurgeReport:
    workspace_id: str
    documents: int = 0
    files: int = 0
    redis: int = 0
    by_collection: dict[str, int] = field(default_factory=dict)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class WorkspacePurge:
    def __init__(
        self,
        database: AsyncDatabase[Doc],
        redis: aioredis.Redis,
        blobs: BlobStore,
        locks: DocumentLocks,
        queue: JobQueue,
    ) -> None:
        self.database = database
        self.redis = redis
        self.blobs = blobs
        self.locks = locks
        self.queue = queue

    async def due(self, now: datetime) -> list[ObjectId]:
        """Workspaces past their window, and purges that stopped before the end."""
        found: dict[ObjectId, None] = {}
        cursor = self.database[WORKSPACES].find(
            {"purge_after": {"$lte": now}}, {"_id": 1, "cancelled_at": 1}
        )
        async for raw in cursor:
            if raw.get("cancelled_at") is not None:
                found[raw["_id"]] = None
        async for raw in self.database[TOMBSTONES].find({"purged_at": None}, {"_id": 1}):
            found[raw["_id"]] = None
        return list(found)

    async def run(self, now: datetime | None = None) -> list[PurgeReport]:
        reports: list[PurgeReport] = []
        for ws in await self.due(now or utcnow()):
            report = await self.purge(ws, now or utcnow())
            if report is not None:
                reports.append(report)
        return reports

    async def purge(self, ws: ObjectId, now: datetime) -> PurgeReport | None:
        if not await self._claim(ws, now):
            return None
        report = PurgeReport(str(ws))
        for name in ACCESS_FIRST:
            await self._collection(report, name)
        report.files = await self._files(ws)
        for name in sorted(await self.database.list_collection_names()):
            if name in APART or name in ACCESS_FIRST or name.startswith("system."):
                continue
            await self._collection(report, name)
        await self.database["counters"].delete_one({"_id": f"{ws}:tickets"})
        await self.database[WORKSPACES].delete_one({"_id": ws})
        report.redis = await purge_redis(self.redis, str(ws), self.queue)
        await self.database[TOMBSTONES].update_one({"_id": ws}, {"$set": {"purged_at": utcnow()}})
        log.info(
            "workspace %s purged: %d documents, %d files, %d Redis keys and entries (%s)",
            ws,
            report.documents,
            report.files,
            report.redis,
            ", ".join(f"{k} {v}" for k, v in report.by_collection.items() if v) or "nothing else",
        )
        return report

    async def _claim(self, ws: ObjectId, now: datetime) -> bool:
        """Begin (or take up again) the purge of `ws`, under the lock restoring takes too."""
        async with self.locks.hold(f"workspaces:{ws}"):
            raw = await self.database[WORKSPACES].find_one(
                {"_id": ws}, {"cancelled_at": 1, "purge_after": 1, "purging_since": 1}
            )
            if raw is None:
                tomb = await self.database[TOMBSTONES].find_one({"_id": ws}, {"purged_at": 1})
                return tomb is not None and tomb.get("purged_at") is None
            due = raw.get("purge_after")
            if raw.get("cancelled_at") is None or due is None or due > now:
                return False  # restored, or not yet due
            await self.database[TOMBSTONES].update_one(
                {"_id": ws},
                {
                    "$setOnInsert": {
                        "cancelled_at": raw["cancelled_at"],
                        "purge_after": due,
                        "purged_at": None,
                    }
                },
                upsert=True,
            )
            if raw.get("purging_since") is None:
                await self.database[WORKSPACES].update_one(
                    {"_id": ws}, {"$set": {"purging_since": utcnow()}}
                )
        return True

    async def _collection(self, report: PurgeReport, name: str) -> None:
        ws = ObjectId(report.workspace_id)
        # Written by Tandem as an ObjectId; a string is looked for too, for any older writer.
        gone = await delete_where(self.database, name, {"workspace_id": ws})
        gone += await delete_where(self.database, name, {"workspace_id": str(ws)})
        report.documents += gone
        report.by_collection[name] = report.by_collection.get(name, 0) + gone

    async def _files(self, ws: ObjectId) -> int:
        files = self.database[FILES]
        removed = 0
        while True:
            batch = [
                str(raw["_id"])
                async for raw in files.find({"workspace_id": ws}, {"_id": 1}).limit(BATCH)
            ]
            if not batch:
                return removed
            for blob_id in batch:
                removed += await self.blobs.delete(str(ws), blob_id)


async def delete_where(database: AsyncDatabase[Doc], name: str, where: Doc) -> int:
    """Delete the documents of `name` matching `where`, `BATCH` ids at a time."""
    collection = database[name]
    deleted = 0
    while True:
        ids = [raw["_id"] async for raw in collection.find(where, {"_id": 1}).limit(BATCH)]
        if not ids:
            return deleted
        before = deleted
        for start in range(0, len(ids), DELETE_AHEAD):
            results = await asyncio.gather(
                *(collection.delete_one({"_id": i}) for i in ids[start : start + DELETE_AHEAD])
            )
            deleted += sum(r.deleted_count for r in results)
        if deleted == before:
            raise RuntimeError(f"{name}: found documents to delete that no delete removed")


async def purge_redis(redis: aioredis.Redis, ws: str, queue: JobQueue) -> int:
    """Remove what Redis holds of workspace `ws`; answers how many keys and entries went."""
    removed = await _scan_each(
        lambda cursor: redis.scan(cursor, match=f"*{ws}*", count=SCAN_COUNT),
        lambda keys: redis.unlink(*keys),
    )
    removed += await _scan_each(
        lambda cursor: redis.zscan(MARKS, cursor, match=f"{ws}|*", count=SCAN_COUNT),
        lambda pairs: redis.zrem(MARKS, *(member for member, _ in pairs)),
    )
    needle = ws.encode()
    # Queued, running, retrying, scheduled and dead jobs whose payload names the workspace.
    removed += await queue.discard_matching(lambda body: needle in body)
    return removed


async def _scan_each(
    scan: Callable[[int], Awaitable[tuple[int, Any]]],
    remove: Callable[[Any], Awaitable[Any]],
) -> int:
    removed, cursor = 0, 0
    while True:
        cursor, found = await scan(cursor)
        items = list(found.items()) if isinstance(found, dict) else list(found)
        if items:
            removed += int(await remove(items))
        if int(cursor) == 0:
            return removed
