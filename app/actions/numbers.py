"""Ticket numbers: one Redis counter per workspace, so creating a ticket takes no lock and
no store write for its number.

When the counter is missing (a new workspace, or a Redis that lost it) it starts from the
highest number the store knows — its tickets', or the `counters` document older versions
kept — read once; two processes starting it at once agree, since only the first SET lands.
The unique (workspace, number) index stays the last guard: a clash is retried with the next
number.
"""

from __future__ import annotations

import redis.asyncio as aioredis
from beanie import PydanticObjectId

from app.documents import Counter, Ticket
from app.redis_scripts import script

# KEYS: the counter. ARGV: the floor to start from when it is missing ('' = do not start).
NEXT_LUA = """
if redis.call('EXISTS', KEYS[1]) == 0 then
  if ARGV[1] == '' then return false end
  redis.call('SET', KEYS[1], ARGV[1])
end
return redis.call('INCR', KEYS[1])
"""


def counter_key(workspace_id: object) -> str:
    return f"tandem:{{ws:{workspace_id}}}:ticket-number"


async def highest_stored(workspace_id: PydanticObjectId) -> int:
    """The highest ticket number the store holds for the workspace (a scan: read only when
    the Redis counter must start again)."""
    legacy = await Counter.get_pymongo_collection().find_one({"_id": f"{workspace_id}:tickets"})
    top = await (
        Ticket.get_pymongo_collection()
        .find({"workspace_id": workspace_id}, {"number": 1})
        .sort("number", -1)
        .limit(1)
        .to_list()
    )
    return max(int(legacy["value"]) if legacy else 0, int(top[0]["number"]) if top else 0)


async def next_number(redis: aioredis.Redis, workspace_id: PydanticObjectId) -> int:
    run = script(redis, NEXT_LUA)
    key = counter_key(workspace_id)
    number = await run(keys=[key], args=[""])
    if number is None:
        number = await run(keys=[key], args=[await highest_stored(workspace_id)])
    return int(number)
