"""Who is calling: a session cookie or an API token, resolved to a Principal."""

from __future__ import annotations

from beanie import PydanticObjectId
from bson.errors import InvalidId
from starlette.requests import HTTPConnection

from app.auth.principal import Principal
from app.auth.sessions import COOKIE_NAME, SessionCodec, SessionData
from app.auth.tokens import digest
from app.documents import ApiToken, Membership, User
from app.documents.common import utcnow


def object_id(value: str) -> PydanticObjectId | None:
    try:
        return PydanticObjectId(value)
    except (InvalidId, TypeError, ValueError):
        return None


async def principal_for(
    user_id: str, workspace_id: str, *, via: str, epoch: int | None = None
) -> Principal | None:
    uid, wid = object_id(user_id), object_id(workspace_id)
    if uid is None or wid is None:
        return None
    user = await User.find_one(User.id == uid, User.workspace_id == wid)
    if user is None or not user.active or (epoch is not None and epoch != user.session_epoch):
        return None
    membership = await Membership.find_one(
        Membership.workspace_id == wid, Membership.user_id == uid
    )
    if membership is None:
        return None
    return Principal(
        workspace_id=str(wid),
        user_id=str(uid),
        name=user.name,
        email=user.email,
        role=membership.role,
        team_ids=frozenset(str(t) for t in membership.team_ids),
        via=via,
        language=user.language,
        avatar_blob_id=user.avatar_blob_id,
    )


async def authenticate(
    conn: HTTPConnection, sessions: SessionCodec
) -> tuple[Principal | None, SessionData | None]:
    header = conn.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        token = await ApiToken.find_one(
            ApiToken.token_hash == digest(header[7:].strip()),
            ApiToken.revoked_at == None,  # noqa: E711
        )
        if token is None:
            return None, None
        await ApiToken.find_one(ApiToken.id == token.id).update(
            {"$set": {"last_used_at": utcnow()}}
        )
        return await principal_for(str(token.user_id), str(token.workspace_id), via="token"), None
    cookie = conn.cookies.get(COOKIE_NAME)
    session = sessions.read(cookie) if cookie else None
    if session is None:
        return None, None
    principal = await principal_for(
        session.user_id, session.workspace_id, via="session", epoch=session.epoch
    )
    return principal, session if principal else None
