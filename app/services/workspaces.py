"""Workspaces and the people in them: sign-up, login, invitations, members, teams, tokens."""

from __future__ import annotations

from datetime import timedelta

from beanie import PydanticObjectId
from pymongo.errors import DuplicateKeyError

from app.actions.base import Deps
from app.auth.passwords import check_strength, hash_password, verify_password
from app.auth.principal import Principal
from app.auth.tokens import digest, new_secret
from app.doclock import DocumentLocks
from app.documents import ApiToken, Invitation, Membership, Team, User, Workspace
from app.documents.common import utcnow
from app.domain.errors import Conflict, Forbidden, Invalid, NotAuthenticated, NotFound
from app.domain.roles import Action, Role, may_grant
from app.services.audit import record
from app.services.ids import require_id

INVITATION_TTL = timedelta(days=7)


async def create_workspace(
    *,
    name: str,
    slug: str,
    owner_name: str,
    owner_email: str,
    password: str,
    deps: Deps | None = None,
) -> tuple[Workspace, User]:
    check_strength(password)
    workspace = Workspace(name=name, slug=slug.lower())
    try:
        await workspace.insert()
    except DuplicateKeyError:
        raise Conflict(f"the workspace address {slug!r} is taken", code="slug_taken") from None
    assert workspace.id is not None
    user = User(
        workspace_id=workspace.id,
        email=owner_email.lower(),
        name=owner_name,
        password_hash=hash_password(password),
    )
    await user.insert()
    assert user.id is not None
    await Membership(workspace_id=workspace.id, user_id=user.id, role=Role.OWNER).insert()
    await record(workspace.id, str(user.id), "workspace.created", "workspace", str(workspace.id))
    if deps is not None:
        # No tickets or contacts yet: its views and search index are complete.
        if deps.views is not None:
            await deps.views.mark_built(str(workspace.id))
        if deps.search is not None:
            await deps.search.mark_built(str(workspace.id))
    return workspace, user


async def login(*, slug: str, email: str, password: str) -> User:
    workspace = await Workspace.find_one(Workspace.slug == slug.lower())
    user = None
    if workspace is not None:
        user = await User.find_one(User.workspace_id == workspace.id, User.email == email.lower())
    # Same answer and same work for "no such workspace", "no such user" and "wrong password".
    if not verify_password(user.password_hash if user else None, password) or user is None:
        raise NotAuthenticated("wrong workspace, email or password", code="bad_credentials")
    if not user.active:
        raise NotAuthenticated("this account is deactivated", code="deactivated")
    return user


async def get_workspace(workspace_id: str) -> Workspace:
    workspace = await Workspace.get(require_id(workspace_id, "workspace"))
    if workspace is None:
        raise NotFound("no such workspace")
    return workspace


async def invite(
    *, principal: Principal, email: str, name: str, role: Role
) -> tuple[Invitation, str]:
    principal.require(Action.INVITE_MEMBERS)
    if not may_grant(principal.role, role):
        raise Forbidden(f"a {principal.role.value} may not make someone {role.value}")
    ws = require_id(principal.workspace_id, "workspace")
    if await User.find_one(User.workspace_id == ws, User.email == email.lower()):
        raise Conflict(f"{email} is already a member", code="already_member")
    token = new_secret("inv")
    invitation = Invitation(
        workspace_id=ws,
        email=email.lower(),
        name=name,
        role=role,
        token_hash=digest(token),
        invited_by=require_id(principal.user_id, "user"),
        expires_at=utcnow() + INVITATION_TTL,
    )
    await invitation.insert()
    await record(
        ws,
        principal.user_id,
        "member.invited",
        "invitation",
        str(invitation.id),
        email=invitation.email,
        role=role.value,
    )
    return invitation, token


async def accept_invitation(
    *, locks: DocumentLocks, token: str, password: str, name: str | None
) -> User:
    check_strength(password)
    now = utcnow()
    # Claim the invitation atomically, so a token used twice at once makes one account.
    async with locks.hold(f"invitations:{digest(token)}"):
        claimed = await Invitation.get_pymongo_collection().find_one_and_update(
            {"token_hash": digest(token), "accepted_at": None, "expires_at": {"$gt": now}},
            {"$set": {"accepted_at": now}},
        )
    if claimed is None:
        raise NotFound("this invitation is unknown, used or expired", code="invitation_invalid")
    invitation = Invitation.model_validate(claimed)
    user = User(
        workspace_id=invitation.workspace_id,
        email=invitation.email,
        name=name or invitation.name,
        password_hash=hash_password(password),
    )
    try:
        await user.insert()
    except DuplicateKeyError:
        raise Conflict("this email is already a member", code="already_member") from None
    assert user.id is not None
    await Membership(
        workspace_id=invitation.workspace_id, user_id=user.id, role=invitation.role
    ).insert()
    await record(
        invitation.workspace_id,
        str(user.id),
        "member.joined",
        "user",
        str(user.id),
        role=invitation.role.value,
    )
    return user


