"""Who may do what: the one table every permission check reads."""

from __future__ import annotations

from enum import StrEnum

from app.domain.errors import Forbidden
from app.domain.scopes import Scope


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    AGENT = "agent"


RANK = {Role.AGENT: 0, Role.SUPERVISOR: 1, Role.ADMIN: 2, Role.OWNER: 3}


class Action(StrEnum):
    WORK_TICKETS = "work_tickets"  # read, create, reply, note, change status/priority/tags
    ASSIGN_OTHERS = "assign_others"  # assign a ticket to someone other than oneself
    MANAGE_CONTACTS = "manage_contacts"
    DELETE_CONTACTS = "delete_contacts"
    MANAGE_CANNED = "manage_canned"
    MANAGE_KB = "manage_kb"  # write knowledge-base articles, see drafts
    VIEW_DASHBOARD = "view_dashboard"
    INVITE_MEMBERS = "invite_members"
    MANAGE_MEMBERS = "manage_members"
    MANAGE_TEAMS = "manage_teams"
    MANAGE_WORKSPACE = "manage_workspace"
    MANAGE_API_TOKENS = "manage_api_tokens"
    VIEW_AUDIT = "view_audit"
    EXPORT_PERSONAL_DATA = "export_personal_data"  # everything about one contact, as a zip
    ERASE_PERSONAL_DATA = "erase_personal_data"  # a contact's data, everywhere, for good


MINIMUM_ROLE: dict[Action, Role] = {
    Action.WORK_TICKETS: Role.AGENT,
    Action.MANAGE_CONTACTS: Role.AGENT,
    Action.ASSIGN_OTHERS: Role.SUPERVISOR,
    Action.MANAGE_CANNED: Role.SUPERVISOR,
    Action.MANAGE_KB: Role.SUPERVISOR,
    Action.VIEW_DASHBOARD: Role.SUPERVISOR,
    Action.DELETE_CONTACTS: Role.ADMIN,
    Action.INVITE_MEMBERS: Role.ADMIN,
    Action.MANAGE_MEMBERS: Role.ADMIN,
    Action.MANAGE_TEAMS: Role.ADMIN,
    Action.MANAGE_API_TOKENS: Role.ADMIN,
    Action.VIEW_AUDIT: Role.ADMIN,
    Action.EXPORT_PERSONAL_DATA: Role.ADMIN,
    Action.ERASE_PERSONAL_DATA: Role.ADMIN,
    Action.MANAGE_WORKSPACE: Role.OWNER,
}


def scope_for(action: Action) -> Scope:
    """The API-token scope an action needs: `admin` for what only admins and owners do."""
    return "admin" if RANK[MINIMUM_ROLE[action]] >= RANK[Role.ADMIN] else "read"


def can(role: Role, action: Action) -> bool:
    return RANK[role] >= RANK[MINIMUM_ROLE[action]]


def require(role: Role, action: Action) -> None:
    if not can(role, action):
        raise Forbidden(f"the {role.value} role may not {action.value.replace('_', ' ')}")


def allowed_actions(role: Role) -> list[str]:
    return sorted(action.value for action in Action if can(role, action))


def may_grant(granter: Role, role: Role) -> bool:
    """An admin may hand out roles below owner; only an owner makes another owner."""
    if granter is Role.OWNER:
        return True
    return RANK[granter] >= RANK[Role.ADMIN] and RANK[role] < RANK[Role.OWNER]
