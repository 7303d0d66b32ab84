"""Session records: one per signed-in browser, found by `_id` on every request.

A session is valid while its record exists, has not ended and has not expired; ending records
is how logout, "log out everywhere", a password change, a reset and a deactivation take effect
at once on every process. `last_seen_at` is written at most every few minutes, not on every
request. Records that ended or expired are deleted a month later by the worker's retention job.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from beanie import PydanticObjectId
from starlette.requests import HTTPConnection

from app.auth.sessions import SessionCodec, SessionData
from app.auth.throttle import client_address
from app.documents import LoginSession, User
from app.documents.common import utcnow

LAST_SEEN_EVERY = timedelta(minutes=5)
KEEP_ENDED = timedelta(days=30)
USER_AGENT_LENGTH = 300


async def start(codec: SessionCodec, user: User, conn: HTTPConnection) -> tuple[str, SessionData]:
    """A new session for `user`: its cookie value and what the cookie holds."""
    cookie, data = codec.issue(str(user.id), str(user.workspace_id), user.session_epoch)
    now = utcnow()
    assert user.id is not None
    await LoginSession(
        id=data.id,
        workspace_id=user.workspace_id,
        user_id=user.id,
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(seconds=codec.max_age),
        user_agent=conn.headers.get("user-agent", "")[:USER_AGENT_LENGTH],
        address=client_address(conn),
    ).insert()
    return cookie, data


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=utcnow().tzinfo)


async def current(data: SessionData) -> LoginSession | None:
    """The live record behind a cookie, or None when that session has ended."""
    record = await LoginSession.get(data.id)
    now = utcnow()
    if (
        record is None
        or record.ended_at is not None
        or _aware(record.expires_at) <= now
        or str(record.user_id) != data.user_id
        or str(record.workspace_id) != data.workspace_id
    ):
        return None
    if now - _aware(record.last_seen_at) >= LAST_SEEN_EVERY:
        await LoginSession.get_pymongo_collection().update_one(
            {"_id": record.id, "last_seen_at": record.last_seen_at},
            {"$set": {"last_seen_at": now}},
        )
    return record


async def is_active(session_id: str) -> bool:
    record = await LoginSession.get(session_id)
    return record is not None and record.ended_at is None and _aware(record.expires_at) > utcnow()


async def listed(ws: PydanticObjectId, user_id: PydanticObjectId) -> list[LoginSession]:
    """The person's sessions still in force, most recently used first."""
    now = utcnow()
    found = await LoginSession.find(
        LoginSession.workspace_id == ws,
        LoginSession.user_id == user_id,
        LoginSession.ended_at == None,  # noqa: E711
    ).to_list()
    alive = [s for s in found if _aware(s.expires_at) > now]
    return sorted(alive, key=lambda s: _aware(s.last_seen_at), reverse=True)


async def end(
    ws: PydanticObjectId, user_id: PydanticObjectId, session_id: str, reason: str
) -> bool:
    """End one of the person's sessions; False when there was none in force by that id."""
    result = await LoginSession.get_pymongo_collection().update_one(
        {"_id": session_id, "workspace_id": ws, "user_id": user_id, "ended_at": None},
        {"$set": {"ended_at": utcnow(), "ended_reason": reason}},
    )
    return result.modified_count == 1


async def end_all(
    ws: PydanticObjectId, user_id: PydanticObjectId, reason: str, *, keep: str | None = None
) -> list[str]:
    """End every session of the person in force (but `keep`, the caller's own, if given);
    the ids of those that ended."""
    query: dict[str, object] = {"workspace_id": ws, "user_id": user_id, "ended_at": None}
    if keep is not None:
        query["_id"] = {"$ne": keep}
    collection = LoginSession.get_pymongo_collection()
    ids = [str(raw["_id"]) async for raw in collection.find(query, {"_id": 1})]
    if ids:
        await collection.update_many(
            {"_id": {"$in": ids}, "ended_at": None},
            {"$set": {"ended_at": utcnow(), "ended_reason": reason}},
        )
    return ids


async def forget_old(now: datetime | None = None) -> int:
    """Delete records that ended or expired more than a month ago (the retention job)."""
    cutoff = (now or utcnow()) - KEEP_ENDED
    result = await LoginSession.get_pymongo_collection().delete_many(
        {"$or": [{"ended_at": {"$lt": cutoff}}, {"expires_at": {"$lt": cutoff}}]}
    )
    return result.deleted_count
