"""How often the public may ask the knowledge base: the help center and the widget's search.

Both are open to anyone (the widget's search only checks the page's Origin, which a script
sets freely), and each search embeds the question with the model, so they are counted in
Redis, shared by every process, in one-minute windows: per client address, and per workspace
from everyone together so one busy site cannot take the whole embedder. Reading help pages is
counted per address only, at a rate no reader reaches.
"""

from __future__ import annotations

from typing import Final, Literal

import redis.asyncio as aioredis

WINDOW: Final = 60  # seconds
SEARCHES_PER_ADDRESS: Final = 60  # a typing visitor's debounced lookups stay well below
SEARCHES_PER_WORKSPACE: Final = 1_200
PAGES_PER_ADDRESS: Final = 300

Kind = Literal["search", "page"]


async def allowed(redis: aioredis.Redis, *, kind: Kind, address: str, ws: str) -> bool:
    """Count one public request of `kind`; False once the address or the workspace is over
    its limit for this minute."""
    limits = {f"tandem:kb:public:{kind}:addr:{address}": _per_address(kind)}
    if kind == "search":
        limits[f"tandem:kb:public:search:ws:{ws}"] = SEARCHES_PER_WORKSPACE
    async with redis.pipeline(transaction=True) as pipe:
        for key in limits:
            pipe.incr(key)
            pipe.expire(key, WINDOW, nx=True)
        replies = await pipe.execute()
    counts = replies[0::2]
    return all(int(count) <= limit for count, limit in zip(counts, limits.values(), strict=True))


def _per_address(kind: Kind) -> int:
    return SEARCHES_PER_ADDRESS if kind == "search" else PAGES_PER_ADDRESS
