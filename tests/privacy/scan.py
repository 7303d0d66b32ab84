"""Looking for a person's data everywhere Tandem keeps data: every document of every
collection of the test's database (blobs included), every Redis key of every type, and a log."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import bson
import redis.asyncio as aioredis
from pymongo import AsyncMongoClient


def _hits(raw: bytes, needles: list[str]) -> set[str]:
    lowered = raw.lower()
    return {n for n in needles if n.lower().encode() in lowered}


async def store_hits(mongodb_url: str, db_name: str, needles: list[str]) -> dict[str, set[str]]:
    """Which needles each collection holds, documents read whole as BSON (strings and the
    blobs' bytes as they are)."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_url)
    found: dict[str, set[str]] = {}
    try:
        database = client[db_name]
        for name in await database.list_collection_names():
            async for doc in database[name].find({}):
                hits = _hits(bson.encode(doc), needles)
                if hits:
                    found.setdefault(name, set()).update(hits)
    finally:
        await client.close()
    return found


async def _values(redis: aioredis.Redis, key: bytes) -> list[bytes]:
    kind = (await redis.type(key)).decode()
    if kind == "string":
        return [await redis.get(key) or b""]
    if kind == "hash":
        return [b for pair in (await redis.hgetall(key)).items() for b in pair]
    if kind == "list":
        return list(await redis.lrange(key, 0, -1))
    if kind == "set":
        return list(await redis.smembers(key))
    if kind == "zset":
        return [m for m, _ in await redis.zrange(key, 0, -1, withscores=True)]
    if kind == "stream":
        entries = await redis.xrange(key)
        return [b for _, fields in entries for pair in fields.items() for b in pair]
    return []


async def redis_hits(redis: aioredis.Redis, needles: list[str]) -> dict[str, set[str]]:
    """Which needles each Redis key holds, in its name or its content, whatever its type."""
    found: dict[str, set[str]] = {}
    async for key in redis.scan_iter(count=1000):
        hits = _hits(key, needles)
        for value in await _values(redis, key):
            hits |= _hits(value, needles)
        if hits:
            found[key.decode(errors="replace")] = hits
    return found


def file_hits(path: Path, needles: list[str]) -> set[str]:
    return _hits(path.read_bytes(), needles) if path.exists() else set()
