"""Idempotency keys: a client that retries a write after losing the answer gets the first
answer back, and the write happens once.

A write sent with `Idempotency-Key` claims that key in Redis before it runs, then keeps its
answer there for a day: a repeat with the same key and the same body gets the stored status
and body (marked `Idempotent-Replayed: true`) without running again; the same key with another
body is a client bug (422); a repeat while the first still runs is told to wait (409). Only
answers that say what happened are kept: a 5xx, a 429 or an exception leaves nothing behind,
so a retry runs again.

Keys belong to the caller and the operation: the workspace, the user, the credential kind
(and, for an API token, the token itself: two integrations of one user number their keys
independently), the method and the path. Another caller's key, or the same key on another
path, is a different key.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
import redis.asyncio as aioredis
from redis.exceptions import RedisError
from starlette.requests import Request
from starlette.responses import Response

from app.api.responses import domain_error_response
from app.auth.principal import Principal
from app.domain.errors import Conflict, DomainError, Invalid
from app.redis_scripts import script

log = logging.getLogger("tandem.api")

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
RECORD_TTL_S = 24 * 3600
# The claim of a running write. It is renewed while the write runs, so it only lapses when
# the process holding it is gone: a crashed server blocks the key for seconds, not a day.
LEASE_MS = 10_000
LEASE_RENEW_S = 3.0
_VALID_KEY = re.compile(r"[\x20-\x7e]{1,255}")
# Only these headers of an answer are kept; an answer with others (a cookie, say) could not
# be reproduced, so it is not stored and a retry runs again.
_REPRODUCIBLE_HEADERS = frozenset({"content-type", "content-length"})

OPENAPI_PARAMETER: dict[str, Any] = {
    "name": HEADER,
    "in": "header",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[ -~]+$"},
    "description": (
        "Makes a retry safe: the first request with a key runs and its answer (2xx or 4xx) is "
        "kept for 24 hours; a repeat by the same caller on the same method and path with the "
        "same body gets that answer again, with `Idempotent-Replayed: true`, and writes "
        "nothing. The same key with a different body is `422 idempotency_key_reused`; a "
        "repeat while the first still runs is `409 idempotency_key_in_progress` with "
        "`Retry-After`. A 5xx or 429 is not kept. Use a fresh random key (a UUID) per "
        "logical write, and the same key when retrying it."
    ),
}

# Claim the key unless something is there; answer what is there. One round trip, atomic.
_CLAIM = """
local current = redis.call('get', KEYS[1])
if current then return current end
redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false
"""
# The three below act only while the key still holds this request's claim: a claim that
# lapsed and was taken by another request is no longer ours to renew, fill or drop.
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0
"""
_FINISH = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  redis.call('set', KEYS[1], ARGV[2], 'EX', ARGV[3])
  return 1
end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


class Record(msgspec.Struct, frozen=True):
    """What Redis holds for a key: a claim while `owner` is set, then the kept answer."""

    fingerprint: str
    owner: str | None = None
    status: int = 0
    content_type: str | None = None
    body: bytes = b""


_encode = msgspec.msgpack.Encoder().encode
_decode = msgspec.msgpack.Decoder(Record).decode


def key_of(request: Request) -> str | None:
    values = request.headers.getlist(HEADER)
    if not values:
        return None
    if len(values) > 1 or not _VALID_KEY.fullmatch(values[0]):
        raise Invalid(
            f"the {HEADER} header must be one value of 1 to 255 printable ASCII characters",
            field=HEADER,
            code="invalid_idempotency_key",
        )
    return values[0]


def record_name(principal: Principal, request: Request, key: str) -> str:
    """The Redis key for this caller's `key` on this method and path."""
    credential = ""
    if principal.via == "token":
        credential = request.headers.get("authorization", "")[7:].strip()
    scope = "\0".join(
        (
            principal.workspace_id,
            principal.user_id,
            principal.via,
            credential,
            request.method,
            request.url.path,
            key,
        )
    )
    # Hashed: bounded length, and an API token never appears in a Redis key.
    return f"tandem:idem:{principal.workspace_id}:{hashlib.sha256(scope.encode()).hexdigest()}"


