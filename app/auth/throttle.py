"""Login brute-force protection: failures counted in Redis per account and per client
address, so every process sees the same count."""

from __future__ import annotations

import hashlib

import redis.asyncio as aioredis
from starlette.requests import Request

from app.domain.errors import RateLimited


class LoginThrottle:
    def __init__(
        self,
        redis: aioredis.Redis,
        *,
        per_account: int = 10,
        per_address: int = 50,
        window_seconds: int = 900,
    ) -> None:
        self.redis = redis
        self.limits = {"acct": per_account, "addr": per_address}
        self.window = window_seconds

    def _keys(self, workspace: str, email: str, request: Request) -> dict[str, str]:
        account = hashlib.sha256(f"{workspace.lower()}:{email.lower()}".encode()).hexdigest()[:32]
        address = request.client.host if request.client else "unknown"
        return {"acct": f"tandem:login:acct:{account}", "addr": f"tandem:login:addr:{address}"}

    async def check(self, workspace: str, email: str, request: Request) -> None:
        keys = self._keys(workspace, email, request)
        counts = await self.redis.mget(list(keys.values()))
        for (kind, _), count in zip(keys.items(), counts, strict=True):
            if count is not None and int(count) >= self.limits[kind]:
                raise RateLimited(
                    "too many failed logins; try again in a few minutes", code="login_throttled"
                )

    async def failed(self, workspace: str, email: str, request: Request) -> None:
        async with self.redis.pipeline(transaction=False) as pipe:
            for key in self._keys(workspace, email, request).values():
                pipe.incr(key)
                pipe.expire(key, self.window, nx=True)
            await pipe.execute()


async def within_limit(redis: aioredis.Redis, key: str, limit: int, window_seconds: int) -> bool:
    """Count one hit in a fixed window shared by every process; False once over `limit`."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.incr(key)
        pipe.expire(key, window_seconds, nx=True)
        count, _ = await pipe.execute()
    return int(count) <= limit
