"""A person's own account: password reset, address confirmation, finding one's workspaces,
name, language and password.

Requests that could tell a stranger whether an address has an account (reset, "which
workspaces") answer the same whether it has or not; what they find goes by email only.
Links are one-time secrets; only their SHA-256 is kept, as the `_id` of an `AccountToken`,
and using one is a single atomic update, so a link used twice at once works once.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Final
from urllib.parse import quote

from beanie import PydanticObjectId
from pymongo import ReturnDocument

from app.actions.attachments import Unsupported
from app.auth.passwords import check_strength, hash_password, verify_password
from app.auth.tokens import digest, new_secret
from app.blobs.store import BlobStore
from app.documents import AccountToken, Invitation, User, Workspace
from app.documents.common import utcnow
from app.domain.attachments import RASTER_IMAGES, sniff
from app.domain.errors import Invalid, NotAuthenticated, NotFound, TooLarge
from app.jobs.queue import JobQueue
from app.mail import compose
from app.mail.send import MAIL_JOB, log_only, payload
from app.services.audit import record

RESET_MINUTES: Final = 60
VERIFY_DAYS: Final = 7
FOUND_MAX: Final = 20  # workspaces listed in one "your workspaces" email
LANGUAGES: Final = ("en", "es", "de", "fr", "pt")


async def _send(queue: JobQueue | None, mail: compose.AccountMail) -> None:
    """Hand the email to the worker; a process without a job queue logs it instead."""
    if queue is None:
        log_only(mail)
    else:
        await queue.enqueue(MAIL_JOB, payload(mail))


def app_link(public_url: str, route: str) -> str:
    return f"{public_url.rstrip('/')}/app/#/{route}"


async def _issue(kind: str, user: User, lifetime: timedelta) -> str:
    assert user.id is not None
    secret = new_secret(kind)
    await AccountToken(
        id=digest(secret),
        kind=kind,
        workspace_id=user.workspace_id,
        user_id=user.id,
        expires_at=utcnow() + lifetime,
    ).insert()
    return secret


async def _use(kind: str, secret: str) -> AccountToken:
    """Mark the link used, once; NotFound when it is unknown, used or expired."""
    claimed = await AccountToken.get_pymongo_collection().find_one_and_update(
        {"_id": digest(secret), "kind": kind, "used_at": None, "expires_at": {"$gt": utcnow()}},
        {"$set": {"used_at": utcnow()}},
        return_document=ReturnDocument.AFTER,
    )
    if claimed is None:
        what = "reset link" if kind == "reset" else "confirmation link"
        raise NotFound(f"this {what} is unknown, used or expired", code="link_invalid")
    token: AccountToken = AccountToken.model_validate(claimed)
    return token


async def _member(slug: str, email: str) -> tuple[Workspace, User] | None:
    workspace = await Workspace.find_one(Workspace.slug == slug)
    if workspace is None:
        return None
    user = await User.find_one(User.workspace_id == workspace.id, User.email == email.lower())
    if user is None or not user.active:
        return None
    return workspace, user


async def request_reset(queue: JobQueue | None, public_url: str, slug: str, email: str) -> None:
    """Email a reset link when `email` is an active member of the workspace `slug`."""
    found = await _member(slug, email)
    if found is None:
        return
    workspace, user = found
    secret = await _issue("reset", user, timedelta(minutes=RESET_MINUTES))
    mail = compose.password_reset(
        user.email,
        workspace.name,
        app_link(public_url, f"reset/{secret}"),
        RESET_MINUTES,
        str(workspace.id),
    )
    await _send(queue, mail)


async def reset_password(secret: str, password: str) -> User:
    """Set a new password from a reset link; every other session of the person ends."""
    check_strength(password)
    token = await _use("reset", secret)
    hashed = await asyncio.to_thread(hash_password, password)
    return await _set_password(token.workspace_id, token.user_id, hashed, "password.reset")


async def _set_password(
    ws: PydanticObjectId, user_id: PydanticObjectId, hashed: str, action: str
) -> User:
    raw = await User.get_pymongo_collection().find_one_and_update(
        {"_id": user_id, "workspace_id": ws, "active": True},
        {"$set": {"password_hash": hashed}},
        return_document=ReturnDocument.AFTER,
    )
    if raw is None:
        raise NotFound("this account is no longer active", code="account_inactive")
    await record(ws, str(user_id), action, "user", str(user_id))
    user: User = User.model_validate(raw)
    return user


async def change_password(user_id: str, ws: str, current: str, new: str) -> User:
    check_strength(new)
    user = await get_user(user_id, ws)
    if not await asyncio.to_thread(verify_password, user.password_hash, current):
        raise NotAuthenticated("the current password is not right", code="wrong_password")
    hashed = await asyncio.to_thread(hash_password, new)
    return await _set_password(
        user.workspace_id, PydanticObjectId(user_id), hashed, "password.changed"
    )


async def send_verification(queue: JobQueue | None, public_url: str, user: User) -> None:
    workspace = await Workspace.get(user.workspace_id)
    if workspace is None or user.email_verified_at is not None:
        return
    secret = await _issue("verify", user, timedelta(days=VERIFY_DAYS))
    mail = compose.verify_email(
        user.email, workspace.name, app_link(public_url, f"verify/{secret}"), str(workspace.id)
    )
    await _send(queue, mail)


async def verify_address(secret: str) -> User:
    token = await _use("verify", secret)
    raw = await User.get_pymongo_collection().find_one_and_update(
        {"_id": token.user_id, "workspace_id": token.workspace_id},
        {"$set": {"email_verified_at": utcnow()}},
        return_document=ReturnDocument.AFTER,
    )
    if raw is None:
        raise NotFound("this account no longer exists", code="account_inactive")
    user: User = User.model_validate(raw)
    return user


async def send_workspaces(queue: JobQueue | None, public_url: str, email: str) -> None:
    """Email `email` the workspaces it is an active member of (or that there are none)."""
    users = await User.find(User.email == email.lower(), User.active == True).to_list()  # noqa: E712
    found: list[tuple[str, str, str]] = []
    for user in users[:FOUND_MAX]:
        workspace = await Workspace.get(user.workspace_id)
        if workspace is not None:
            link = app_link(public_url, f"login?workspace={quote(workspace.slug)}")
            found.append((workspace.name, workspace.slug, link))
    await _send(queue, compose.your_workspaces(email.lower(), found))


async def update_profile(user_id: str, ws: str, *, name: str | None, language: str | None) -> User:
    changes: dict[str, str] = {}
    if name is not None:
        if not name.strip():
            raise Invalid("a name cannot be empty", field="name")
        changes["name"] = name.strip()
    if language is not None:
        if language not in LANGUAGES:
            raise Invalid(f"language is one of {', '.join(LANGUAGES)}", field="language")
        changes["language"] = language
    if not changes:
        return await get_user(user_id, ws)
    raw = await User.get_pymongo_collection().find_one_and_update(
        {"_id": PydanticObjectId(user_id), "workspace_id": PydanticObjectId(ws)},
        {"$set": changes},
        return_document=ReturnDocument.AFTER,
    )
    if raw is None:
        raise NotFound("no such user")
    user: User = User.model_validate(raw)
    return user


async def get_user(user_id: str, ws: str) -> User:
    """A member of `ws` by id (`_id` lookup)."""
    user = await User.get(PydanticObjectId(user_id))
    if user is None or str(user.workspace_id) != ws:
        raise NotFound("no such user")
    return user


async def open_invitation(secret: str) -> tuple[Invitation, Workspace]:
    """A pending invitation by the secret in its link, and its workspace; NotFound when it is
    unknown, used or expired (the same answer for each)."""
    invitation = await Invitation.find_one(
        Invitation.token_hash == digest(secret),
        Invitation.accepted_at == None,  # noqa: E711
        Invitation.expires_at > utcnow(),
    )
    workspace = None
    if invitation is not None:
        workspace = await Workspace.get(invitation.workspace_id)
    if invitation is None or workspace is None:
        raise NotFound("this invitation is unknown, used or expired", code="invitation_invalid")
    return invitation, workspace


AVATAR_MAX: Final = 1024 * 1024  # bytes; a profile picture needs far less


def avatar_path(user_id: str, blob_id: str | None) -> str | None:
    """Where members see a person's picture; it changes with the picture (cache-safe)."""
    return f"/api/v1/users/{user_id}/avatar?v={blob_id}" if blob_id else None


