"""Session cookies and the CSRF token bound to each session.

The cookie holds `{user, workspace, epoch, nonce}` signed with the keyring (app/auth/keyring.py,
timestamped). The nonce is the session's secret: its SHA-256 is the `_id` of the session's
record (app/auth/session_store.py), so a session ends for good the moment its record does,
whatever the cookie says. The CSRF token is an HMAC of the nonce: the browser app reads it from
the login answer or `/api/v1/me` and echoes it in `X-CSRF-Token` on unsafe methods. A cross-site
form can send the cookie but cannot know the token.
"""

from __future__ import annotations

import hashlib
import secrets

import msgspec
from itsdangerous import BadSignature, URLSafeTimedSerializer

from app.auth.keyring import Keyring

COOKIE_NAME = "tandem_session"
CSRF_HEADER = "x-csrf-token"


class SessionData(msgspec.Struct, frozen=True):
    user_id: str
    workspace_id: str
    epoch: int
    nonce: str

    @property
    def id(self) -> str:
        """The session record's `_id`: never the secret itself."""
        return session_id(self.nonce)


def session_id(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


class SessionCodec:
    def __init__(self, keyring: Keyring, max_age: int) -> None:
        self._serializer = URLSafeTimedSerializer(keyring.oldest_to_newest, salt="tandem.session")
        self._keyring = keyring
        self.max_age = max_age

    def issue(self, user_id: str, workspace_id: str, epoch: int) -> tuple[str, SessionData]:
        data = SessionData(user_id, workspace_id, epoch, secrets.token_urlsafe(24))
        return self._serializer.dumps(msgspec.to_builtins(data)), data

    def read(self, cookie: str) -> SessionData | None:
        try:
            raw = self._serializer.loads(cookie, max_age=self.max_age)
            return msgspec.convert(raw, SessionData)
        except (BadSignature, msgspec.ValidationError, TypeError):
            return None

    def csrf_token(self, session: SessionData) -> str:
        return self._keyring.mac("csrf", session.nonce)

    def csrf_ok(self, session: SessionData, token: str | None) -> bool:
        return token is not None and self._keyring.mac_ok("csrf", session.nonce, token)
