"""A person's own account over the API: what the login page may offer, password reset, address
confirmation, "which workspaces am I in?", and the profile (name, language, password).

The requests a stranger can make (reset, find workspaces, resend) answer 202 whatever the
address, are limited per client address and per address asked about, and send what they
find by email only (app/services/accounts.py; app/mail/send.py says where email goes).
"""

from __future__ import annotations

from typing import Annotated, Final

import msgspec
from starlette.responses import Response

from app.api.body import read_body
from app.api.endpoint import Api, Call
from app.api.responses import json_response
from app.api.routes_attachments import serve
from app.api.routes_auth import with_session, workspace_slug
from app.api.same_origin import require_same_origin
from app.auth.throttle import client_address, within_limit
from app.blobs.store import BlobStore
from app.documents import User
from app.domain.errors import NotFound, RateLimited, TooLarge
from app.jobs.queue import JobQueue
from app.live.endings import end_sessions
from app.schemas.common import Email, Name
from app.services import accounts

api = Api()

PER_ADDRESS_HOUR: Final = 20  # account emails asked for from one client address
PER_EMAIL_HOUR: Final = 5  # account emails to one address
Secret = Annotated[str, msgspec.Meta(min_length=10, max_length=200)]
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
WorkspaceText = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Language = Annotated[str, msgspec.Meta(min_length=2, max_length=8)]


class AuthOptions(msgspec.Struct):
    signup_enabled: bool
    # "provider" when account emails really go out, "log" when the server only logs them.
    mailer: str


class ResetRequest(msgspec.Struct, forbid_unknown_fields=True):
    workspace: WorkspaceText
    email: Email


class ResetConfirm(msgspec.Struct, forbid_unknown_fields=True):
    token: Secret
    password: Password


class VerifyIn(msgspec.Struct, forbid_unknown_fields=True):
    token: Secret


class FindWorkspaces(msgspec.Struct, forbid_unknown_fields=True):
    email: Email


class ProfileIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Name | None = None
    language: Language | None = None


class PasswordChange(msgspec.Struct, forbid_unknown_fields=True):
    current_password: Password
    new_password: Password


class Sent(msgspec.Struct):
    message: str  # what the person should look for in their inbox


class InvitationPreview(msgspec.Struct):
    workspace_name: str
    workspace_slug: str  # the address to log in with later
    email: str
    name: str
    role: str


class PreviewQuery(msgspec.Struct, forbid_unknown_fields=True):
    token: Secret


class ProfileOut(msgspec.Struct):
    user_id: str
    name: str
    email: str
    language: str
    email_verified: bool
    avatar_url: str | None = None  # the person's picture, for members of the workspace


async def _limited(call: Call, email: str) -> None:
    address = client_address(call.request)
    redis = call.runtime.redis
    if not await within_limit(redis, f"tandem:account:addr:{address}", PER_ADDRESS_HOUR, 3600):
        raise RateLimited("too many account emails asked for from here; try again later")
    if not await within_limit(redis, f"tandem:account:email:{email.lower()}", PER_EMAIL_HOUR, 3600):
        raise RateLimited("too many account emails for this address; try again later")


def _queue(call: Call) -> JobQueue | None:
    timers = call.runtime.deps.timers
    return timers.queue if timers is not None else None


@api.op(
    "GET",
    "/auth/options",
    summary="What the login page may offer: sign-up, and whether account emails go out",
    tag="auth",
    response=AuthOptions,
    auth=False,
)
async def auth_options(call: Call) -> AuthOptions:
    settings = call.runtime.settings
    mailer = "provider" if settings.mail_postmark_token and settings.mail_from else "log"
    return AuthOptions(signup_enabled=settings.signup_enabled, mailer=mailer)


@api.op(
    "GET",
    "/invitations/preview",
    summary="Where an invitation leads (workspace, address, the invitee's email), before joining",
    tag="members",
    query=PreviewQuery,
    response=InvitationPreview,
    auth=False,
    errors=(404, 422),
)
async def invitation_preview(call: Call) -> InvitationPreview:
    q: PreviewQuery = call.query
    invitation, workspace = await accounts.open_invitation(q.token)
    return InvitationPreview(
        workspace_name=workspace.name,
        workspace_slug=workspace.slug,
        email=invitation.email,
        name=invitation.name,
        role=invitation.role.value,
    )


@api.op(
    "POST",
    "/auth/password-reset",
    summary="Email a password reset link (202 whether or not the account exists)",
    tag="auth",
    body=ResetRequest,
    response=Sent,
    status=202,
    auth=False,
    errors=(403, 415, 422, 429),
)
async def request_reset(call: Call) -> Sent:
    require_same_origin(call.request, call.runtime.settings.public_url, json_body=True)
    body: ResetRequest = call.body
    await _limited(call, body.email)
    slug = workspace_slug(body.workspace)
    await accounts.request_reset(_queue(call), call.runtime.settings.public_url, slug, body.email)
    return Sent(
        f"If {body.email} has an account in that workspace, a reset link is on its way. "
        f"It works once, for {accounts.RESET_MINUTES} minutes."
    )


