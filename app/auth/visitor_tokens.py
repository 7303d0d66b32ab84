"""Visitor tokens for the webchat widget, and the host site's identity proof.

A visitor token names one workspace and one contact; the widget keeps it in the visitor's
browser so a reload keeps the conversation. It is signed, not stored, and only ever grants
that contact's own conversation.

Identity verification: the host site computes `HMAC-SHA256(widget_secret, user_id)` on its
server and passes it with the user id; only then does the visitor become (or join) the contact
with that external id, marked verified.
"""

from __future__ import annotations

import hashlib
import hmac

import msgspec
from itsdangerous import BadSignature, URLSafeTimedSerializer

from app.auth.keyring import Keyring

VISITOR_TOKEN_MAX_AGE = 180 * 24 * 3600


class VisitorClaims(msgspec.Struct, frozen=True):
    workspace_id: str
    contact_id: str
    verified: bool = False


class VisitorTokens:
    def __init__(self, keyring: Keyring) -> None:
        self._serializer = URLSafeTimedSerializer(keyring.oldest_to_newest, salt="tandem.visitor")

    def issue(self, claims: VisitorClaims) -> str:
        return "vt." + self._serializer.dumps(msgspec.to_builtins(claims))

    def read(self, token: str) -> VisitorClaims | None:
        if not token.startswith("vt."):
            return None
        try:
            raw = self._serializer.loads(token[3:], max_age=VISITOR_TOKEN_MAX_AGE)
            return msgspec.convert(raw, VisitorClaims)
        except (BadSignature, msgspec.ValidationError, TypeError):
            return None


def identity_hash(widget_secret: str, user_id: str) -> str:
    return hmac.new(widget_secret.encode(), user_id.encode(), hashlib.sha256).hexdigest()


def identity_ok(widget_secret: str, user_id: str, given: str) -> bool:
    return hmac.compare_digest(identity_hash(widget_secret, user_id), given.lower())
