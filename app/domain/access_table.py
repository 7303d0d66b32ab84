"""Who may call what: every API operation, help-center page and live topic, with the least
caller it answers.

How to read a row. The key is the operation as it is declared (`"PATCH /tickets/{ticket_id}"`,
paths under `/api/v1`; the help-center pages and live topics as they are). `least` is the
lowest caller it answers, on this ladder:

    public < visitor < agent < supervisor < admin < owner

`gate` says what the caller shows:

- `member`: a member's session cookie (with the CSRF token on writes) or an API token. No
  credentials is `401`; a role below `least` is `403`; another workspace's ids are `404`,
  as if unknown. `least` is agent, supervisor, admin or owner.
- `visitor`: a widget visitor's token (`Authorization: Bearer vt.…`) from one of the
  workspace's allowed origins; it opens the visitor's own conversation only. A member's
  session is not a visitor token: the widget's calls are made by the customer's browser.
- `site`: anyone, from one of the workspace's allowed origins (another origin is `403`).
- `form`: anyone, from Tandem's own pages or a program that sends no `Origin`; another
  site's page is `403` (the account forms: no one is logged in or out from elsewhere).
- `public`: anyone.
- `webhook`: a provider, with the credentials or signature the workspace gave it; anyone
  else is `401`/`403`, a member's session included.
- `socket`: a live topic (`subscribe` on `/live`), opened with a socket token: an agent's from
  `POST /realtime/token`, a visitor's from `POST /widget/session`. A refused topic is an
  `error` frame (`forbidden` or `not_found`), never its events.

For a member operation, the API token scope column is derived, as the server checks it: `read`
for GET, `write` for the other methods, `admin` where the required action is an admin's or
owner's (`scope_for` in app/domain/roles.py). A token never does more than its creator's role.

A row made with `needs(Action.X)` takes its role from `MINIMUM_ROLE` (app/domain/roles.py),
the table the handlers' `require(Action.X)` reads, so the two cannot drift apart. A new
operation gets one line here; tests/security/test_role_matrix.py calls every operation as
every kind of caller and fails for an operation without a row.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from app.domain.roles import MINIMUM_ROLE, Action, Role, scope_for
from app.domain.scopes import LEVELS, method_scope


class Least(StrEnum):
    """The lowest caller an operation answers, lowest first."""

    PUBLIC = "public"
    VISITOR = "visitor"
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    OWNER = "owner"


LADDER: Final = tuple(Least)


class Gate(StrEnum):
    """What a caller shows to get in."""

    MEMBER = "member"
    VISITOR = "visitor"
    SITE = "site"
    FORM = "form"
    PUBLIC = "public"
    WEBHOOK = "webhook"
    SOCKET = "socket"


@dataclass(frozen=True)
class Rule:
    least: Least
    gate: Gate
    note: str = ""
    action: Action | None = None  # the permission the handler requires, when it names one

    def admits(self, caller: Least) -> bool:
        """Whether a caller of this rank passes, on the ladder (the gate aside)."""
        return LADDER.index(caller) >= LADDER.index(self.least)


def needs(action: Action, note: str = "") -> Rule:
    """A member operation whose handler requires `action`: its least role is MINIMUM_ROLE's."""
    return Rule(Least(MINIMUM_ROLE[action].value), Gate.MEMBER, note, action)


def member(note: str = "", least: Role = Role.AGENT) -> Rule:
    """A member operation that requires no action: any member (or the role given)."""
    return Rule(Least(least.value), Gate.MEMBER, note)


def visitor(note: str = "") -> Rule:
    return Rule(Least.VISITOR, Gate.VISITOR, note or "own conversation only")


def site(note: str = "") -> Rule:
    return Rule(Least.PUBLIC, Gate.SITE, note or "public, Origin-checked")


def public(note: str = "") -> Rule:
    return Rule(Least.PUBLIC, Gate.PUBLIC, note)


def form(note: str = "") -> Rule:
    return Rule(Least.PUBLIC, Gate.FORM, note)


def webhook(note: str) -> Rule:
    return Rule(Least.PUBLIC, Gate.WEBHOOK, note)


def topic(least: Least, note: str = "") -> Rule:
    return Rule(least, Gate.SOCKET, note)


TICKETS: Final = Action.WORK_TICKETS
SETTINGS: Final = Action.MANAGE_WORKSPACE