async def set_avatar(blobs: BlobStore, user_id: str, ws: str, data: bytes) -> User:
    """Keep `data` as the person's picture (a PNG, JPEG, GIF or WebP, by its bytes) and drop
    the one before."""
    if len(data) > AVATAR_MAX:
        raise TooLarge(f"a picture is at most {AVATAR_MAX // 1024} KB")
    kind = sniff(data)
    if kind not in RASTER_IMAGES:
        raise Unsupported("a picture is a PNG, JPEG, GIF or WebP image")
    stored = await blobs.put(ws, "avatar", kind, data)
    return await _swap_avatar(blobs, user_id, ws, stored.id)


async def clear_avatar(blobs: BlobStore, user_id: str, ws: str) -> User:
    return await _swap_avatar(blobs, user_id, ws, None)


async def _swap_avatar(blobs: BlobStore, user_id: str, ws: str, blob_id: str | None) -> User:
    raw = await User.get_pymongo_collection().find_one_and_update(
        {"_id": PydanticObjectId(user_id), "workspace_id": PydanticObjectId(ws)},
        {"$set": {"avatar_blob_id": blob_id}},
        return_document=ReturnDocument.BEFORE,
    )
    if raw is None:
        raise NotFound("no such user")
    if raw.get("avatar_blob_id"):
        await blobs.delete(ws, raw["avatar_blob_id"])
    user: User = User.model_validate({**raw, "avatar_blob_id": blob_id})
    return user


async def avatar_of(ws: str, user_id: str) -> str | None:
    """The blob of a member's picture, only for a member of `ws`."""
    if not PydanticObjectId.is_valid(user_id):
        return None
    raw = await User.get_pymongo_collection().find_one(
        {"_id": PydanticObjectId(user_id), "workspace_id": PydanticObjectId(ws)},
        {"avatar_blob_id": 1},
    )
    return str(raw["avatar_blob_id"]) if raw and raw.get("avatar_blob_id") else None
