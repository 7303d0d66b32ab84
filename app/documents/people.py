from __future__ import annotations

from datetime import datetime

import pymongo
from beanie import Document, PydanticObjectId
from pydantic import Field

from app.documents.common import utcnow
from app.domain.roles import Role
from app.domain.scopes import LEVELS, Scope


class User(Document):
    workspace_id: PydanticObjectId
    email: str  # stored lower-case
    name: str
    password_hash: str
    active: bool = True
    # Bumped on password change or "log out everywhere": older session cookies stop working.
    session_epoch: int = 0
    email_verified_at: datetime | None = None  # set when the person confirmed their address
    language: str = "en"  # the app's language for this person, and what AI translates into
    avatar_blob_id: str | None = None  # their picture, in the workspace's blob store
    created_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "users"
        indexes = [
            pymongo.IndexModel([("workspace_id", 1), ("email", 1)], unique=True),
            pymongo.IndexModel([("email", 1)]),  # "which workspaces am I in?"
        ]


class AccountToken(Document):
    """A one-time link for one person: a password reset or an address confirmation. Its `_id`
    is the SHA-256 of the secret in the link, so it is found by `_id` and never stored
    readable."""

    id: str  # type: ignore[assignment]
    kind: str  # "reset" | "verify"
    workspace_id: PydanticObjectId
    user_id: PydanticObjectId
    expires_at: datetime
    used_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "account_tokens"


class LoginSession(Document):
    """One signed-in browser. Its `_id` is the SHA-256 of the secret in the session cookie, so
    each request finds it by `_id`; ending it (logout, "log out everywhere", a password change,
    deactivation, a revocation from the profile) makes that cookie worthless at once."""

    id: str  # type: ignore[assignment]
    workspace_id: PydanticObjectId
    user_id: PydanticObjectId
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    user_agent: str = ""  # as the browser sent it, cut to 300 characters
    address: str = ""  # the client address it signed in from
    ended_at: datetime | None = None
    ended_reason: str | None = None  # "logout", "revoked", "everywhere", "password", …

    class Settings:
        name = "login_sessions"
        indexes = [pymongo.IndexModel([("workspace_id", 1), ("user_id", 1)])]


class Membership(Document):
    workspace_id: PydanticObjectId
    user_id: PydanticObjectId
    role: Role
    team_ids: list[PydanticObjectId] = Field(default_factory=list)
    created_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "memberships"
        indexes = [pymongo.IndexModel([("workspace_id", 1), ("user_id", 1)], unique=True)]


class Invitation(Document):
    workspace_id: PydanticObjectId
    email: str
    name: str
    role: Role
    token_hash: str
    invited_by: PydanticObjectId
    expires_at: datetime
    accepted_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "invitations"
        indexes = [
            pymongo.IndexModel([("token_hash", 1)], unique=True),
            pymongo.IndexModel([("workspace_id", 1), ("email", 1)]),
        ]


class ApiToken(Document):
    """A token for integrations: only its SHA-256 is stored; it acts as its user, within its
    scopes, until it expires or is revoked."""

    workspace_id: PydanticObjectId
    user_id: PydanticObjectId
    name: str
    token_hash: str
    prefix: str  # the first characters, so a person can tell tokens apart
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
    # What it may do on top of its creator's role (app/domain/scopes.py): tokens made before
    # scopes existed keep all three. None = it never expires.
    scopes: list[Scope] = Field(default_factory=lambda: list(LEVELS))
    expires_at: datetime | None = None

    class Settings:
        name = "api_tokens"
        indexes = [
            pymongo.IndexModel([("token_hash", 1)], unique=True),
            pymongo.IndexModel([("workspace_id", 1), ("user_id", 1)]),
        ]
