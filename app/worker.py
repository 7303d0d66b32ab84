"""The background process: durable jobs and timers, off the event loop that fans out events.

It runs a slim runtime — the store, Redis, a publish-only broker and the actions' dependencies;
no hub, no pub/sub subscription — and the job runner (app/jobs) with these handlers:

    ticket.wake        a snoozed ticket's timer: reopen it through the normal action
    outbox.sweep       every 5 s: publish what a writer that died left unpublished (by its mark)
    blobs.sweep        hourly: remove the chunks of file writes that died half way
    message.deliver    send an email (Postmark) or WhatsApp (Cloud API) reply and record
                       what the provider answered
    whatsapp.templates fetch a workspace's approved WhatsApp templates (on connecting, when
                       asked, and for every connected number every 6 hours)
    message.media      fetch a file a customer sent by reference (WhatsApp media), keep it
    kb.index           embed a changed knowledge-base article's passages (kb.reindex: all of
                       a workspace's)
    ai.suggest         rank articles and canned responses for a customer's new message and
                       offer them to the ticket's agents (an `ai.suggestions` event)
    views.rebuild      a workspace's inbox views, asked for by a list that found them missing
    search.rebuild     a workspace's search index, likewise
    workspace.purge    delete every cancelled workspace whose window has passed (hourly, and
                       at each one's purge time; app/services/workspace_purge.py)

At start it also wakes snoozed tickets that are overdue (snoozed before their timers existed,
or while no worker ran for longer than the timers are kept).

SLA clocks and AI calls join these as handlers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import redis.asyncio as aioredis
from pymongo import AsyncMongoClient

from app.actions.base import Deps
from app.actions.inbound import MEDIA_JOB
from app.actions.messages import DELIVER_JOB
from app.actions.tickets import WAKE_JOB, wake_ticket
from app.blobs.mongo import MongoBlobStore
from app.blobs.store import BlobStore
from app.db import connect_store
from app.delivery.email import deliver_email
from app.delivery.whatsapp import (
    TEMPLATES_JOB,
    MediaJob,
    deliver_whatsapp,
    fetch_media,
    sync_templates,
)
from app.doclock import DocumentLocks
from app.documents import Article, Contact, Message, Ticket, Workspace
from app.documents.common import utcnow
from app.jobs.config import JobConfig
from app.jobs.model import Job
from app.jobs.periodic import Periodic
from app.jobs.queue import JobQueue
from app.jobs.runner import consumer_name, run_jobs
from app.jobs.timers import Timers
from app.kb.engine import KnowledgeBase
from app.kb.indexing import (
    KB_INDEX_JOB,
    KB_REINDEX_JOB,
    KbIndexing,
    index_article,
    reindex_workspace,
)
from app.kb.stored import StoredVectors
from app.kb.suggestions import SUGGEST_JOB, CannedVectors, Suggesting, suggest
from app.mail.send import MAIL_JOB, send_account_mail
from app.outbox import EventRelay, Projection
from app.redis_client import connect_redis
from app.schemas.common import iso
from app.search.index import SearchIndex
from app.services.ids import require_id
from app.services.lifecycle import PURGE_JOB
from app.services.retention import RETENTION_JOB, forget_expired_records
from app.services.workspace_purge import WorkspacePurge
from app.settings import Settings
from app.views.rebuild import REBUILD_JOB, REINDEX_JOB, rebuild_views
from app.views.store import ViewStore
from realtime.broker import Broker
from realtime.events import Channel, Status

log = logging.getLogger("tandem.worker")

SWEEP_JOB = "outbox.sweep"
BLOB_SWEEP_JOB = "blobs.sweep"
# A put or delete older than this that left chunks behind has died (the slowest put of a
# 25 MB file takes seconds).
BLOB_LEFTOVER_AGE = timedelta(hours=1)
# Templates approved (or paused) in WhatsApp Manager reach the composer by this refresh.
TEMPLATES_REFRESH_JOB = "whatsapp.templates.refresh"
PERIODIC = (
    Periodic(SWEEP_JOB, 5.0),
    Periodic(BLOB_SWEEP_JOB, 3600.0),
    Periodic(PURGE_JOB, 3600.0),
    Periodic(TEMPLATES_REFRESH_JOB, 6 * 3600.0),
    Periodic(RETENTION_JOB, 3600.0),
)


@dataclass
class WorkerRuntime:
    redis: aioredis.Redis
    store: AsyncMongoClient[dict[str, Any]]
    broker: Broker
    deps: Deps


def make_deps(
    redis: aioredis.Redis,
    broker: Broker,
    blobs: BlobStore | None = None,
    kb: KnowledgeBase | None = None,
) -> Deps:
    views, search, queue = ViewStore(redis), SearchIndex(redis), JobQueue(redis)
    projections: list[Projection] = [views, search, KbIndexing(queue), Suggesting(queue)]
    relay = EventRelay(
        broker, [Ticket, Message, Contact, Article], DocumentLocks(redis), projections
    )
    return Deps(relay, Timers(queue), views, search, blobs, kb)


@contextlib.asynccontextmanager
async def worker_runtime(settings: Settings) -> AsyncIterator[WorkerRuntime]:
    from app.main import make_broker

    if not settings.mongodb_url or not settings.redis_url:
        raise RuntimeError("MONGODB_URL and REDIS_URL must be set (`tandem worker` sets them)")
    redis = connect_redis(settings.redis_url)
    store = await connect_store(settings.mongodb_url, settings.mongodb_db, DocumentLocks(redis))
    broker = make_broker(settings)  # publish only: never started, so it subscribes to nothing
    try:
        database = store[settings.mongodb_db]
        kb = KnowledgeBase(StoredVectors(database, redis))
        blobs = MongoBlobStore(database)
        yield WorkerRuntime(redis, store, broker, make_deps(redis, broker, blobs, kb))
    finally:
        await broker.close()
        await redis.aclose()
        await store.close()


def handlers(
    deps: Deps, http: httpx.AsyncClient | None = None, settings: Settings | None = None
) -> dict[str, Callable[[Job], Awaitable[None]]]:
    urls = settings or Settings()
    canned = CannedVectors()

    async def wake(job: Job) -> None:
        await wake_ticket(
            deps,
            workspace_id=job.payload["ws"],
            ticket_id=job.payload["ticket"],
            due=job.payload["due"],
        )

    async def sweep(job: Job) -> None:
        await deps.relay.sweep()

    async def sweep_blobs(job: Job) -> None:
        if deps.blobs is not None:
            swept = await deps.blobs.sweep_orphans(BLOB_LEFTOVER_AGE)
            if swept:
                log.info("removed the leftovers of %d unfinished file writes", swept)

    async def forget_expired(job: Job) -> None:
        audits, sessions = await forget_expired_records(urls.audit_retention_days)
        if audits or sessions:
            log.info("retention: %d audit events and %d session records deleted", audits, sessions)

    async def rebuild(job: Job) -> None:
        if deps.views is not None:
            await rebuild_views(deps.views, require_id(job.payload["ws"], "workspace"))

    async def reindex(job: Job) -> None:
        if deps.search is not None:
            await deps.search.rebuild(job.payload["ws"])

    def client() -> httpx.AsyncClient:
        if http is None:
            raise RuntimeError("this worker has no HTTP client for providers")
        return http

    async def deliver(job: Job) -> None:
        ws, message, attempt = job.payload["ws"], job.payload["message"], job.attempt
        if job.payload.get("channel") == Channel.WHATSAPP.value:
            url = urls.whatsapp_graph_url
            await deliver_whatsapp(deps, client(), url, ws, message, attempt)
        else:
            await deliver_email(deps, client(), urls.postmark_api_url, ws, message, attempt)

    async def media(job: Job) -> None:
        wanted = MediaJob(
            ws=job.payload["ws"],
            provider_id=job.payload["provider_id"],
            media_id=job.payload["media_id"],
            filename=job.payload.get("filename"),
        )
        await fetch_media(
            deps,
            client(),
            urls.whatsapp_graph_url,
            wanted,
            limit=urls.max_attachment_bytes,
            attempt=job.attempt,
        )

    async def refresh_templates(job: Job) -> None:
        connected = Workspace.get_pymongo_collection().find({"whatsapp": {"$ne": None}}, {"_id": 1})
        async for raw in connected:
            if deps.timers is not None:
                await deps.timers.queue.enqueue(TEMPLATES_JOB, {"ws": str(raw["_id"])})

    async def index_kb(job: Job) -> None:
        if deps.kb is not None:
            await index_article(deps.kb, job.payload["ws"], job.payload["article"])

    async def reindex_kb(job: Job) -> None:
        if deps.kb is not None:
            await reindex_workspace(deps.kb, job.payload["ws"])

    async def suggestions(job: Job) -> None:
        p = job.payload
        await suggest(deps, canned, p["ws"], p["ticket"], p["message"], p["text"], urls.public_url)

    async def templates(job: Job) -> None:
        await sync_templates(client(), urls.whatsapp_graph_url, job.payload["ws"])

    async def account_mail(job: Job) -> None:
        await send_account_mail(client(), urls, job.payload)

    async def purge_workspaces(job: Job) -> None:
        if deps.blobs is None:
            raise RuntimeError("this worker has no blob store to delete files from")
        queue = deps.timers.queue if deps.timers is not None else JobQueue(deps.relay.redis)
        database = Workspace.get_pymongo_collection().database
        await WorkspacePurge(database, deps.relay.redis, deps.blobs, deps.relay.locks, queue).run()

    return {
        WAKE_JOB: wake,
        SWEEP_JOB: sweep,
        BLOB_SWEEP_JOB: sweep_blobs,
        RETENTION_JOB: forget_expired,
        REBUILD_JOB: rebuild,
        REINDEX_JOB: reindex,
        DELIVER_JOB: deliver,
        TEMPLATES_JOB: templates,
        TEMPLATES_REFRESH_JOB: refresh_templates,
        MEDIA_JOB: media,
        KB_INDEX_JOB: index_kb,
        KB_REINDEX_JOB: reindex_kb,
        SUGGEST_JOB: suggestions,
        MAIL_JOB: account_mail,
        PURGE_JOB: purge_workspaces,
    }


async def wake_overdue(deps: Deps) -> int:
    """Wake every snoozed ticket whose time has come; returns how many woke."""
    cursor = Ticket.get_pymongo_collection().find(
        {"status": Status.SNOOZED.value, "snoozed_until": {"$lte": utcnow()}},
        {"workspace_id": 1, "snoozed_until": 1},
    )
    woken = 0
    async for raw in cursor:
        if await wake_ticket(
            deps,
            workspace_id=str(raw["workspace_id"]),
            ticket_id=str(raw["_id"]),
            due=iso(raw["snoozed_until"]) or "",
        ):
            woken += 1
    return woken


async def run_jobs_until(
    deps: Deps, redis: aioredis.Redis, stop: asyncio.Event, settings: Settings
) -> None:
    async with httpx.AsyncClient() as http:
        jobs = handlers(deps, http, settings)
        config = JobConfig(claim_idle=settings.job_claim_idle)
        await run_jobs(
            redis, jobs, consumer=consumer_name(), stop=stop, periodic=PERIODIC, config=config
        )


async def run_worker(settings: Settings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with worker_runtime(settings) as runtime:
        log.info("worker running as %s", consumer_name())
        if runtime.deps.kb is not None:
            # The model and the passages load once, before the first customer message needs
            # suggestions.
            await runtime.deps.kb.preload()
        woken = await wake_overdue(runtime.deps)
        if woken:
            log.info("woke %d overdue snoozed tickets", woken)
        await run_jobs_until(runtime.deps, runtime.redis, stop, settings)
