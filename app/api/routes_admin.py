"""Members, invitations, teams, API tokens, workspace settings, audit log."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, TypeVar

import msgspec
from beanie import PydanticObjectId

from app.actions.workspace import change_settings
from app.api.endpoint import Api, Call
from app.auth.authenticate import TOKEN_CREDENTIAL
from app.documents import ApiToken, AuditEvent, Team, Workspace
from app.domain.errors import Invalid, NotFound
from app.domain.metrics import zone
from app.domain.roles import Action
from app.live.endings import end_live_access, end_sessions, refresh_live_access
from app.schemas.auth import (
    MemberOut,
    MemberPatch,
    TeamIn,
    TeamOut,
    TokenIn,
    TokenOut,
    workspace_out,
)
from app.schemas.common import iso
from app.schemas.settings import (
    WEEKDAYS,
    AuditOut,
    AuditQuery,
    DayHoursOut,
    PendingInvitationOut,
    SettingsPatch,
    TeamMembersIn,
    TeamMembersOut,
    TeamPatch,
    WorkspaceSettingsOut,
)
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
    if not user.active:  # deactivated now or before: no session or socket of theirs stays
        await end_sessions(
            call.runtime.relay.broker, str(user.workspace_id), str(user.id), "deactivated"
        )
    elif body.role is not msgspec.UNSET or body.team_ids is not msgspec.UNSET:
        # Their open sockets were authorized as they were: they reconnect as they are now.
        await refresh_live_access(call.runtime.relay.broker, str(user.workspace_id), str(user.id))
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
    "/teams/members",
    summary="Teams with their members' user ids",
    tag="members",
    response=list[TeamMembersOut],
)
async def list_team_members(call: Call) -> list[TeamMembersOut]:
    return [
        TeamMembersOut(str(t.id), t.name, ids)
        for t, ids in await workspaces.team_members(call.agent.workspace_id)
    ]


@api.op(
    "PATCH",
    "/teams/{team_id}",
    summary="Rename a team (admin)",
    tag="members",
    body=TeamPatch,
    response=TeamOut,
    errors=(403, 404, 409, 422),
)
async def rename_team(call: Call) -> TeamOut:
    team = await workspaces.rename_team(
        principal=call.agent, team_id=call.path("team_id"), name=call.body.name
    )
    return TeamOut(str(team.id), team.name)


@api.op(
    "DELETE",
    "/teams/{team_id}",
    summary="Delete a team without active tickets (admin)",
    tag="members",
    status=204,
    errors=(403, 404, 409),
)
async def delete_team(call: Call) -> None:
    await workspaces.delete_team(principal=call.agent, team_id=call.path("team_id"))


@api.op(
    "PUT",
    "/teams/{team_id}/members",
    summary="Set exactly who is in a team (admin)",
    tag="members",
    body=TeamMembersIn,
    response=TeamMembersOut,
    errors=(403, 404, 422),
)
async def set_team_members(call: Call) -> TeamMembersOut:
    body: TeamMembersIn = call.body
    team, ids, moved = await workspaces.set_team_members(
        principal=call.agent, team_id=call.path("team_id"), user_ids=body.user_ids
    )
    for user_id in moved:  # their sockets reconnect with the team's topic open, or closed
        await refresh_live_access(call.runtime.relay.broker, call.agent.workspace_id, user_id)
    return TeamMembersOut(str(team.id), team.name, ids)


@api.op(
    "GET",
    "/invitations",
    summary="Pending invitations: not used, not expired (admin)",
    tag="members",
    response=list[PendingInvitationOut],
    errors=(403,),
)
async def list_invitations(call: Call) -> list[PendingInvitationOut]:
    return [
        PendingInvitationOut(
            str(i.id),
            i.email,
            i.name,
            i.role,
            str(i.invited_by),
            iso(i.created_at),
            iso(i.expires_at),
        )
        for i in await workspaces.pending_invitations(principal=call.agent)
    ]


@api.op(
    "DELETE",
    "/invitations/{invitation_id}",
    summary="Revoke a pending invitation: its link stops working (admin)",
    tag="members",
    status=204,
    errors=(403, 404),
)
async def revoke_invitation(call: Call) -> None:
    await workspaces.revoke_invitation(
        principal=call.agent, invitation_id=call.path("invitation_id")
    )


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
    return [token_out(t) async for t in found]


def token_out(token: ApiToken, secret: str | None = None) -> TokenOut:
    return TokenOut(
        str(token.id),
        token.name,
        token.prefix,
        iso(token.created_at),
        scopes=list(token.scopes),
        expires_at=iso(token.expires_at),
        last_used_at=iso(token.last_used_at),
        token=secret,
    )


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
    body: TokenIn = call.body
    token, secret = await workspaces.create_api_token(
        principal=call.agent,
        name=body.name,
        scopes=body.scopes,
        expires_in_days=body.expires_in_days,
    )
    return token_out(token, secret)


@api.op(
    "DELETE",
    "/api-tokens/{token_id}",
    summary="Revoke an API token",
    tag="members",
    status=204,
    errors=(403, 404),
)
async def revoke_token(call: Call) -> None:
    token_id = call.path("token_id")
    await workspaces.revoke_api_token(principal=call.agent, token_id=token_id)
    await end_live_access(
        call.runtime.relay.broker,
        call.agent.workspace_id,
        credential=f"{TOKEN_CREDENTIAL}{token_id}",
    )


def settings_out(call: Call, workspace: Workspace) -> WorkspaceSettingsOut:
    base = call.runtime.settings.public_url.rstrip("/")
    return WorkspaceSettingsOut(
        **msgspec.structs.asdict(workspace_out(workspace)),
        business_hours={
            day: DayHoursOut(h.open, h.close)
            for day, h in sorted(
                workspace.business_hours.items(), key=lambda d: WEEKDAYS.index(d[0])
            )
        },
        widget_reply_time=workspace.widget_reply_time,
        widget_greeting=workspace.widget_greeting,
        public_url=base,
        widget_script_url=f"{base}/widget.js",
    )


@api.op(
    "GET",
    "/workspace",
    summary="The workspace's settings, opening hours and widget address (admin)",
    tag="workspace",
    response=WorkspaceSettingsOut,
    errors=(403,),
)
async def get_workspace(call: Call) -> WorkspaceSettingsOut:
    call.agent.require(Action.INVITE_MEMBERS)
    return settings_out(call, await workspaces.get_workspace(call.agent.workspace_id))


ORIGIN = re.compile(r"^https?://[a-z0-9.\[\]:-]+$")


def _origins(asked: list[str]) -> list[str]:
    """Sites' origins as browsers send them: scheme, host and port, nothing else."""
    origins: list[str] = []
    for value in asked:
        origin = value.strip().rstrip("/").lower()
        if not ORIGIN.match(origin):
            raise Invalid(
                f"{value!r} is not a site origin (like https://shop.example, with no path)",
                field="allowed_origins",
                code="invalid_origin",
            )
        if origin not in origins:
            origins.append(origin)
    return origins


