"""How fast the public may start widget visitors, open conversations and send messages.

The widget's endpoints are open to anyone who sends an allowed Origin, which a script sets
freely, and every session a script starts without a visitor token is a new visitor: a limit
per visitor alone stops nothing. So each of these is also counted per client address (per
workspace: a busy address visiting two shops is two budgets), with room for the many real
visitors one office or mobile network puts behind a single address, and new visitors and
new conversations per workspace from everyone together, so no source fills an inbox.

One Lua script checks every window first and counts only when all have room: a refused
request counts nowhere, so a refused flood never uses up the workspace's ceiling that real
visitors share. The keys of one workspace share its hash tag (one Redis Cluster slot). The
numbers are module constants; the README's Security section lists them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import redis.asyncio as aioredis

from app.domain.errors import RateLimited
from app.redis_scripts import script


@dataclass(frozen=True)
class Limit:
    name: str
    most: int
    seconds: int


MINUTE: Final = 60
HOUR: Final = 3600
# Sessions that start a new anonymous visitor (a stored visitor token resumes, uncounted).
VISITORS_PER_ADDRESS: Final = Limit("visitors:addr", 20, MINUTE)
VISITORS_PER_WORKSPACE: Final = Limit("visitors", 20_000, HOUR)
# Messages that open a new conversation (a ticket in the agents' inbox).
CONVERSATIONS_PER_ADDRESS: Final = Limit("conversations:addr", 10, MINUTE)
CONVERSATIONS_PER_WORKSPACE: Final = Limit("conversations", 600, HOUR)
# Every visitor message.
MESSAGES_PER_VISITOR: Final = Limit("messages:visitor", 20, MINUTE)
MESSAGES_PER_ADDRESS: Final = Limit("messages:addr", 120, MINUTE)

# KEYS: the counters. ARGV: most and seconds of each, in turn. Returns 0 when every counter
# had room (each then counted once), else the seconds until the last full one has room.
ADMIT_LUA = """
local wait = 0
for i, key in ipairs(KEYS) do
  local count = tonumber(redis.call('GET', key) or '0')
  if count >= tonumber(ARGV[2 * i - 1]) then
    local ttl = redis.call('TTL', key)
    if ttl < 1 then
      ttl = tonumber(ARGV[2 * i])
      redis.call('EXPIRE', key, ttl)
    end
    if ttl > wait then wait = ttl end
  end
end
if wait > 0 then return wait end
for i, key in ipairs(KEYS) do
  if redis.call('INCR', key) == 1 then redis.call('EXPIRE', key, ARGV[2 * i]) end
end
return 0
"""


def key(ws: str, limit: Limit, who: str | None = None) -> str:
    base = f"tandem:{{ws:{ws}}}:widget:{limit.name}"
    return f"{base}:{who}" if who is not None else base


async def admit(redis: aioredis.Redis, ws: str, counted: dict[str, Limit]) -> int:
    """Count one request against every `{key: limit}` if all have room: 0, else the seconds
    to wait (nothing counted)."""
    args: list[int] = []
    for limit in counted.values():
        args += [limit.most, limit.seconds]
    run = script(redis, ADMIT_LUA)
    return int(await run(keys=list(counted), args=args))


def refusal(message: str, code: str, wait: int) -> RateLimited:
    # The wait rides in the body too: a cross-origin page cannot read `Retry-After`.
    return RateLimited(message, code=code, retry_after=wait, details={"retry_after": wait})


async def new_visitor(redis: aioredis.Redis, ws: str, address: str) -> None:
    wait = await admit(
        redis,
        ws,
        {
            key(ws, VISITORS_PER_ADDRESS, address): VISITORS_PER_ADDRESS,
            key(ws, VISITORS_PER_WORKSPACE): VISITORS_PER_WORKSPACE,
        },
    )
    if wait:
        raise refusal(
            "too many new chats are starting from here; please try again shortly",
            "too_many_visitors",
            wait,
        )


async def new_conversation(redis: aioredis.Redis, ws: str, address: str) -> None:
    wait = await admit(
        redis,
        ws,
        {
            key(ws, CONVERSATIONS_PER_ADDRESS, address): CONVERSATIONS_PER_ADDRESS,
            key(ws, CONVERSATIONS_PER_WORKSPACE): CONVERSATIONS_PER_WORKSPACE,
        },
    )
    if wait:
        raise refusal(
            "too many new conversations right now; please try again shortly",
            "too_many_conversations",
            wait,
        )


async def message(redis: aioredis.Redis, ws: str, address: str, contact_id: str) -> None:
    wait = await admit(
        redis,
        ws,
        {
            key(ws, MESSAGES_PER_VISITOR, contact_id): MESSAGES_PER_VISITOR,
            key(ws, MESSAGES_PER_ADDRESS, address): MESSAGES_PER_ADDRESS,
        },
    )
    if wait:
        raise refusal(
            f"at most {MESSAGES_PER_VISITOR.most} messages a minute; please wait a moment",
            "rate_limited",
            wait,
        )