OPERATIONS: Final[dict[str, Rule]] = {
    # Accounts: signing up and in, and a person's own profile
    "POST /auth/signup": form("unless sign-up is switched off"),
    "POST /auth/login": form("attempts are throttled"),
    "POST /auth/logout": form("ends the session it is sent with"),
    "GET /auth/options": public(),
    "POST /auth/password-reset": form("answers 202 whatever the address"),
    "POST /auth/password-reset/confirm": form("needs the emailed token"),
    "POST /auth/verify-email": form("needs the emailed token"),
    "POST /auth/find-workspaces": form("answers 202 whatever the address"),
    "GET /invitations/preview": public("needs the invitation's token"),
    "POST /invitations/accept": form("needs the invitation's token"),
    "POST /auth/logout-everywhere": member("own sessions only"),
    "GET /me": member("own account only"),
    "GET /me/sessions": member("own sessions only"),
    "DELETE /me/sessions/{session_id}": member("own sessions only"),
    "GET /me/profile": member("own profile only"),
    "PATCH /me/profile": member("own profile only"),
    "POST /me/password": member("own password; the current one is asked"),
    "POST /me/verify-email": member("own address only"),
    "PUT /me/avatar": member("own picture only"),
    "DELETE /me/avatar": member("own picture only"),
    "GET /users/{user_id}/avatar": member("members of the same workspace"),
    "POST /realtime/token": member("a socket token for the caller"),
    # Tickets and their messages
    "GET /tickets": needs(TICKETS),
    "POST /tickets": needs(TICKETS, "assigning someone else: supervisor"),
    "GET /tickets/counts": needs(TICKETS),
    "GET /tickets/{ticket_id}": needs(TICKETS),
    "PATCH /tickets/{ticket_id}": needs(TICKETS, "assigning someone else: supervisor"),
    "POST /tickets/{ticket_id}/messages": needs(TICKETS),
    "POST /tickets/{ticket_id}/seen": needs(TICKETS),
    "GET /tickets/{ticket_id}/reply-options": needs(TICKETS),
    "GET /tickets/{ticket_id}/collision": needs(TICKETS),
    "GET /mentions": needs(TICKETS, "notes that mention the caller"),
    "GET /presence": member(),
    "POST /attachments": needs(TICKETS),
    "GET /attachments/{blob_id}": needs(TICKETS),
    "GET /dashboard": needs(Action.VIEW_DASHBOARD),
    # AI
    "GET /ai/settings": needs(TICKETS, "never shows the key"),
    "PATCH /ai/settings": needs(SETTINGS),
    "POST /tickets/{ticket_id}/ai/draft": needs(TICKETS, "when an owner switched AI on"),
    "POST /tickets/{ticket_id}/ai/summary": needs(TICKETS, "when an owner switched AI on"),
    "POST /tickets/{ticket_id}/messages/{message_id}/translation": needs(
        TICKETS, "when an owner switched AI on"
    ),
    "POST /tickets/{ticket_id}/ai/translate-reply": needs(TICKETS, "when an owner switched AI on"),
    # Contacts and canned responses
    "GET /contacts": needs(Action.MANAGE_CONTACTS),
    "POST /contacts": needs(Action.MANAGE_CONTACTS),
    "GET /contacts/lookup": needs(Action.MANAGE_CONTACTS),
    "GET /contacts/{contact_id}": needs(Action.MANAGE_CONTACTS),
    "PATCH /contacts/{contact_id}": needs(Action.MANAGE_CONTACTS),
    "DELETE /contacts/{contact_id}": needs(Action.DELETE_CONTACTS, "only without tickets"),
    "GET /contacts/{contact_id}/export": needs(Action.EXPORT_PERSONAL_DATA),
    "POST /contacts/{contact_id}/erase": needs(Action.ERASE_PERSONAL_DATA, "cannot be undone"),
    "GET /canned-responses": member("agents insert them in replies"),
    "POST /canned-responses": needs(Action.MANAGE_CANNED),
    "PATCH /canned-responses/{canned_id}": needs(Action.MANAGE_CANNED),
    "DELETE /canned-responses/{canned_id}": needs(Action.MANAGE_CANNED),
    # Members, teams, invitations, API tokens
    "GET /members": member(),
    "PATCH /members/{user_id}": needs(
        Action.MANAGE_MEMBERS, "only an owner changes an owner or makes one"
    ),
    "POST /invitations": needs(Action.INVITE_MEMBERS, "only an owner invites an owner"),
    "GET /invitations": needs(Action.INVITE_MEMBERS),
    "DELETE /invitations/{invitation_id}": needs(Action.INVITE_MEMBERS),
    "GET /teams": member(),
    "GET /teams/members": member(),
    "POST /teams": needs(Action.MANAGE_TEAMS),
    "PATCH /teams/{team_id}": needs(Action.MANAGE_TEAMS),
    "DELETE /teams/{team_id}": needs(Action.MANAGE_TEAMS, "only without active tickets"),
    "PUT /teams/{team_id}/members": needs(Action.MANAGE_TEAMS),
    "GET /api-tokens": needs(Action.MANAGE_API_TOKENS),
    "POST /api-tokens": needs(Action.MANAGE_API_TOKENS, "the secret is shown once"),
    "DELETE /api-tokens/{token_id}": needs(Action.MANAGE_API_TOKENS),
    # The workspace, its channels and its widget
    "GET /workspace": needs(Action.INVITE_MEMBERS),
    "PATCH /workspace": needs(SETTINGS),
    "GET /workspace/lifecycle": member("whether it is cancelled, so writes are refused"),
    "POST /workspace/cancel": needs(SETTINGS, "with the owner's password"),
    "POST /workspace/restore": needs(SETTINGS, "while the window lasts"),
    "GET /workspace/export": needs(SETTINGS),
    "GET /audit-events": needs(Action.VIEW_AUDIT),
    "GET /jobs/dead": needs(Action.VIEW_AUDIT, "this workspace's jobs only"),
    "POST /jobs/dead/{job_id}/retry": needs(Action.VIEW_AUDIT, "this workspace's jobs only"),
    "GET /workspace/widget": needs(SETTINGS, "shows the identity secret"),
    "POST /workspace/widget/secret": needs(SETTINGS),
    "GET /channels/email": needs(SETTINGS),
    "PUT /channels/email": needs(SETTINGS, "the webhook password is shown once"),
    "PATCH /channels/email": needs(SETTINGS),
    "DELETE /channels/email": needs(SETTINGS),
    "GET /channels/whatsapp": needs(SETTINGS),
    "PUT /channels/whatsapp": needs(SETTINGS),
    "POST /channels/whatsapp/templates/sync": needs(SETTINGS),
    "DELETE /channels/whatsapp": needs(SETTINGS),
    "POST /webhooks/postmark/{workspace_id}/inbound": webhook(
        "Postmark: basic-auth credentials from PUT /channels/email"
    ),
    "POST /webhooks/postmark/{workspace_id}/events": webhook(
        "Postmark: basic-auth credentials from PUT /channels/email"
    ),
    "GET /webhooks/whatsapp/{workspace_id}": webhook("Meta: the workspace's verify token"),
    "POST /webhooks/whatsapp/{workspace_id}": webhook("Meta: signed with the app secret"),
    # Knowledge base and help center
    "GET /kb/articles": member("drafts: supervisor"),
    "GET /kb/articles/{article_id}": member("drafts: supervisor"),
    "POST /kb/articles": needs(Action.MANAGE_KB),
    "PATCH /kb/articles/{article_id}": needs(Action.MANAGE_KB),
    "DELETE /kb/articles/{article_id}": needs(Action.MANAGE_KB),
    "GET /kb/answers": needs(TICKETS),
    "GET /kb/deflection": needs(Action.VIEW_DASHBOARD),
    "GET /help/{workspace_slug}": public("published public articles only; limited per address"),
    "GET /help/{workspace_slug}/{article_slug}": public(
        "published public articles only; limited per address"
    ),
    "GET /widget/kb/search": site("published public articles only; limited per address"),
    "GET /widget/kb/articles/{article_id}": site("published public articles only"),
    "POST /widget/kb/deflection": site("published public articles only; limited per address"),
    # The widget
    "POST /widget/session": site("starts or resumes a visitor"),
    "GET /widget/conversation": visitor("own conversation only, without notes"),
    "GET /widget/status": visitor(),
    "POST /widget/messages": visitor("into own conversation; 20 a minute"),
    "POST /widget/profile": visitor("own contact only; never merges"),
    "POST /widget/read": visitor(),
    "POST /widget/attachments": visitor(),
    "GET /widget/attachments/{blob_id}": visitor("own uploads and own conversation's files"),
}

