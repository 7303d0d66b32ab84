"""The Redis client each process shares: a bounded pool where a burst waits its turn.

redis-py's default pool refuses a command outright ("Too many connections") once 100 are in
use, which a burst of logins or widget requests reaches; a blocking pool of the same size
makes the 101st wait for the first connection to come back (up to `POOL_WAIT_SECONDS`, then
the request is answered 503 as any unreachable backend is)."""

from __future__ import annotations

import redis.asyncio as aioredis

POOL_SIZE = 128
POOL_WAIT_SECONDS = 10.0


def connect_redis(url: str, max_connections: int = POOL_SIZE) -> aioredis.Redis:
    pool = aioredis.BlockingConnectionPool.from_url(
        url, max_connections=max_connections, timeout=POOL_WAIT_SECONDS
    )
    return aioredis.Redis(connection_pool=pool)
