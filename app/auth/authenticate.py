"""Who is calling: a session cookie or an API token, resolved to a Principal."""

from __future__ import annotations

from beanie import PydanticObjectId
from bson.errors import InvalidId
from starlette.requests import HTTPConnection

from app.auth import session_store
from app.auth.principal import Principal
from app.auth.sessions import COOKIE_NAME, SessionCodec, SessionData
from app.auth.tokens import digest
from app.documents import ApiToken, Membership, User
from app.documents.common import utcnow
from app.domain.scopes import ALL_SCOPES, Scope, granted

TOKEN_CREDENTIAL = "token:"


def object_id(value: str) -> PydanticObjectId | None:
    try:
        return PydanticObjectId(value)
    except (InvalidId, TypeError, ValueError):
        return None


async def principal_for(
    user_id: str,
    workspace_id: str,
    *,
    via: str,
    epoch: int | None = None,
    credential: str | None = None,
    scopes: frozenset[Scope] = ALL_SCOPES,
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
        credential=credential,
        scopes=scopes,
    )


async def token_in_force(token_id: str) -> ApiToken | None:
    oid = object_id(token_id)
    token = await ApiToken.get(oid) if oid else None
    return token if token is not None and _token_valid(token) else None


def _token_valid(token: ApiToken) -> bool:
    if token.revoked_at is not None:
        return False
    expires = token.expires_at
    if expires is not None and expires.tzinfo is None:
        expires = expires.replace(tzinfo=utcnow().tzinfo)
    return expires is None or expires > utcnow()


async def credential_in_force(credential: str | None) -> bool:
    """Whether what a live socket was opened with still stands: its session, or its token."""
    if credential is None:
        return True
    if credential.startswith(TOKEN_CREDENTIAL):
        return await token_in_force(credential.removeprefix(TOKEN_CREDENTIAL)) is not None
    return await session_store.is_active(credential)


async def authenticate(
    conn: HTTPConnection, sessions: SessionCodec
) -> tuple[Principal | None, SessionData | None]:
    header = conn.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        token = await ApiToken.find_one(ApiToken.token_hash == digest(header[7:].strip()))
        if token is None or not _token_valid(token):
            return None, None
        await ApiToken.find_one(ApiToken.id == token.id).update(
            {"$set": {"last_used_at": utcnow()}}
        )
        principal = await principal_for(
            str(token.user_id),
            str(token.workspace_id),
            via="token",
            credential=f"{TOKEN_CREDENTIAL}{token.id}",
            scopes=granted(token.scopes),
        )
        return principal, None
    cookie = conn.cookies.get(COOKIE_NAME)
    session = sessions.read(cookie) if cookie else None
    if session is None or await session_store.current(session) is None:
        return None, None
    principal = await principal_for(
        session.user_id,
        session.workspace_id,
        via="session",
        epoch=session.epoch,
        credential=session.id,
    )
    return principal, session if principal else None
