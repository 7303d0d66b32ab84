"""Sign-up, login, logout, who-am-I, invitations."""

from __future__ import annotations

from starlette.responses import Response

from app.api.endpoint import Api, Call
from app.api.responses import json_response
from app.api.same_origin import require_same_origin
from app.auth.principal import Principal
from app.auth.sessions import COOKIE_NAME
from app.documents import User
from app.domain.errors import Forbidden
from app.domain.roles import allowed_actions
from app.domain.tickets import Status, next_statuses
from app.schemas.auth import (
    AcceptIn,
    InvitationOut,
    InviteIn,
    LoginIn,
    MeOut,
    SignupIn,
    workspace_out,
)
from app.schemas.common import iso
from app.services import accounts, workspaces

api = Api()


def workspace_slug(text: str) -> str:
    """What a person typed as the workspace, as its address: "Acme Support" → "acme-support"."""
    out = [ch if ch.isascii() and ch.isalnum() else "-" for ch in text.strip().lower()]
    return "-".join(part for part in "".join(out).split("-") if part)


def with_session(call: Call, user: User, status: int) -> Response:
    """Answer with the caller's profile and set the session cookie plus a readable CSRF
    cookie (the token is also in the JSON body)."""
    runtime = call.runtime
    cookie, session = runtime.sessions.issue(
        str(user.id), str(user.workspace_id), user.session_epoch
    )
    csrf = runtime.sessions.csrf_token(session)
    response = json_response({"user_id": str(user.id), "csrf_token": csrf}, status=status)
    secure = runtime.settings.cookie_secure
    max_age = runtime.settings.session_max_age
    response.set_cookie(
        COOKIE_NAME, cookie, max_age=max_age, httponly=True, samesite="lax", secure=secure, path="/"
    )
    response.set_cookie(
        "tandem_csrf",
        csrf,
        max_age=max_age,
        httponly=False,
        samesite="lax",
        secure=secure,
        path="/",
    )
    return response


@api.op(
    "POST",
    "/auth/signup",
    summary="Create a workspace and its owner, and log in",
    tag="auth",
    body=SignupIn,
    status=201,
    auth=False,
    errors=(403, 409, 415, 422),
)
async def signup(call: Call) -> Response:
    require_same_origin(call.request, call.runtime.settings.public_url, json_body=True)
    if not call.runtime.settings.signup_enabled:
        raise Forbidden("sign-up is disabled on this server", code="signup_disabled")
    body: SignupIn = call.body
    _, user = await workspaces.create_workspace(
        name=body.workspace_name,
        slug=body.workspace_slug,
        owner_name=body.name,
        owner_email=body.email,
        password=body.password,
        deps=call.runtime.deps,
    )
    timers = call.runtime.deps.timers
    await accounts.send_verification(
        timers.queue if timers is not None else None, call.runtime.settings.public_url, user
    )
    return with_session(call, user, 201)


@api.op(
    "POST",
    "/auth/login",
    summary="Log in with workspace, email and password",
    tag="auth",
    body=LoginIn,
    auth=False,
    errors=(401, 403, 415, 422, 429),
)
async def login(call: Call) -> Response:
    require_same_origin(call.request, call.runtime.settings.public_url, json_body=True)
    body: LoginIn = call.body
    slug = workspace_slug(body.workspace)  # its address, or its name as typed
    throttle = call.runtime.login_throttle
    await throttle.attempt(slug, body.email, call.request)
    user = await workspaces.login(slug=slug, email=body.email, password=body.password)
    await throttle.succeeded(slug, body.email, call.request)
    return with_session(call, user, 200)


@api.op(
    "POST",
    "/auth/logout",
    summary="End this browser session",
    tag="auth",
    auth=False,
    errors=(403,),
)
async def logout(call: Call) -> Response:
    require_same_origin(call.request, call.runtime.settings.public_url)
    response = Response(status_code=204)
    response.delete_cookie(COOKIE_NAME, path="/")
    response.delete_cookie("tandem_csrf", path="/")
    return response


async def me_out(call: Call, principal: Principal) -> MeOut:
    workspace = await workspaces.get_workspace(principal.workspace_id)
    return MeOut(
        user_id=principal.user_id,
        name=principal.name,
        email=principal.email,
        role=principal.role,
        team_ids=sorted(principal.team_ids),
        workspace=workspace_out(workspace),
        permissions=allowed_actions(principal.role),
        csrf_token=call.runtime.sessions.csrf_token(call.session) if call.session else None,
        ticket_transitions={s.value: [n.value for n in next_statuses(s)] for s in Status},
        language=principal.language,
        avatar_url=accounts.avatar_path(principal.user_id, principal.avatar_blob_id),
    )


@api.op(
    "GET",
    "/me",
    summary="The caller, their role, permissions and CSRF token",
    tag="auth",
    response=MeOut,
)
async def me(call: Call) -> MeOut:
    return await me_out(call, call.agent)


@api.op(
    "POST",
    "/invitations",
    secret=True,
    summary="Invite a member (admin)",
    tag="members",
    body=InviteIn,
    response=InvitationOut,
    status=201,
    errors=(403, 409, 422),
)
async def invite(call: Call) -> InvitationOut:
    body: InviteIn = call.body
    invitation, token = await workspaces.invite(
        principal=call.agent, email=body.email, name=body.name, role=body.role
    )
    return InvitationOut(
        id=str(invitation.id),
        email=invitation.email,
        role=invitation.role,
        expires_at=iso(invitation.expires_at),
        token=token,
        accept_url=f"{call.runtime.settings.public_url}/app/#/accept/{token}",
    )


@api.op(
    "POST",
    "/invitations/accept",
    summary="Accept an invitation, set a password, log in",
    tag="members",
    body=AcceptIn,
    status=201,
    auth=False,
    errors=(403, 404, 409, 415, 422),
)
async def accept(call: Call) -> Response:
    require_same_origin(call.request, call.runtime.settings.public_url, json_body=True)
    body: AcceptIn = call.body
    user = await workspaces.accept_invitation(
        locks=call.runtime.relay.locks, token=body.token, password=body.password, name=body.name
    )
    return with_session(call, user, 201)
