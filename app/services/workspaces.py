"""Workspaces and the people in them: sign-up, login, invitations, members, teams, tokens."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from beanie import PydanticObjectId
from pymongo.errors import DuplicateKeyError, OperationFailure

from app.actions.base import Deps
from app.auth.passwords import check_strength, hash_password, verify_password
from app.auth.principal import Principal
from app.auth.tokens import digest, new_secret
from app.db import is_duplicate_key
from app.doclock import DocumentLocks
from app.documents import ApiToken, Invitation, Membership, Team, Ticket, User, Workspace
from app.documents.common import utcnow
from app.domain.errors import Conflict, Forbidden, Invalid, NotAuthenticated, NotFound
from app.domain.metrics import ACTIVE
from app.domain.roles import Action, Role, may_grant
from app.domain.scopes import LEVELS, Scope, granted
from app.services.audit import record
from app.services.ids import require_id
from app.services.lifecycle import require_writable

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
        password_hash=await asyncio.to_thread(hash_password, password),
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


async def login(*, slug: str, email: str, password: str, address: str) -> User:
    """The member whose password this is; every failure in a known workspace is audited with
    the client address (never the email typed: it may not be anyone's)."""
    workspace = await Workspace.find_one(Workspace.slug == slug.lower())
    user = None
    if workspace is not None:
        user = await User.find_one(User.workspace_id == workspace.id, User.email == email.lower())
    # Same answer and same work for "no such workspace", "no such user" and "wrong password".
    # argon2 takes tens of milliseconds on purpose: in a thread, not on the event loop that
    # serves everyone's live sockets.
    right = await asyncio.to_thread(verify_password, user.password_hash if user else None, password)
    failure = (
        "unknown_account"
        if user is None
        else "wrong_password"
        if not right
        else "deactivated"
        if not user.active
        else None
    )
    if failure is not None and workspace is not None and workspace.id is not None:
        target = str(user.id) if user is not None else None
        await record(
            workspace.id, None, "login.failed", "user", target, reason=failure, address=address
        )
    if not right or user is None:
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
    waiting = await Invitation.find_one(
        Invitation.workspace_id == ws,
        Invitation.email == email.lower(),
        Invitation.accepted_at == None,  # noqa: E711
        Invitation.expires_at > utcnow(),
    )
    if waiting is not None:
        raise Conflict(
            f"{email} already has a pending invitation: revoke it to make a new link",
            code="already_invited",
        )
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
    pending = await Invitation.find_one(Invitation.token_hash == digest(token))
    if pending is not None:
        await require_writable(str(pending.workspace_id))  # a cancelled workspace adds no one
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
        password_hash=await asyncio.to_thread(hash_password, password),
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
    await record(
        team.workspace_id, principal.user_id, "team.created", "team", str(team.id), name=name
    )
    return team


async def _team(principal: Principal, team_id: str) -> Team:
    principal.require(Action.MANAGE_TEAMS)
    ws = require_id(principal.workspace_id, "workspace")
    team = await Team.find_one(Team.id == require_id(team_id, "team"), Team.workspace_id == ws)
    if team is None:
        raise NotFound("no such team")
    return team


async def rename_team(*, principal: Principal, team_id: str, name: str) -> Team:
    team = await _team(principal, team_id)
    before = team.name
    taken = await Team.find_one(Team.workspace_id == team.workspace_id, Team.name == name)
    if taken is not None and taken.id != team.id:
        raise Conflict(f"a team named {name!r} exists", code="duplicate")
    team.name = name
    try:
        await team.save()
    except (DuplicateKeyError, OperationFailure) as exc:
        if not is_duplicate_key(exc):
            raise
        raise Conflict(f"a team named {name!r} exists", code="duplicate") from None
    await record(
        team.workspace_id, principal.user_id, "team.renamed", "team", team_id, name=name, was=before
    )
    return team


async def delete_team(*, principal: Principal, team_id: str) -> None:
    """Refused while active tickets belong to the team: they would lose their queue."""
    team = await _team(principal, team_id)
    ws = team.workspace_id
    busy = await Ticket.find_one(
        {"workspace_id": ws, "team_id": str(team.id), "status": {"$in": [s.value for s in ACTIVE]}}
    )
    if busy is not None:
        raise Conflict(
            f"{team.name} still has active tickets: move them to another team first",
            code="team_in_use",
        )
    await Membership.get_pymongo_collection().update_many(
        {"workspace_id": ws, "team_ids": team.id}, {"$pull": {"team_ids": team.id}}
    )
    await team.delete()
    await record(ws, principal.user_id, "team.deleted", "team", team_id, name=team.name)


async def set_team_members(
    *, principal: Principal, team_id: str, user_ids: list[str]
) -> tuple[Team, list[str], list[str]]:
    """Make exactly these members the team's: others in it leave, these join. Returns the
    team, its members, and who joined or left."""
    team = await _team(principal, team_id)
    ws = team.workspace_id
    wanted = {require_id(u, "member") for u in user_ids}
    members = await Membership.find(Membership.workspace_id == ws).to_list()
    known = {m.user_id for m in members}
    if not wanted <= known:
        raise Invalid("not a member of this workspace", field="user_ids")
    collection = Membership.get_pymongo_collection()
    moved: list[str] = []
    for m in members:
        inside = team.id in m.team_ids
        if m.user_id in wanted and not inside:
            await collection.update_one({"_id": m.id}, {"$addToSet": {"team_ids": team.id}})
            moved.append(str(m.user_id))
        elif m.user_id not in wanted and inside:
            await collection.update_one({"_id": m.id}, {"$pull": {"team_ids": team.id}})
            moved.append(str(m.user_id))
    ids = sorted(str(u) for u in wanted)
    await record(ws, principal.user_id, "team.members_set", "team", team_id, user_ids=ids)
    return team, ids, moved


async def team_members(workspace_id: str) -> list[tuple[Team, list[str]]]:
    ws = require_id(workspace_id, "workspace")
    members = await Membership.find(Membership.workspace_id == ws).to_list()
    teams = await Team.find(Team.workspace_id == ws).sort("name").to_list()
    return [(t, sorted(str(m.user_id) for m in members if t.id in m.team_ids)) for t in teams]


async def pending_invitations(*, principal: Principal) -> list[Invitation]:
    principal.require(Action.INVITE_MEMBERS)
    ws = require_id(principal.workspace_id, "workspace")
    found = Invitation.find(
        Invitation.workspace_id == ws,
        Invitation.accepted_at == None,  # noqa: E711
        Invitation.expires_at > utcnow(),
    )
    return sorted(await found.to_list(), key=lambda i: i.created_at, reverse=True)


async def revoke_invitation(*, principal: Principal, invitation_id: str) -> None:
    """The link stops working at once; a used invitation is not this one to revoke."""
    principal.require(Action.INVITE_MEMBERS)
    ws = require_id(principal.workspace_id, "workspace")
    found = await Invitation.get_pymongo_collection().find_one_and_delete(
        {"_id": require_id(invitation_id, "invitation"), "workspace_id": ws, "accepted_at": None}
    )
    if found is None:
        raise NotFound("no such pending invitation")
    await record(
        ws,
        principal.user_id,
        "member.invitation_revoked",
        "invitation",
        invitation_id,
        email=found["email"],
    )


async def create_api_token(
    *, principal: Principal, name: str, scopes: list[Scope], expires_in_days: int | None
) -> tuple[ApiToken, str]:
    principal.require(Action.MANAGE_API_TOKENS)
    held = granted(scopes)
    secret = new_secret("tdm")
    token = ApiToken(
        workspace_id=require_id(principal.workspace_id, "workspace"),
        user_id=require_id(principal.user_id, "user"),
        name=name,
        token_hash=digest(secret),
        prefix=secret[:10],
        scopes=[s for s in LEVELS if s in held],
        expires_at=None if expires_in_days is None else utcnow() + timedelta(days=expires_in_days),
    )
    await token.insert()
    await record(
        token.workspace_id,
        principal.user_id,
        "token.created",
        "api_token",
        str(token.id),
        name=name,
        scopes=token.scopes,
        expires_at=token.expires_at.isoformat() if token.expires_at else None,
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
