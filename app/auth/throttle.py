"""Login brute-force protection: attempts counted in Redis per account and per client
address, so every process sees the same count.

Each attempt is counted before its password is checked, in one atomic step, so attempts made
at the same moment cannot all slip under the limit; a right password clears the account's
count and takes itself off the address's."""

from __future__ import annotations

import hashlib

import redis.asyncio as aioredis
from starlette.requests import HTTPConnection, Request

from app.domain.errors import RateLimited


def client_address(request: HTTPConnection) -> str:
    """The address limits are counted under (behind a trusted proxy, the one it forwarded)."""
    return request.client.host if request.client else "unknown"


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
        address = client_address(request)
        return {"acct": f"tandem:login:acct:{account}", "addr": f"tandem:login:addr:{address}"}

    async def attempt(self, workspace: str, email: str, request: Request) -> None:
        """Count this attempt; RateLimited (nothing checked) once the account or the address
        has made too many within the window."""
        keys = self._keys(workspace, email, request)
        async with self.redis.pipeline(transaction=True) as pipe:
            for key in keys.values():
                pipe.incr(key)
                pipe.expire(key, self.window, nx=True)
            replies = await pipe.execute()
        for (kind, _), count in zip(keys.items(), replies[0::2], strict=True):
            if int(count) > self.limits[kind]:
                raise RateLimited(
                    "too many failed logins; try again in a few minutes", code="login_throttled"
                )

    async def succeeded(self, workspace: str, email: str, request: Request) -> None:
        """The right password: the account's count starts again, and the attempt is taken
        off the address's (which counts failures: many people log in from one office)."""
        keys = self._keys(workspace, email, request)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(keys["acct"])
            pipe.decr(keys["addr"])
            await pipe.execute()


async def within_limit(redis: aioredis.Redis, key: str, limit: int, window_seconds: int) -> bool:
    """Count one hit in a fixed window shared by every process; False once over `limit`."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.incr(key)
        pipe.expire(key, window_seconds, nx=True)
        count, _ = await pipe.execute()
    return int(count) <= limit