async def list_members(workspace_id: str) -> list[tuple[User, Membership]]:
    ws = require_id(workspace_id, "workspace")
    users = {u.id: u async for u in User.find(User.workspace_id == ws)}
    members = await Membership.find(Membership.workspace_id == ws).to_list()
    return [(users[m.user_id], m) for m in members if m.user_id in users]


async def update_member(
    *,
    principal: Principal,
    user_id: str,
    role: Role | None,
    team_ids: list[str] | None,
    active: bool | None,
) -> tuple[User, Membership]:
    principal.require(Action.MANAGE_MEMBERS)
    ws = require_id(principal.workspace_id, "workspace")
    uid = require_id(user_id, "member")
    user = await User.find_one(User.id == uid, User.workspace_id == ws)
    membership = await Membership.find_one(Membership.workspace_id == ws, Membership.user_id == uid)
    if user is None or membership is None:
        raise NotFound("no such member")
    if membership.role is Role.OWNER and principal.role is not Role.OWNER:
        raise Forbidden("only an owner changes an owner")
    if role is not None and not may_grant(principal.role, role):
        raise Forbidden(f"a {principal.role.value} may not make someone {role.value}")
    if user_id == principal.user_id and (active is False or (role and role != membership.role)):
        raise Forbidden("you cannot demote or deactivate yourself", code="self_change")
    if role is not None:
        membership.role = role
    if team_ids is not None:
        teams = [require_id(t, "team") for t in team_ids]
        found = await Team.find({"_id": {"$in": teams}, "workspace_id": ws}).count()
        if found != len(set(teams)):
            raise Invalid("unknown team id", field="team_ids")
        membership.team_ids = teams
    await membership.save()
    if active is not None and active != user.active:
        user.active = active
        user.session_epoch += 1  # a deactivated member's sessions end now
        await user.save()
    await record(
        ws,
        principal.user_id,
        "member.updated",
        "user",
        user_id,
        role=membership.role.value,
        active=user.active,
    )
    return user, membership


async def create_team(*, principal: Principal, name: str) -> Team:
    principal.require(Action.MANAGE_TEAMS)
    team = Team(workspace_id=require_id(principal.workspace_id, "workspace"), name=name)
    try:
        await team.insert()
    except DuplicateKeyError:
        raise Conflict(f"a team named {name!r} exists", code="duplicate") from None
    return team


async def create_api_token(*, principal: Principal, name: str) -> tuple[ApiToken, str]:
    principal.require(Action.MANAGE_API_TOKENS)
    secret = new_secret("tdm")
    token = ApiToken(
        workspace_id=require_id(principal.workspace_id, "workspace"),
        user_id=require_id(principal.user_id, "user"),
        name=name,
        token_hash=digest(secret),
        prefix=secret[:10],
    )
    await token.insert()
    await record(
        token.workspace_id,
        principal.user_id,
        "token.created",
        "api_token",
        str(token.id),
        name=name,
    )
    return token, secret


async def revoke_api_token(*, principal: Principal, token_id: str) -> None:
    principal.require(Action.MANAGE_API_TOKENS)
    ws = require_id(principal.workspace_id, "workspace")
    result = await ApiToken.get_pymongo_collection().update_one(
        {"_id": require_id(token_id, "token"), "workspace_id": ws, "revoked_at": None},
        {"$set": {"revoked_at": utcnow()}},
    )
    if result.matched_count == 0:
        raise NotFound("no such token")
    await record(ws, principal.user_id, "token.revoked", "api_token", token_id)


async def team_exists(workspace_id: PydanticObjectId, team_id: str) -> bool:
    return (
        await Team.find_one(
            Team.id == require_id(team_id, "team"), Team.workspace_id == workspace_id
        )
        is not None
    )


async def is_member(workspace_id: PydanticObjectId, user_id: str) -> bool:
    return (
        await Membership.find_one(
            Membership.workspace_id == workspace_id,
            Membership.user_id == require_id(user_id, "member"),
        )
        is not None
    )


async def member_name(workspace_id: PydanticObjectId, user_id: str) -> str | None:
    """The name of a member of the workspace, or None when `user_id` is not one."""
    if not await is_member(workspace_id, user_id):
        return None
    user = await User.get(require_id(user_id, "member"))
    return user.name if user is not None else None
