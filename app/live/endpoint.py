"""The live WebSocket (`/live`): checks Origin and authentication before accepting, then hands
the socket to the hub, which runs the protocol session (realtime/session.py).

Authentication, in order: `?token=` (a one-minute socket token from
`POST /api/v1/realtime/token` or the widget session), else the agent's session cookie, else
the token in the first frame (`hello {token}`), checked by the session before anything else.
Origin: a cookie is only honoured from Tandem's own origin (no cross-site WebSocket
hijacking); a visitor's socket only from the workspace's allowed origins; an agent's token
from Tandem's own origin, an allowed origin, or a non-browser client (no Origin header).
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from starlette.websockets import WebSocket

from app.auth.authenticate import authenticate, credential_in_force, principal_for
from app.auth.sessions import COOKIE_NAME
from app.auth.socket_tokens import SocketClaims
from app.documents import Contact, Workspace
from app.live.agent_access import AgentAccess
from app.live.visitor_access import VisitorAccess
from app.runtime import Runtime
from app.services.ids import require_id
from app.services.lifecycle import read_lifecycle
from realtime.access import Authorizer
from realtime.session import Session

log = logging.getLogger("tandem.live")
POLICY_VIOLATION = 1008
HELLO_TOKEN = "credentials expected in hello"


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def own_origins(websocket: WebSocket, runtime: Runtime) -> set[str]:
    host = websocket.headers.get("host", "")
    scheme = "https" if websocket.url.scheme == "wss" else "http"
    return {origin_of(runtime.settings.public_url), f"{scheme}://{host}"}


async def _from_token(
    claims: SocketClaims, origin: str | None, own: set[str]
) -> tuple[Authorizer | None, str]:
    workspace = await Workspace.get(require_id(claims.workspace_id, "workspace"))
    if workspace is None:
        return None, "unknown workspace"
    allowed = set(workspace.allowed_origins)
    if claims.kind == "visitor":
        if workspace.cancelled_at is not None:
            return None, "this workspace was cancelled: its chat is closed"
        if origin is None or origin not in allowed:
            return None, "origin not allowed for this workspace's widget"
        contact = await Contact.find_one(
            Contact.id == require_id(claims.subject_id, "contact"),
            Contact.workspace_id == workspace.id,
        )
        if contact is None:
            return None, "unknown visitor"
        return VisitorAccess(claims.workspace_id, claims.subject_id, contact.name), ""
    if origin is not None and origin not in own | allowed:
        return None, "origin not allowed"
    if not await credential_in_force(claims.credential):
        return None, "authentication ended: the session or token that asked for this has ended"
    principal = await principal_for(
        claims.subject_id,
        claims.workspace_id,
        via="token",
        epoch=claims.epoch,
        credential=claims.credential,
    )
    if principal is None:
        return None, "the account is gone or its sessions were ended"
    return AgentAccess(principal, read_only=workspace.cancelled_at is not None), ""


async def authorize(websocket: WebSocket, runtime: Runtime) -> tuple[Authorizer | None, str]:
    origin = websocket.headers.get("origin")
    own = own_origins(websocket, runtime)
    token = websocket.query_params.get("token")
    if token:
        claims = runtime.socket_tokens.read(token)
        if claims is None:
            return None, "invalid or expired token"
        return await _from_token(claims, origin, own)
    if not websocket.cookies.get(COOKIE_NAME):
        return None, HELLO_TOKEN
    if origin is None or origin not in own:
        return None, "cookie authentication is only accepted from this site"
    principal, _ = await authenticate(websocket, runtime.sessions)
    if principal is None:
        return None, "not logged in"
    cancelled = (await read_lifecycle(principal.workspace_id)).cancelled
    return AgentAccess(principal, read_only=cancelled), ""


async def live(websocket: WebSocket) -> None:
    runtime: Runtime = websocket.app.state.runtime
    authorizer, reason = await authorize(websocket, runtime)
    if reason == HELLO_TOKEN:
        # No credentials yet: the first frame must be a hello carrying a socket token.
        origin, own = websocket.headers.get("origin"), own_origins(websocket, runtime)

        async def from_hello(token: str) -> Authorizer | None:
            claims = runtime.socket_tokens.read(token)
            return (await _from_token(claims, origin, own))[0] if claims else None

        await websocket.accept()
        session = Session(
            broker=runtime.relay.broker, authenticate=from_hello, presence=runtime.presence_sink
        )
        await runtime.hub.serve(websocket, session)
        return
    if authorizer is None:
        log.info("refused live socket from %s: %s", websocket.headers.get("origin"), reason)
        await websocket.close(code=POLICY_VIOLATION, reason=reason)
        return
    await websocket.accept()
    session = Session(
        broker=runtime.relay.broker, authorizer=authorizer, presence=runtime.presence_sink
    )
    await runtime.hub.serve(websocket, session)
