"""Lua scripts registered once per Redis client: registering hashes the script's source,
which a hot path would otherwise do on every call."""

from __future__ import annotations

import weakref

import redis.asyncio as aioredis
from redis.commands.core import AsyncScript

_SCRIPTS: weakref.WeakKeyDictionary[aioredis.Redis, dict[str, AsyncScript]] = (
    weakref.WeakKeyDictionary()
)


def script(redis: aioredis.Redis, source: str) -> AsyncScript:
    scripts = _SCRIPTS.setdefault(redis, {})
    if source not in scripts:
        scripts[source] = redis.register_script(source)
    return scripts[source]
