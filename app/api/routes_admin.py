"""Members, teams, API tokens, workspace settings, audit log."""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

from app.actions.workspace import change_settings
from app.api.endpoint import Api, Call
from app.documents import ApiToken, AuditEvent, Team
from app.domain.metrics import zone
from app.domain.roles import Action
from app.schemas.auth import (
    MemberOut,
    MemberPatch,
    TeamIn,
    TeamOut,
    TokenIn,
    TokenOut,
    WorkspaceOut,
    WorkspacePatch,
    workspace_out,
)
from app.schemas.common import iso
from app.services import workspaces
from app.services.ids import require_id

api = Api()
T = TypeVar("T")


def _val(value: T | msgspec.UnsetType) -> T | None:
    return None if value is msgspec.UNSET else value


@api.op(
    "GET", "/members", summary="Members of the workspace", tag="members", response=list[MemberOut]
)
async def list_members(call: Call) -> list[MemberOut]:
    return [
        MemberOut(str(u.id), u.name, u.email, m.role, [str(t) for t in m.team_ids], u.active)
        for u, m in await workspaces.list_members(call.agent.workspace_id)
    ]


@api.op(
    "PATCH",
    "/members/{user_id}",
    summary="Change a member's role, teams or activity (admin)",
    tag="members",
    body=MemberPatch,
    response=MemberOut,
    errors=(403, 404, 422),
)
async def patch_member(call: Call) -> MemberOut:
    body: MemberPatch = call.body
    user, m = await workspaces.update_member(
        principal=call.agent,
        user_id=call.path("user_id"),
        role=_val(body.role),
        team_ids=_val(body.team_ids),
        active=_val(body.active),
    )
    return MemberOut(
        str(user.id), user.name, user.email, m.role, [str(t) for t in m.team_ids], user.active
    )


@api.op("GET", "/teams", summary="Teams", tag="members", response=list[TeamOut])
async def list_teams(call: Call) -> list[TeamOut]:
    ws = require_id(call.agent.workspace_id, "workspace")
    return [TeamOut(str(t.id), t.name) async for t in Team.find(Team.workspace_id == ws)]


@api.op(
    "POST",
    "/teams",
    summary="Create a team (admin)",
    tag="members",
    body=TeamIn,
    response=TeamOut,
    status=201,
    errors=(403, 409, 422),
)
async def create_team(call: Call) -> TeamOut:
    team = await workspaces.create_team(principal=call.agent, name=call.body.name)
    return TeamOut(str(team.id), team.name)


@api.op(
    "GET",
    "/api-tokens",
    summary="API tokens (admin)",
    tag="members",
    response=list[TokenOut],
    errors=(403,),
)
async def list_tokens(call: Call) -> list[TokenOut]:
    call.agent.require(Action.MANAGE_API_TOKENS)
    ws = require_id(call.agent.workspace_id, "workspace")
    found = ApiToken.find(ApiToken.workspace_id == ws, ApiToken.revoked_at == None)  # noqa: E711
    return [TokenOut(str(t.id), t.name, t.prefix, iso(t.created_at)) async for t in found]


@api.op(
    "POST",
    "/api-tokens",
    summary="Create an API token; the secret is shown once",
    secret=True,
    tag="members",
    body=TokenIn,
    response=TokenOut,
    status=201,
    errors=(403, 422),
)
async def create_token(call: Call) -> TokenOut:
    token, secret = await workspaces.create_api_token(principal=call.agent, name=call.body.name)
    return TokenOut(str(token.id), token.name, token.prefix, iso(token.created_at), secret)


@api.op(
    "DELETE",
    "/api-tokens/{token_id}",
    summary="Revoke an API token",
    tag="members",
    status=204,
    errors=(403, 404),
)
async def revoke_token(call: Call) -> None:
    await workspaces.revoke_api_token(principal=call.agent, token_id=call.path("token_id"))


@api.op(
    "PATCH",
    "/workspace",
    summary="Rename, or set the widget's allowed origins, reply time and greeting (owner)",
    tag="workspace",
    body=WorkspacePatch,
    response=WorkspaceOut,
    errors=(403, 422),
)
async def patch_workspace(call: Call) -> WorkspaceOut:
    call.agent.require(Action.MANAGE_WORKSPACE)
    body: WorkspacePatch = call.body
    changes: dict[str, Any] = {
        k: v for k, v in msgspec.structs.asdict(body).items() if v is not msgspec.UNSET
    }
    if "allowed_origins" in changes:
        changes["allowed_origins"] = [o.rstrip("/") for o in changes["allowed_origins"]]
    if "timezone" in changes:
        changes["timezone"] = zone(changes["timezone"]).key
    workspace = await change_settings(
        call.agent.workspace_id, call.agent.user_id, changes, msgspec.to_builtins(body)
    )
    return workspace_out(workspace)


class AuditOut(msgspec.Struct):
    actor_id: str | None
    action: str
    target_type: str
    target_id: str | None
    at: str | None
    data: dict[str, Any]


@api.op(
    "GET",
    "/audit-events",
    summary="The newest 200 audit events (admin)",
    tag="workspace",
    response=list[AuditOut],
    errors=(403,),
)
async def audit_events(call: Call) -> list[AuditOut]:
    call.agent.require(Action.VIEW_AUDIT)
    ws = require_id(call.agent.workspace_id, "workspace")
    found = AuditEvent.find(AuditEvent.workspace_id == ws).sort("-at").limit(200)
    return [
        AuditOut(e.actor_id, e.action, e.target_type, e.target_id, iso(e.at), e.data)
        async for e in found
    ]
