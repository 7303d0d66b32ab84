"""Sign-up, login, logout, who-am-I, invitations."""

from __future__ import annotations

from starlette.responses import Response

from app.api.endpoint import Api, Call
from app.api.responses import json_response
from app.api.same_origin import require_same_origin
from app.auth import session_store
from app.auth.authenticate import object_id
from app.auth.principal import Principal
from app.auth.sessions import COOKIE_NAME
from app.auth.throttle import client_address
from app.documents import User
from app.domain.errors import Forbidden, NotFound
from app.domain.roles import allowed_actions
from app.domain.tickets import Status, next_statuses
from app.live.endings import end_live_access, end_sessions
from app.schemas.auth import (
    AcceptIn,
    InvitationOut,
    InviteIn,
    LoginIn,
    MeOut,
    SessionOut,
    SignupIn,
    workspace_out,
)
from app.schemas.common import iso
from app.services import accounts, workspaces
from app.services.audit import record
from app.services.ids import require_id

api = Api()


def workspace_slug(text: str) -> str:
    """What a person typed as the workspace, as its address: "Acme Support" → "acme-support"."""
    out = [ch if ch.isascii() and ch.isalnum() else "-" for ch in text.strip().lower()]
    return "-".join(part for part in "".join(out).split("-") if part)


async def with_session(call: Call, user: User, status: int) -> Response:
    """Start a session: answer with the caller's id and set the session cookie plus a readable
    CSRF cookie (the token is also in the JSON body)."""
    runtime = call.runtime
    cookie, session = await session_store.start(runtime.sessions, user, call.request)
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
    return await with_session(call, user, 201)


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
    address = client_address(call.request)
    user = await workspaces.login(
        slug=slug, email=body.email, password=body.password, address=address
    )
    await throttle.succeeded(slug, body.email, call.request)
    await record(
        user.workspace_id,
        str(user.id),
        "login.succeeded",
        "user",
        str(user.id),
        address=address,
    )
    return await with_session(call, user, 200)


@api.op(
    "POST",
    "/auth/logout",
    summary="End this browser session",
    tag="auth",
    auth=False,
    status=204,
    errors=(403,),
)
async def logout(call: Call) -> Response:
    require_same_origin(call.request, call.runtime.settings.public_url)
    cookie = call.request.cookies.get(COOKIE_NAME)
    session = call.runtime.sessions.read(cookie) if cookie else None
    if session is not None:
        wid, uid = object_id(session.workspace_id), object_id(session.user_id)
        if wid and uid and await session_store.end(wid, uid, session.id, "logout"):
            await end_live_access(
                call.runtime.relay.broker, session.workspace_id, credential=session.id
            )
    return logged_out()


def logged_out() -> Response:
    response = Response(status_code=204)
    response.delete_cookie(COOKIE_NAME, path="/")
    response.delete_cookie("tandem_csrf", path="/")
    return response


@api.op(
    "POST",
    "/auth/logout-everywhere",
    summary="End every session of mine, this one included, and close their live connections",
    tag="auth",
    status=204,
    errors=(401, 403),
)
async def logout_everywhere(call: Call) -> Response:
    agent = call.agent
    await end_sessions(call.runtime.relay.broker, agent.workspace_id, agent.user_id, "everywhere")
    await record(
        require_id(agent.workspace_id, "workspace"),
        agent.user_id,
        "session.ended_everywhere",
        "user",
        agent.user_id,
    )
    return logged_out()


@api.op(
    "GET",
    "/me/sessions",
    summary="Where I am signed in: my sessions in force, most recently used first",
    tag="auth",
    response=list[SessionOut],
)
async def my_sessions(call: Call) -> list[SessionOut]:
    agent = call.agent
    found = await session_store.listed(
        require_id(agent.workspace_id, "workspace"), require_id(agent.user_id, "user")
    )
    return [
        SessionOut(
            id=s.id,
            created_at=iso(s.created_at) or "",
            last_seen_at=iso(s.last_seen_at) or "",
            expires_at=iso(s.expires_at) or "",
            user_agent=s.user_agent,
            address=s.address,
            current=s.id == agent.credential,
        )
        for s in found
    ]


@api.op(
    "DELETE",
    "/me/sessions/{session_id}",
    summary="Sign out one of my sessions (another browser, a lost phone)",
    tag="auth",
    status=204,
    errors=(404,),
)
async def end_my_session(call: Call) -> Response:
    agent, session_id = call.agent, call.path("session_id")
    ws, uid = require_id(agent.workspace_id, "workspace"), require_id(agent.user_id, "user")
    if not await session_store.end(ws, uid, session_id, "revoked"):
        raise NotFound("no session of yours in force by that id")
    await end_live_access(call.runtime.relay.broker, agent.workspace_id, credential=session_id)
    await record(ws, agent.user_id, "session.revoked", "user", agent.user_id)
    return logged_out() if session_id == agent.credential else Response(status_code=204)


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
    return await with_session(call, user, 201)
