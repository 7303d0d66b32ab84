"""Rebuilding a workspace's views from the store: after Redis lost them, or for a workspace
from before they existed (`tandem rebuild-views`; the worker runs it by itself when a list
finds the views missing).

The views are dropped and their "built" mark cleared first, so lists read the store
meanwhile; then every ticket is applied from one pass over the workspace's tickets. A write
that lands during the pass is applied by its own event too: of the two snapshots, the one
with the higher `rev` stays.
"""

from __future__ import annotations

import logging

import redis.asyncio as aioredis
from beanie import PydanticObjectId

from app.documents import Ticket
from app.jobs.queue import JobQueue
from app.schemas.tickets import ticket_out
from app.views.store import ViewStore

log = logging.getLogger("tandem.views")

REBUILD_JOB = "views.rebuild"
REINDEX_JOB = "search.rebuild"
BATCH = 500
LOCK_TTL = 3_600
SNAPSHOT_FIELDS = {"outbox": 0, "activity": 0}  # a list snapshot needs neither


async def request_rebuild(views: ViewStore, ws: str) -> None:
    """Have the worker rebuild the workspace's views (once, however many ask)."""
    await JobQueue(views.redis).enqueue(REBUILD_JOB, {"ws": ws}, key=f"views:{ws}")


async def request_reindex(redis: aioredis.Redis, ws: str) -> None:
    """Have the worker rebuild the workspace's search index (once, however many ask)."""
    await JobQueue(redis).enqueue(REINDEX_JOB, {"ws": ws}, key=f"search:{ws}")


def rebuild_lock(views: ViewStore, ws: str) -> str:
    # Outside the views' own keys, which the rebuild drops.
    return views.key(ws, "").removesuffix(":v:") + ":views-rebuild"


async def rebuild_views(views: ViewStore, workspace_id: PydanticObjectId) -> int | None:
    """Rebuild one workspace's views; returns the tickets applied, or None when another
    rebuild of it is running."""
    ws = str(workspace_id)
    lock = rebuild_lock(views, ws)
    if not await views.redis.set(lock, "1", nx=True, ex=LOCK_TTL):
        return None
    try:
        await views.redis.delete(views.key(ws, "#built"))
        await views.clear(ws)
        applied = 0
        batch = []
        cursor = Ticket.get_pymongo_collection().find(
            {"workspace_id": workspace_id}, SNAPSHOT_FIELDS
        )
        async for raw in cursor.batch_size(BATCH):
            batch.append(ticket_out(Ticket.model_validate(raw)))
            if len(batch) >= BATCH:
                await views.apply_many(ws, batch)
                applied += len(batch)
                batch = []
        if batch:
            await views.apply_many(ws, batch)
            applied += len(batch)
        await views.mark_built(ws)
        log.info("views of workspace %s rebuilt: %d tickets", ws, applied)
        return applied
    finally:
        await views.redis.delete(lock)
