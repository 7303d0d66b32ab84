from __future__ import annotations

from typing import Annotated

import msgspec

from app.documents import Workspace
from app.domain.roles import Role
from app.domain.scopes import Scope
from app.schemas.common import Email, Name

Slug = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9-]{1,40}$")]
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=256)]


class SignupIn(msgspec.Struct, forbid_unknown_fields=True):
    workspace_name: Name
    workspace_slug: Slug
    name: Name
    email: Email
    password: Password


class LoginIn(msgspec.Struct, forbid_unknown_fields=True):
    # The workspace's address; its name as typed works too when it spells the same address.
    workspace: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    email: Email
    password: Password


class WorkspaceOut(msgspec.Struct):
    id: str
    name: str
    slug: str
    allowed_origins: list[str]
    timezone: str = "UTC"


def workspace_out(workspace: Workspace) -> WorkspaceOut:
    return WorkspaceOut(
        str(workspace.id),
        workspace.name,
        workspace.slug,
        list(workspace.allowed_origins),
        workspace.timezone,
    )


class MeOut(msgspec.Struct):
    user_id: str
    name: str
    email: str
    role: Role
    team_ids: list[str]
    workspace: WorkspaceOut
    permissions: list[str]
    csrf_token: str | None
    # What a ticket in each status may become: the app offers these moves, the server checks.
    ticket_transitions: dict[str, list[str]]
    language: str = "en"  # the app's language for this person
    avatar_url: str | None = None  # their picture


class InviteIn(msgspec.Struct, forbid_unknown_fields=True):
    email: Email
    name: Name
    role: Role = Role.AGENT


class InvitationOut(msgspec.Struct):
    id: str
    email: str
    role: Role
    expires_at: str | None
    token: str
    accept_url: str


class AcceptIn(msgspec.Struct, forbid_unknown_fields=True):
    token: Annotated[str, msgspec.Meta(min_length=10, max_length=200)]
    password: Password
    name: Name | None = None


class SessionOut(msgspec.Struct):
    """One browser signed in as me."""

    id: str
    created_at: str
    last_seen_at: str  # to within a few minutes
    expires_at: str
    user_agent: str
    address: str
    current: bool  # the session making this request


class TokenIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    # read < write < admin, each including the ones before (app/domain/scopes.py).
    scopes: Annotated[list[Scope], msgspec.Meta(min_length=1, max_length=3)] = msgspec.field(
        default_factory=lambda: ["read", "write"]
    )
    # Days until it stops working; null for a token that never expires.
    expires_in_days: Annotated[int, msgspec.Meta(ge=1, le=366)] | None = 90


class TokenOut(msgspec.Struct):
    id: str
    name: str
    prefix: str
    created_at: str | None
    scopes: list[Scope]
    expires_at: str | None
    last_used_at: str | None
    token: str | None = None  # shown once, at creation


class MemberOut(msgspec.Struct):
    user_id: str
    name: str
    email: str
    role: Role
    team_ids: list[str]
    active: bool


class MemberPatch(msgspec.Struct, forbid_unknown_fields=True):
    role: Role | msgspec.UnsetType = msgspec.UNSET
    team_ids: list[str] | msgspec.UnsetType = msgspec.UNSET
    active: bool | msgspec.UnsetType = msgspec.UNSET


class TeamIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Name


class TeamOut(msgspec.Struct):
    id: str
    name: str


class WorkspacePatch(msgspec.Struct, forbid_unknown_fields=True):
    name: Name | msgspec.UnsetType = msgspec.UNSET
    allowed_origins: list[str] | msgspec.UnsetType = msgspec.UNSET
    widget_reply_time: (
        Annotated[str, msgspec.Meta(min_length=1, max_length=100)] | msgspec.UnsetType
    ) = msgspec.UNSET
    widget_greeting: (
        Annotated[str, msgspec.Meta(min_length=1, max_length=300)] | msgspec.UnsetType
    ) = msgspec.UNSET
    timezone: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] | msgspec.UnsetType = (
        msgspec.UNSET
    )