TOPICS: Final[dict[str, Rule]] = {
    "inbox": topic(Least.AGENT, "the caller's workspace"),
    "presence": topic(Least.AGENT, "the caller's workspace"),
    "team:{team_id}": topic(Least.SUPERVISOR, "agents: their own teams"),
    "ticket:{ticket_id}": topic(Least.VISITOR, "a visitor: own conversation only"),
}


def token_scope(key: str, rule: Rule) -> str:
    """The least scope an API token needs for a member operation (derived, as the server
    checks it: the method's, and the required action's); "" for the other gates."""
    if rule.gate is not Gate.MEMBER:
        return ""
    needed = [method_scope(key.split(" ", 1)[0])]
    if rule.action is not None:
        needed.append(scope_for(rule.action))
    return max(needed, key=LEVELS.index)


def _row(key: str, rule: Rule) -> str:
    note = rule.note
    if rule.action is not None:
        source = f"`{rule.action.value}`"
        note = f"{source}; {note}" if note else source
    cells = (f"`{key}`", rule.least.value, rule.gate.value, token_scope(key, rule), note)
    return "| " + " | ".join(cells) + " |"


def markdown() -> str:
    """Both tables as markdown, for the README: operations (under `/api/v1`, the help pages
    at the site's root), then live topics."""
    head = "| {} | least caller | gate | API token scope | note |\n|---|---|---|---|---|"
    lines = [head.format("operation")]
    lines += [_row(key, rule) for key, rule in OPERATIONS.items()]
    lines += ["", head.format("live topic")]
    lines += [_row(key, rule) for key, rule in TOPICS.items()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown())  # noqa: T201