@api.op(
    "POST",
    "/auth/password-reset/confirm",
    summary="Choose a new password with a reset link; other sessions end; logs in",
    tag="auth",
    body=ResetConfirm,
    auth=False,
    errors=(403, 404, 415, 422),
)
async def confirm_reset(call: Call) -> Response:
    require_same_origin(call.request, call.runtime.settings.public_url, json_body=True)
    body: ResetConfirm = call.body
    user = await accounts.reset_password(body.token, body.password)
    ws, uid = str(user.workspace_id), str(user.id)
    await end_sessions(call.runtime.relay.broker, ws, uid, "password_reset")
    return await with_session(call, user, 200)


@api.op(
    "POST",
    "/auth/verify-email",
    summary="Confirm an email address with the link sent to it",
    tag="auth",
    body=VerifyIn,
    response=ProfileOut,
    auth=False,
    errors=(403, 404, 415, 422),
)
async def verify_email(call: Call) -> ProfileOut:
    require_same_origin(call.request, call.runtime.settings.public_url, json_body=True)
    body: VerifyIn = call.body
    user = await accounts.verify_address(body.token)
    return _profile(user)


@api.op(
    "POST",
    "/auth/find-workspaces",
    summary="Email an address the workspaces it belongs to (202 whatever the address)",
    tag="auth",
    body=FindWorkspaces,
    response=Sent,
    status=202,
    auth=False,
    errors=(403, 415, 422, 429),
)
async def find_workspaces(call: Call) -> Sent:
    require_same_origin(call.request, call.runtime.settings.public_url, json_body=True)
    body: FindWorkspaces = call.body
    await _limited(call, body.email)
    await accounts.send_workspaces(_queue(call), call.runtime.settings.public_url, body.email)
    return Sent(f"We sent {body.email} the list of its workspaces, with a login link for each.")


def _profile(user: User) -> ProfileOut:
    return ProfileOut(
        user_id=str(user.id),
        name=user.name,
        email=user.email,
        language=user.language,
        email_verified=user.email_verified_at is not None,
        avatar_url=accounts.avatar_path(str(user.id), user.avatar_blob_id),
    )


def _blobs(call: Call) -> BlobStore:
    blobs = call.runtime.deps.blobs
    if blobs is None:
        raise NotFound("no file store is configured")
    return blobs


@api.op(
    "PUT",
    "/me/avatar",
    summary="Set my picture: the raw bytes of a PNG, JPEG, GIF or WebP image, at most 1 MB",
    tag="auth",
    response=ProfileOut,
    errors=(413, 415),
)
async def put_avatar(call: Call) -> ProfileOut:
    try:
        data = await read_body(call.request, accounts.AVATAR_MAX)
    except TooLarge:
        raise TooLarge(f"a picture is at most {accounts.AVATAR_MAX // 1024} KB") from None
    user = await accounts.set_avatar(
        _blobs(call), call.agent.user_id, call.agent.workspace_id, data
    )
    return _profile(user)


@api.op("DELETE", "/me/avatar", summary="Remove my picture", tag="auth", response=ProfileOut)
async def delete_avatar(call: Call) -> ProfileOut:
    user = await accounts.clear_avatar(_blobs(call), call.agent.user_id, call.agent.workspace_id)
    return _profile(user)


@api.op(
    "GET",
    "/users/{user_id}/avatar",
    summary="A member's picture (members of the same workspace)",
    tag="auth",
    errors=(404,),
)
async def get_avatar(call: Call) -> Response:
    ws = call.agent.workspace_id
    blob_id = await accounts.avatar_of(ws, call.path("user_id"))
    if blob_id is None:
        raise NotFound("no such picture")
    return await serve(_blobs(call), ws, blob_id)


@api.op("GET", "/me/profile", summary="My profile", tag="auth", response=ProfileOut)
async def my_profile(call: Call) -> ProfileOut:
    user = await accounts.get_user(call.agent.user_id, call.agent.workspace_id)
    return _profile(user)


@api.op(
    "PATCH",
    "/me/profile",
    summary="Change my name or language",
    tag="auth",
    body=ProfileIn,
    response=ProfileOut,
    errors=(422,),
)
async def change_profile(call: Call) -> ProfileOut:
    body: ProfileIn = call.body
    user = await accounts.update_profile(
        call.agent.user_id, call.agent.workspace_id, name=body.name, language=body.language
    )
    return _profile(user)


@api.op(
    "POST",
    "/me/password",
    summary="Change my password (the current one is asked); my other sessions end",
    tag="auth",
    body=PasswordChange,
    errors=(401, 422),
)
async def change_password(call: Call) -> Response:
    body: PasswordChange = call.body
    agent = call.agent
    user = await accounts.change_password(
        agent.user_id, agent.workspace_id, body.current_password, body.new_password
    )
    keep = agent.credential if call.session is not None else None
    await end_sessions(
        call.runtime.relay.broker, agent.workspace_id, agent.user_id, "password", keep=keep
    )
    csrf = call.runtime.sessions.csrf_token(call.session) if call.session else None
    return json_response({"user_id": str(user.id), "csrf_token": csrf})


@api.op(
    "POST",
    "/me/verify-email",
    summary="Send my address confirmation link again",
    tag="auth",
    response=Sent,
    status=202,
    errors=(429,),
)
async def resend_verification(call: Call) -> Sent:
    await _limited(call, call.agent.email)
    user = await accounts.get_user(call.agent.user_id, call.agent.workspace_id)
    await accounts.send_verification(_queue(call), call.runtime.settings.public_url, user)
    return Sent(f"A confirmation link is on its way to {user.email}.")
