"""Jobs waiting for a due time: a sorted set of names scored by due time (ms) and a hash of
the encoded job each name will put into the stream. Retries and timers both live in one.

Moving due entries is one Lua script, so with any number of pumps each entry reaches the
stream once: the script removes what it appends. An entry with a mark (a timer's firing)
is appended only if that idempotency key is not already queued or done.
"""

from __future__ import annotations

import redis.asyncio as aioredis
from redis.asyncio.client import Pipeline

from app.jobs.keys import DueSetKeys, JobKeys

# KEYS: due zset, jobs hash, marks hash, stream.
# ARGV: now (ms), batch size, marker key prefix, marker TTL (ms).
MOVE_DUE = """
local names = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
local moved = 0
for _, name in ipairs(names) do
  local body = redis.call('HGET', KEYS[2], name)
  local mark = redis.call('HGET', KEYS[3], name)
  redis.call('ZREM', KEYS[1], name)
  redis.call('HDEL', KEYS[2], name)
  redis.call('HDEL', KEYS[3], name)
  if body then
    local fresh = true
    if mark then
      fresh = redis.call('SET', ARGV[3] .. mark, 'queued', 'NX', 'PX', ARGV[4])
    end
    if fresh then
      redis.call('XADD', KEYS[4], '*', 'j', body)
    end
  end
  moved = moved + 1
end
return moved
"""


class DueSet:
    def __init__(
        self, redis: aioredis.Redis, keys: JobKeys, set_keys: DueSetKeys, *, marker_ttl_ms: int
    ) -> None:
        self.redis = redis
        self.keys = keys
        self.set_keys = set_keys
        self.marker_ttl_ms = marker_ttl_ms
        self._move = redis.register_script(MOVE_DUE)

    def put(
        self, pipe: Pipeline, name: str, body: bytes, due_ms: int, mark: str | None = None
    ) -> None:
        """Add (or replace) `name` to the transaction `pipe`."""
        pipe.zadd(self.set_keys.due, {name: due_ms})
        pipe.hset(self.set_keys.jobs, name, body)
        if mark is None:
            pipe.hdel(self.set_keys.marks, name)
        else:
            pipe.hset(self.set_keys.marks, name, mark)

    def remove(self, pipe: Pipeline, name: str) -> None:
        pipe.zrem(self.set_keys.due, name)
        pipe.hdel(self.set_keys.jobs, name)
        pipe.hdel(self.set_keys.marks, name)

    async def move_due(self, now_ms: int, *, batch: int = 100) -> int:
        """Append every entry due at `now_ms` to the stream; answer how many left the set."""
        total = 0
        while True:
            moved = int(
                await self._move(
                    keys=[
                        self.set_keys.due,
                        self.set_keys.jobs,
                        self.set_keys.marks,
                        self.keys.stream,
                    ],
                    args=[now_ms, batch, self.keys.marker_prefix, self.marker_ttl_ms],
                )
            )
            total += moved
            if moved < batch:
                return total

    async def due_ms(self, name: str) -> int | None:
        score = await self.redis.zscore(self.set_keys.due, name)
        return None if score is None else int(score)
