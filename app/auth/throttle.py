"""Login brute-force protection, counted in Redis so every process sees the same numbers.

Three counts, each over a 15-minute window:
- per account and address: an address that keeps guessing one account is refused (429) after
  10 failures — it locks out itself, not the account's owner;
- per address: 50 failures across all accounts (password spraying);
- per account, from addresses it has never logged in from: after 20 failures, each further
  attempt from such an address must wait, 1 s then doubling up to 15 minutes. The owner's own
  addresses (those it logged in from within 30 days) are not held back, so guessing from
  elsewhere cannot lock them out.

Each attempt is checked and counted before its password is, in one Lua script, so attempts
made at the same moment cannot slip under a limit together; a right password clears the
account's counts, takes itself off the address's, and remembers the address.
"""

from __future__ import annotations

import hashlib

import redis.asyncio as aioredis
from starlette.requests import HTTPConnection

from app.domain.errors import RateLimited
from app.redis_scripts import script

WINDOW_SECONDS = 900
KNOWN_FOR_SECONDS = 30 * 24 * 3600
MAX_WAIT_SECONDS = 900

_ATTEMPT = """
local addr = tonumber(redis.call('GET', KEYS[1]) or '0')
if addr >= tonumber(ARGV[1]) then return {'address', redis.call('TTL', KEYS[1])} end
local pair = tonumber(redis.call('GET', KEYS[2]) or '0')
if pair >= tonumber(ARGV[2]) then return {'account', redis.call('TTL', KEYS[2])} end
local known = redis.call('SISMEMBER', KEYS[5], ARGV[5]) == 1
if not known then
  local wait = redis.call('PTTL', KEYS[4])
  if wait > 0 then return {'backoff', math.ceil(wait / 1000)} end
end
for _, key in ipairs({KEYS[1], KEYS[2]}) do
  redis.call('INCR', key)
  redis.call('EXPIRE', key, ARGV[4], 'NX')
end
if not known then
  local n = redis.call('INCR', KEYS[3])
  redis.call('EXPIRE', KEYS[3], ARGV[4], 'NX')
  local over = n - tonumber(ARGV[3])
  if over > 0 then
    local seconds = math.min(2 ^ math.min(over - 1, 20), tonumber(ARGV[6]))
    redis.call('SET', KEYS[4], '1', 'PX', math.floor(seconds * 1000))
  end
end
return {'ok', 0}
"""


def client_address(request: HTTPConnection) -> str:
    """The address limits are counted under (behind a trusted proxy, the one it forwarded)."""
    return request.client.host if request.client else "unknown"


class LoginThrottle:
    def __init__(
        self,
        redis: aioredis.Redis,
        *,
        per_account_address: int = 10,
        per_address: int = 50,
        before_backoff: int = 20,
        window_seconds: int = WINDOW_SECONDS,
    ) -> None:
        self.redis = redis
        self.per_account_address = per_account_address
        self.per_address = per_address
        self.before_backoff = before_backoff
        self.window = window_seconds

    def _keys(self, workspace: str, email: str, address: str) -> list[str]:
        account = hashlib.sha256(f"{workspace.lower()}:{email.lower()}".encode()).hexdigest()[:32]
        return [
            f"tandem:login:addr:{address}",
            f"tandem:login:pair:{account}:{address}",
            f"tandem:login:acct:{account}",
            f"tandem:login:wait:{account}",
            f"tandem:login:known:{account}",
        ]

    async def attempt(self, workspace: str, email: str, request: HTTPConnection) -> None:
        """Count this attempt; RateLimited (nothing checked) when the address, the account
        from this address, or the account from unknown addresses must wait."""
        address = client_address(request)
        verdict, seconds = await script(self.redis, _ATTEMPT)(
            keys=self._keys(workspace, email, address),
            args=[
                self.per_address,
                self.per_account_address,
                self.before_backoff,
                self.window,
                address,
                MAX_WAIT_SECONDS,
            ],
        )
        if verdict != b"ok" and verdict != "ok":
            wait = max(1, int(seconds))
            raise RateLimited(
                f"too many failed logins; try again in {wait} seconds",
                code="login_throttled",
                retry_after=wait,
            )

    async def succeeded(self, workspace: str, email: str, request: HTTPConnection) -> None:
        """The right password: the account's counts start again, the attempt is taken off the
        address's (which counts failures: many people log in from one office), and the
        address is one the account is known to use."""
        address = client_address(request)
        addr, pair, acct, wait, known = self._keys(workspace, email, address)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(pair, acct, wait)
            pipe.decr(addr)
            pipe.sadd(known, address)
            pipe.expire(known, KNOWN_FOR_SECONDS)
            await pipe.execute()


async def within_limit(redis: aioredis.Redis, key: str, limit: int, window_seconds: int) -> bool:
    """Count one hit in a fixed window shared by every process; False once over `limit`."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.incr(key)
        pipe.expire(key, window_seconds, nx=True)
        count, _ = await pipe.execute()
    return int(count) <= limit
