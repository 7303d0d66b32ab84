"""Rebuilding a workspace's views from the store: after Redis lost them, or for a workspace
from before they existed (`tandem rebuild-views`; the worker runs it by itself when a list
finds the views missing).

The views are dropped and their "built" mark cleared first, so lists read the store
meanwhile; then every ticket is applied from one pass over the workspace's tickets, the rows'
contact names from one pass over its contacts and their last messages from one over its
messages. A write that lands during the passes is applied by its own event too: of the two
snapshots (or previews), the one with the higher `rev` stays.
"""

from __future__ import annotations

import logging

import redis.asyncio as aioredis
from beanie import PydanticObjectId

from app.documents import Contact, Message, Ticket
from app.jobs.queue import JobQueue
from app.schemas.contacts import contact_out
from app.schemas.tickets import message_out, ticket_out
from app.views.store import Preview, ViewStore, row_preview

log = logging.getLogger("tandem.views")

REBUILD_JOB = "views.rebuild"
REINDEX_JOB = "search.rebuild"
BATCH = 500
LOCK_TTL = 3_600
SNAPSHOT_FIELDS = {"outbox": 0, "activity": 0}  # a list snapshot needs neither
PREVIEW_FIELDS = {"outbox": 0, "html": 0}


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
        revs: dict[str, int] = {}
        cursor = Ticket.get_pymongo_collection().find(
            {"workspace_id": workspace_id}, SNAPSHOT_FIELDS
        )
        async for raw in cursor.batch_size(BATCH):
            ticket = ticket_out(Ticket.model_validate(raw))
            revs[ticket.id] = ticket.rev
            batch.append(ticket)
            if len(batch) >= BATCH:
                await views.apply_many(ws, batch)
                applied += len(batch)
                batch = []
        if batch:
            await views.apply_many(ws, batch)
            applied += len(batch)
        await _rebuild_rows(views, workspace_id, revs)
        await views.mark_built(ws)
        log.info("views of workspace %s rebuilt: %d tickets", ws, applied)
        return applied
    finally:
        await views.redis.delete(lock)


async def _rebuild_rows(
    views: ViewStore, workspace_id: PydanticObjectId, revs: dict[str, int]
) -> None:
    """The rows' extras: every contact's name, every ticket's last public message."""
    ws = str(workspace_id)
    contacts = []
    async for raw in (
        Contact.get_pymongo_collection()
        .find({"workspace_id": workspace_id}, {"outbox": 0})
        .batch_size(BATCH)
    ):
        contacts.append(contact_out(Contact.model_validate(raw)))
        if len(contacts) >= BATCH:
            await views.set_names(ws, contacts)
            contacts = []
    await views.set_names(ws, contacts)
    last: dict[str, tuple[str, Preview]] = {}
    async for raw in (
        Message.get_pymongo_collection()
        .find({"workspace_id": workspace_id}, PREVIEW_FIELDS)
        .batch_size(BATCH)
    ):
        message = message_out(Message.model_validate({**raw, "html": ""}))
        preview = row_preview(message)
        known = last.get(message.ticket_id)
        if preview is not None and (known is None or known[0] < message.id):
            last[message.ticket_id] = (message.id, preview)
    for ticket_id, (_, preview) in last.items():
        if ticket_id in revs:
            await views.set_preview(ws, ticket_id, revs[ticket_id], preview)