def fingerprint(body: bytes, query: str) -> str:
    """The request's inputs, as JSON with sorted keys when it parses, so a client that
    re-serializes the same object in another key order is not taken for a key reuse."""
    try:
        canonical = msgspec.json.encode(msgspec.json.decode(body.strip() or b"{}"), order="sorted")
    except msgspec.DecodeError:
        canonical = body
    return hashlib.sha256(canonical + b"\0" + query.encode()).hexdigest()


async def once(
    request: Request,
    redis: aioredis.Redis,
    principal: Principal,
    body: bytes,
    run: Callable[[], Awaitable[Response]],
) -> Response:
    """Run a write at most once per idempotency key; without a key, just run it."""
    key = key_of(request)
    if key is None:
        return await run()
    name = record_name(principal, request, key)
    claim = Record(fingerprint(body, request.url.query), owner=secrets.token_hex(8))
    held = _encode(claim)
    existing = await script(redis, _CLAIM)(keys=[name], args=[held, LEASE_MS])
    if existing is not None:
        return _earlier(request, _decode(existing), claim.fingerprint)

    renewer = asyncio.create_task(_renew(redis, name, held))
    kept = False
    try:
        try:
            response = await run()
        except DomainError as exc:
            # A refusal is an answer like any other: a retry gets the same refusal.
            response = domain_error_response(request, exc)
        kept = await _keep(redis, name, held, claim, response)
        return response
    finally:
        renewer.cancel()
        if not kept:
            await _release(redis, name, held)


def _earlier(request: Request, record: Record, fingerprint: str) -> Response:
    if record.fingerprint != fingerprint:
        raise Invalid(
            f"this {HEADER} was already used with a different request body; "
            "use a new key for a new request",
            field=HEADER,
            code="idempotency_key_reused",
        )
    if record.owner is not None:
        response = domain_error_response(
            request,
            Conflict(
                f"a request with this {HEADER} is still running; retry shortly",
                code="idempotency_key_in_progress",
            ),
        )
        response.headers["Retry-After"] = "1"
        return response
    log.debug("%s %s: replaying the answer kept for its key", request.method, request.url.path)
    headers = {REPLAYED_HEADER: "true"}
    if record.content_type:
        headers["content-type"] = record.content_type
    return Response(record.body, status_code=record.status, headers=headers)


def _storable(response: Response) -> bool:
    status = response.status_code
    # 5xx: the server failed, the write may not have happened. 429: the caller is told to
    # come back later, which must then run rather than repeat "too many".
    if status >= 500 or status == 429:
        return False
    return isinstance(getattr(response, "body", None), bytes) and all(
        name.lower() in _REPRODUCIBLE_HEADERS for name in response.headers
    )


async def _keep(
    redis: aioredis.Redis, name: str, held: bytes, claim: Record, response: Response
) -> bool:
    if not _storable(response):
        return False
    record = Record(
        claim.fingerprint,
        status=response.status_code,
        content_type=response.headers.get("content-type"),
        body=bytes(response.body),
    )
    try:
        finished = await script(redis, _FINISH)(
            keys=[name], args=[held, _encode(record), RECORD_TTL_S]
        )
    except RedisError:
        # The write is done and its answer is right; only the replay is lost.
        log.exception("could not keep the answer for an idempotency key; a retry will run")
        return False
    return bool(finished)


async def _renew(redis: aioredis.Redis, name: str, held: bytes) -> None:
    renew = script(redis, _RENEW)
    while True:
        await asyncio.sleep(LEASE_RENEW_S)
        try:
            if not await renew(keys=[name], args=[held, LEASE_MS]):
                return
        except RedisError:
            log.warning("could not renew an idempotency claim; trying again", exc_info=True)


async def _release(redis: aioredis.Redis, name: str, held: bytes) -> None:
    try:
        await script(redis, _RELEASE)(keys=[name], args=[held])
    except RedisError:
        # The claim lapses by itself after LEASE_MS.
        log.warning("could not release an idempotency claim", exc_info=True)