def _hours(body: SettingsPatch) -> dict[str, dict[str, str]]:
    """The week to store: open days only, each closing after it opens."""
    week = msgspec.to_builtins(body.business_hours)
    hours: dict[str, dict[str, str]] = {}
    for day in WEEKDAYS:
        span = week.get(day)
        if span is None:
            continue
        if span["close"] <= span["open"]:
            raise Invalid(
                f"on {day} the closing time must be after the opening time",
                field=f"business_hours.{day}",
                code="close_before_open",
            )
        hours[day] = span
    return hours


@api.op(
    "PATCH",
    "/workspace",
    summary="Rename; the widget's origins, reply time and greeting; time zone, hours (owner)",
    tag="workspace",
    body=SettingsPatch,
    response=WorkspaceSettingsOut,
    errors=(403, 422),
)
async def patch_workspace(call: Call) -> WorkspaceSettingsOut:
    call.agent.require(Action.MANAGE_WORKSPACE)
    body: SettingsPatch = call.body
    changes: dict[str, Any] = {
        k: v for k, v in msgspec.structs.asdict(body).items() if v is not msgspec.UNSET
    }
    if "allowed_origins" in changes:
        changes["allowed_origins"] = _origins(changes["allowed_origins"])
    if "timezone" in changes:
        changes["timezone"] = zone(changes["timezone"]).key
    if "business_hours" in changes:
        changes["business_hours"] = _hours(body)
    workspace = await change_settings(
        call.agent.workspace_id, call.agent.user_id, changes, msgspec.to_builtins(body)
    )
    return settings_out(call, workspace)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@api.op(
    "GET",
    "/audit-events",
    summary="Audit events, newest first, filtered and paged (admin)",
    tag="workspace",
    query=AuditQuery,
    response=list[AuditOut],
    errors=(403, 404, 422),  # 404: `before` names no event here
)
async def audit_events(call: Call) -> list[AuditOut]:
    """`action` is one action, or with a final dot every action under it (`member.`);
    `before` is the id of the last event already shown."""
    call.agent.require(Action.VIEW_AUDIT)
    q: AuditQuery = call.query
    ws = require_id(call.agent.workspace_id, "workspace")
    where: dict[str, Any] = {"workspace_id": ws}
    if q.actor is not None:
        where["actor_id"] = q.actor
    if q.action is not None:
        if q.action.endswith("."):
            where["action"] = {"$regex": "^" + q.action.replace(".", "\\.")}
        else:
            where["action"] = q.action
    moment: dict[str, datetime] = {}
    if q.since is not None:
        moment["$gte"] = _utc(q.since)
    if q.until is not None:
        moment["$lt"] = _utc(q.until)
    if q.since is not None and q.until is not None and moment["$lt"] <= moment["$gte"]:
        raise Invalid("`until` must be after `since`", field="until")
    if q.before is not None:
        last = await AuditEvent.find_one(
            AuditEvent.id == PydanticObjectId(q.before), AuditEvent.workspace_id == ws
        )
        if last is None:
            raise NotFound("no such audit event")
        where["$or"] = [
            {"at": {"$lt": last.at}},
            {"at": last.at, "_id": {"$lt": last.id}},
        ]
    if moment:
        where["at"] = moment
    found = AuditEvent.find(where).sort("-at", "-_id").limit(q.limit)
    return [
        AuditOut(str(e.id), e.actor_id, e.action, e.target_type, e.target_id, iso(e.at), e.data)
        async for e in found
    ]
