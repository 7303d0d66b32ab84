from __future__ import annotations

from datetime import datetime

import pymongo
from beanie import Document, PydanticObjectId
from pydantic import Field

from app.documents.common import utcnow
from app.domain.roles import Role


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
    """A token for integrations: only its SHA-256 is stored; it acts as its user."""

    workspace_id: PydanticObjectId
    user_id: PydanticObjectId
    name: str
    token_hash: str
    prefix: str  # the first characters, so a person can tell tokens apart
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None

    class Settings:
        name = "api_tokens"
        indexes = [
            pymongo.IndexModel([("token_hash", 1)], unique=True),
            pymongo.IndexModel([("workspace_id", 1), ("user_id", 1)]),
        ]
