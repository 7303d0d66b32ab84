"""Short-lived tokens that open a WebSocket: for clients that cannot send the session cookie
(other origins, scripts, the benchmark). Signed, not stored; valid for one minute to connect."""

from __future__ import annotations

import msgspec
from itsdangerous import BadSignature, URLSafeTimedSerializer

from app.auth.keyring import Keyring

TOKEN_TTL_SECONDS = 60


class SocketClaims(msgspec.Struct, frozen=True):
    kind: str  # "agent" | "visitor"
    workspace_id: str
    subject_id: str  # the user id, or the visitor's contact id
    epoch: int = 0
    ticket_id: str | None = None  # visitors: their conversation
    # Agents: the session or API token that asked for it; once that ends, so does the token.
    credential: str | None = None


class SocketTokens:
    def __init__(self, keyring: Keyring) -> None:
        self._serializer = URLSafeTimedSerializer(keyring.oldest_to_newest, salt="tandem.socket")

    def issue(self, claims: SocketClaims) -> str:
        return self._serializer.dumps(msgspec.to_builtins(claims))

    def read(self, token: str, max_age: int = TOKEN_TTL_SECONDS) -> SocketClaims | None:
        try:
            return msgspec.convert(self._serializer.loads(token, max_age=max_age), SocketClaims)
        except (BadSignature, msgspec.ValidationError, TypeError):
            return None
