"""Purging: once a cancelled workspace's window has passed (0 days here), a real worker deletes
every document of it in every collection, its files and every Redis key and job naming it,
and leaves a tombstone with nothing about anyone; another workspace in the same database
keeps everything. A purge that stops half way finishes on the next run."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from bson import ObjectId
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from starlette.applications import Starlette

from app.blobs.store import BlobStore
from app.services.workspace_purge import TOMBSTONES, WorkspacePurge
from tests import apiclient
from tests.apiclient import PASSWORD, new_client, running_app, runtime_of
from tests.lifecycle.helpers import PNG, Seeded, cancel, ok, seeded
from tests.servers import tandem_worker

pytestmark = pytest.mark.processes
Doc = dict[str, Any]


@pytest.fixture(scope="module")
async def app(mongodb_url: str, redis_url: str, db_name: str) -> AsyncIterator[Starlette]:
    settings = apiclient.test_settings(mongodb_url, redis_url, db_name, purge_after_days=0)
    async with running_app(settings) as started:
        yield started


@pytest.fixture
async def database(mongodb_url: str, db_name: str) -> AsyncIterator[AsyncDatabase[Doc]]:
    client: AsyncMongoClient[Doc] = AsyncMongoClient(mongodb_url, tz_aware=True)
    try:
        yield client[db_name]
    finally:
        await client.close()


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = 60.0) -> None:
    async with asyncio.timeout(seconds):
        while True:
            if await check():
                return
            await asyncio.sleep(0.2)


async def documents_naming(database: AsyncDatabase[Doc], ws: str) -> dict[str, int]:
    """Per collection, how many documents mention `ws` anywhere (tombstones aside)."""
    found: dict[str, int] = {}
    for name in await database.list_collection_names():
        if name == TOMBSTONES:
            continue
        async for doc in database[name].find({}):
            if ws in repr(doc):
                found[name] = found.get(name, 0) + 1
    return found


async def redis_naming(redis: aioredis.Redis, ws: str) -> list[str]:
    """Every key whose name, or whose content, mentions `ws`."""
    needle = ws.encode()
    named: list[str] = []
    async for key in redis.scan_iter(count=1000):
        kind = (await redis.type(key)).decode()
        if kind == "string":
            content = [await redis.get(key) or b""]
        elif kind == "hash":
            content = [k + b"=" + v for k, v in (await redis.hgetall(key)).items()]
        elif kind == "zset":
            content = await redis.zrange(key, 0, -1)
        elif kind == "set":
            content = list(await redis.smembers(key))
        elif kind == "list":
            content = await redis.lrange(key, 0, -1)
        elif kind == "stream":
            entries = await redis.xrange(key)
            content = [b"".join(k + v for k, v in fields.items()) for _, fields in entries]
        else:
            content = []
        if needle in key or any(needle in item for item in content):
            named.append(key.decode())
    return named


async def counts_of(database: AsyncDatabase[Doc], ws: str) -> dict[str, int]:
    oid = ObjectId(ws)
    counts: dict[str, int] = {}
    for name in await database.list_collection_names():
        if found := await database[name].count_documents({"workspace_id": oid}):
            counts[name] = found
    return counts


def indexed(database: AsyncDatabase[Doc], ws: str) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return await database["kb_vectors"].find_one({"workspace_id": ObjectId(ws)}) is not None

    return check


async def a_fuller_workspace(app: Starlette) -> Seeded:
    """Besides `seeded`: a snoozed ticket (a timer), a write with an idempotency key, presence."""
    team = await seeded(app)
    ticket = await ok(await team.agent.post("/tickets", json={"subject": "Call back"}))
    due = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    await ok(
        await team.agent.patch(
            f"/tickets/{ticket['id']}",
            json={"version": ticket["version"], "status": "snoozed", "snoozed_until": due},
            headers={"Idempotency-Key": str(uuid.uuid4())},
        ),
        200,
    )
    await runtime_of(app).presence.heartbeat(team.ws, team.agent.user_id, "tab-1", "online")
    return team


async def test_a_worker_purges_everything_of_a_cancelled_workspace_and_nothing_else(
    app: Starlette,
    database: AsyncDatabase[Doc],
    redis_client: aioredis.Redis,
    mongodb_url: str,
    redis_url: str,
    db_name: str,
    tmp_path: Path,
) -> None:
    with tandem_worker(
        mongodb_url=mongodb_url,
        redis_url=redis_url,
        db_name=db_name,
        log_path=tmp_path / "worker.log",
    ):
        leaving = await a_fuller_workspace(app)
        staying = await seeded(app)
        # The worker has indexed both workspaces' articles.
        for team in (leaving, staying):
            await eventually(indexed(database, team.ws))
        mentioned = await documents_naming(database, leaving.ws)
        for name in ("tickets", "messages", "contacts", "users", "memberships", "teams"):
            assert mentioned.get(name), (name, mentioned)
        for name in ("blob_files", "kb_vectors", "audit_events", "api_tokens", "invitations"):
            assert mentioned.get(name), (name, mentioned)
        keys = await redis_naming(redis_client, leaving.ws)
        assert any(k.endswith(":log") for k in keys), keys  # the replay log
        assert any(k.endswith(":presence") for k in keys), keys
        assert any(k.endswith("{jobs}:timers:jobs") for k in keys), keys  # the snooze's timer
        chunk_ids = [
            c["_id"] async for c in database["blob_chunks"].find({"blob_id": leaving.blob_id})
        ]
        assert chunk_ids
        kept_before = await counts_of(database, staying.ws)
        # The staying workspace's own keys (shared ones, like the outbox's marks, drain as the
        # relay publishes, whoever is purged).
        kept_keys = {k for k in await redis_naming(redis_client, staying.ws) if staying.ws in k}

        await ok(await cancel(leaving.owner), 200)
        oid = ObjectId(leaving.ws)

        async def purged() -> bool:
            tomb = await database[TOMBSTONES].find_one({"_id": oid})
            return tomb is not None and tomb.get("purged_at") is not None

        await eventually(purged)

    assert await documents_naming(database, leaving.ws) == {}
    assert await database["blob_chunks"].count_documents({"blob_id": leaving.blob_id}) == 0
    assert await redis_naming(redis_client, leaving.ws) == []
    tomb = await database[TOMBSTONES].find_one({"_id": oid})
    assert tomb is not None
    assert set(tomb) == {"_id", "cancelled_at", "purge_after", "purged_at"}

    # Nobody can log in to it any more; the other workspace has all it had.
    gone = new_client(app)
    login = await gone.post(
        "/auth/login",
        json={
            "workspace": leaving.owner.workspace_slug,
            "email": f"owner@{leaving.owner.workspace_slug}.example",
            "password": PASSWORD,
        },
    )
    assert login.status_code == 401, login.text
    assert await counts_of(database, staying.ws) == kept_before
    assert kept_keys <= set(await redis_naming(redis_client, staying.ws))
    detail = await ok(await staying.agent.get(f"/tickets/{staying.ticket_id}"), 200)
    assert len(detail["messages"]) == 3
    file = await staying.owner.get(f"/attachments/{staying.blob_id}")
    assert file.content == PNG
    await gone.aclose()
    await leaving.aclose()
    await staying.aclose()


class StopsAfterOneFile:
    """Blob deletes that stop after the first, as a worker killed half way through would."""

    def __init__(self, inner: BlobStore) -> None:
        self.inner = inner
        self.deleted = 0

    async def delete(self, workspace_id: str, blob_id: str) -> bool:
        if self.deleted == 1:
            raise ConnectionError("the worker went away")
        self.deleted += 1
        return await self.inner.delete(workspace_id, blob_id)


async def test_a_purge_that_stopped_half_way_finishes_on_the_next_run(
    app: Starlette, database: AsyncDatabase[Doc], redis_client: aioredis.Redis
) -> None:
    team = await seeded(app)
    second = await team.owner.post(
        "/attachments",
        params={"filename": "b.png"},
        content=PNG,
        headers={"content-type": "image/png"},
    )
    assert second.status_code == 201, second.text
    await ok(await cancel(team.owner), 200)
    runtime = runtime_of(app)
    blobs, timers = runtime.deps.blobs, runtime.deps.timers
    assert blobs is not None
    assert timers is not None

    def purge(store: BlobStore) -> WorkspacePurge:
        return WorkspacePurge(database, runtime.redis, store, runtime.relay.locks, timers.queue)

    oid = ObjectId(team.ws)
    with pytest.raises(ConnectionError):
        await purge(StopsAfterOneFile(blobs)).run()  # type: ignore[arg-type]
    # Half done: nobody can sign in, the tombstone says it is not finished, the rest is there.
    assert await database["users"].count_documents({"workspace_id": oid}) == 0
    tomb = await database[TOMBSTONES].find_one({"_id": oid})
    assert tomb is not None
    assert tomb.get("purged_at") is None
    assert await database["tickets"].count_documents({"workspace_id": oid}) == 1

    reports = await purge(blobs).run()
    assert [r.workspace_id for r in reports] == [team.ws]
    assert await documents_naming(database, team.ws) == {}
    assert await redis_naming(redis_client, team.ws) == []
    tomb = await database[TOMBSTONES].find_one({"_id": oid})
    assert tomb is not None
    assert tomb["purged_at"] is not None
    # Run again: nothing left to do.
    assert await purge(blobs).run() == []
    await team.aclose()
