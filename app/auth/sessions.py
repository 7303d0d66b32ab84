"""Signed session cookies and the CSRF token bound to each session.

The cookie holds `{user, workspace, epoch, nonce}` signed with itsdangerous (timestamped, so
expiry needs no server state). The CSRF token is an HMAC of the nonce: the browser app reads
it from the login answer or `/api/v1/me` and echoes it in `X-CSRF-Token` on unsafe methods.
A cross-site form can send the cookie but cannot know the token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

import msgspec
from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE_NAME = "tandem_session"
CSRF_HEADER = "x-csrf-token"


class SessionData(msgspec.Struct, frozen=True):
    user_id: str
    workspace_id: str
    epoch: int
    nonce: str


class SessionCodec:
    def __init__(self, secret_key: str, max_age: int) -> None:
        self._serializer = URLSafeTimedSerializer(secret_key, salt="tandem.session")
        self._csrf_key = hashlib.sha256(("csrf:" + secret_key).encode()).digest()
        self.max_age = max_age

    def issue(self, user_id: str, workspace_id: str, epoch: int) -> tuple[str, SessionData]:
        data = SessionData(user_id, workspace_id, epoch, secrets.token_urlsafe(16))
        return self._serializer.dumps(msgspec.to_builtins(data)), data

    def read(self, cookie: str) -> SessionData | None:
        try:
            raw = self._serializer.loads(cookie, max_age=self.max_age)
            return msgspec.convert(raw, SessionData)
        except (BadSignature, msgspec.ValidationError, TypeError):
            return None

    def csrf_token(self, session: SessionData) -> str:
        return hmac.new(self._csrf_key, session.nonce.encode(), "sha256").hexdigest()

    def csrf_ok(self, session: SessionData, token: str | None) -> bool:
        return token is not None and hmac.compare_digest(self.csrf_token(session), token)
