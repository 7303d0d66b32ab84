"""Per-document write locks in Redis.

FerretDB v1's SQLite backend applies an update as read-document, modify, write-document
without isolating concurrent updates of the same document: conditional updates can both
succeed and a concurrent `$push` can be lost (measured: 20 concurrent `$push`es kept 4). Every
read-check-write of a shared document therefore runs under a short Redis lock named after the
document, taken by every process. On MongoDB the lock is redundant but harmless, so the code
is the same on both stores.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from app.domain.errors import DomainError

log = logging.getLogger("tandem.locks")

_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


class Busy(DomainError):
    status = 503
    code = "busy"
    retry_after = 1


class DocumentLocks:
    def __init__(
        self, redis: aioredis.Redis, *, ttl_ms: int = 10_000, wait_s: float = 10.0
    ) -> None:
        self.redis = redis
        self.ttl_ms = ttl_ms  # a holder that dies frees the document after this long
        self.wait_s = wait_s
        self._release = redis.register_script(_RELEASE)

    @asynccontextmanager
    async def hold(self, name: str) -> AsyncIterator[None]:
        key = f"tandem:lock:{{{name}}}"
        token = secrets.token_hex(8)
        deadline = time.monotonic() + self.wait_s
        pause = 0.001
        while not await self.redis.set(key, token, nx=True, px=self.ttl_ms):
            if time.monotonic() > deadline:
                raise Busy(f"{name} is busy; try again", details={"retry": True})
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.02)
        try:
            yield
        finally:
            try:
                await self._release(keys=[key], args=[token])
            except RedisError:
                # The write under the lock may be committed: never report it failed for
                # this. The lock frees itself after its time-to-live.
                log.warning("releasing %s failed; it expires in %d ms", key, self.ttl_ms)
