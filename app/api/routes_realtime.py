"""Tokens for opening the live WebSocket."""

from __future__ import annotations

import msgspec

from app.api.endpoint import Api, Call
from app.auth.socket_tokens import TOKEN_TTL_SECONDS, SocketClaims
from app.documents import User
from app.services.ids import require_id

api = Api()
LIVE_PATH = "/live"


class SocketTokenOut(msgspec.Struct):
    token: str
    expires_in: int
    path: str


@api.op(
    "POST",
    "/realtime/token",
    summary="A one-minute token to open the live WebSocket",
    secret=True,
    tag="realtime",
    response=SocketTokenOut,
)
async def socket_token(call: Call) -> SocketTokenOut:
    agent = call.agent
    user = await User.get(require_id(agent.user_id, "user"))
    claims = SocketClaims(
        kind="agent",
        workspace_id=agent.workspace_id,
        subject_id=agent.user_id,
        epoch=user.session_epoch if user else 0,
        credential=agent.credential,
    )
    token = call.runtime.socket_tokens.issue(claims)
    return SocketTokenOut(token=token, expires_in=TOKEN_TTL_SECONDS, path=LIVE_PATH)
