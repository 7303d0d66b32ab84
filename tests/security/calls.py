"""What the matrix sends to each operation: a valid, minimal request, so an allowed caller's
call really succeeds (and a refusal can only be about who calls).

An operation without an entry here is still called (its path filled with the victim's ids,
no body) and still checked for refusals; an allowed caller then only has to get past
authorization. Destructive calls take a throwaway resource of their own.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from tests.security.world import NEW_PASSWORD, PASSWORD, PNG, WHATSAPP, World, unique

NO_BODY: Any = object()
MADE_UP_ID = "5f0000000000000000000000"


@dataclass
class Req:
    path: dict[str, str] = field(default_factory=dict)  # path parameters beyond the defaults
    json: Any = NO_BODY
    params: dict[str, str] | None = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    # What an allowed caller gets: any 2xx when empty, else one of these (the setup cannot
    # offer more, e.g. an emailed token or AI with budget).
    expect: tuple[int, ...] = ()


Spec = Callable[[World, str], Awaitable[Req]]


def path_defaults(world: World) -> dict[str, str]:
    ids = world.ids
    return {
        "ticket_id": ids["ticket_id"],
        "message_id": ids["message_id"],
        "contact_id": ids["contact_id"],
        "canned_id": ids["canned_id"],
        "user_id": ids["spare_id"],
        "team_id": ids["team_id"],
        "token_id": ids["token_id"],
        "article_id": ids["article_id"],
        "blob_id": ids["blob_id"],
        "workspace_id": ids["workspace_id"],
        "workspace_slug": world.slug,
        "article_slug": ids["article_slug"],
    }


def fixed(**kw: Any) -> Spec:
    async def spec(world: World, who: str) -> Req:
        return Req(**kw)

    return spec


def with_world(make: Callable[[World, str], Req]) -> Spec:
    async def spec(world: World, who: str) -> Req:
        return make(world, who)

    return spec


def fresh(kind: str, param: str, body: Callable[[dict[str, Any]], Any] | None = None) -> Spec:
    """A throwaway resource for each call; `body` makes the request's body from it."""

    async def spec(world: World, who: str) -> Req:
        made = await world.fresh(kind)
        return Req(path={param: made["id"]}, json=body(made) if body else NO_BODY)

    return spec


async def _accept(world: World, who: str) -> Req:
    invitation = await world.fresh("invitation")
    return Req(json={"token": invitation["token"], "password": PASSWORD})


async def _own_session(world: World, who: str) -> Req:
    """A member ends a session of their own; the outsider names one of the victim's."""
    if who not in world.logins or who == "outsider":
        return Req(path={"session_id": world.ids["spare_session_id"]})
    other = await world.log_in(who, world.password)
    client = world.callers[who]
    listed = await client.call("GET", "/api/v1/me/sessions", headers=other)
    assert listed.status_code == 200, listed.text
    mine = next(s["id"] for s in listed.json() if s["current"])
    return Req(path={"session_id": mine})


def _text_file(name: str) -> Req:
    return Req(params={"filename": name}, content=b"hello", headers={"content-type": "text/plain"})


AI_WITHOUT_BUDGET = (402,)

REQUESTS: dict[str, Spec] = {
    "POST /auth/signup": with_world(
        lambda w, who: Req(
            json={
                "workspace_name": "Fresh",
                "workspace_slug": unique("fresh"),
                "name": "Fresh Owner",
                "email": f"{who}@fresh.example",
                "password": PASSWORD,
            }
        )
    ),
    "POST /auth/login": with_world(
        lambda w, who: Req(
            json={"workspace": w.slug, "email": f"sam@{w.slug}.example", "password": PASSWORD}
        )
    ),
    "POST /auth/password-reset": with_world(
        lambda w, who: Req(json={"workspace": w.slug, "email": f"{who}@reset.example"})
    ),
    "POST /auth/password-reset/confirm": fixed(
        json={"token": "not-a-reset-token", "password": PASSWORD}, expect=(404,)
    ),
    "POST /auth/verify-email": fixed(json={"token": "not-a-verify-token"}, expect=(404,)),
    "POST /auth/find-workspaces": with_world(
        lambda w, who: Req(json={"email": f"{who}@f.example"})
    ),
    "GET /invitations/preview": with_world(
        lambda w, who: Req(params={"token": w.ids["invitation_token"]})
    ),
    "POST /invitations/accept": _accept,
    "PATCH /me/profile": fixed(json={"language": "en"}),
    "POST /me/password": fixed(json={"current_password": PASSWORD, "new_password": NEW_PASSWORD}),
    "PUT /me/avatar": fixed(content=PNG, headers={"content-type": "image/png"}),
    "DELETE /me/sessions/{session_id}": _own_session,
    "GET /contacts/{contact_id}/export": fixed(params={"include_notes": "true"}),
    "POST /contacts/{contact_id}/erase": fresh(
        "contact", "contact_id", lambda c: {"confirm": "erase"}
    ),
    "POST /workspace/cancel": fixed(json={"password": PASSWORD}),
    "POST /tickets": fixed(json={"subject": "Created in the matrix"}),
    "PATCH /tickets/{ticket_id}": fresh(
        "ticket", "ticket_id", lambda t: {"version": t["version"], "priority": "high"}
    ),
    "POST /tickets/{ticket_id}/messages": fixed(json={"text": "A note", "kind": "note"}),
    "POST /tickets/{ticket_id}/seen": with_world(
        lambda w, who: Req(json={"up_to": w.ids["message_id"]})
    ),
    "POST /attachments": with_world(lambda w, who: _text_file("matrix.txt")),
    "PATCH /ai/settings": fixed(json={"suggestions": False}),
    "POST /tickets/{ticket_id}/ai/draft": fixed(expect=AI_WITHOUT_BUDGET),
    "POST /tickets/{ticket_id}/ai/summary": fixed(expect=AI_WITHOUT_BUDGET),
    "POST /tickets/{ticket_id}/messages/{message_id}/translation": fixed(
        json={"to": "fr"}, expect=AI_WITHOUT_BUDGET
    ),
    "POST /tickets/{ticket_id}/ai/translate-reply": fixed(
        json={"text": "Hello"}, expect=AI_WITHOUT_BUDGET
    ),
    "POST /contacts": with_world(lambda w, who: Req(json={"email": unique(who) + "@n.example"})),
    "GET /contacts/lookup": fixed(params={"email": "carla@victim.example"}),
    "PATCH /contacts/{contact_id}": fixed(json={"name": "Carla"}),
    "DELETE /contacts/{contact_id}": fresh("contact", "contact_id"),
    "POST /canned-responses": with_world(
        lambda w, who: Req(json={"shortcut": unique(who), "body": "Hi!"})
    ),
    "PATCH /canned-responses/{canned_id}": fixed(json={"title": "Thanks"}),
    "DELETE /canned-responses/{canned_id}": fresh("canned", "canned_id"),
    "PATCH /members/{user_id}": fixed(json={"team_ids": []}),
    "POST /invitations": with_world(
        lambda w, who: Req(json={"email": unique(who) + "@i.example", "name": "New Person"})
    ),
    "DELETE /invitations/{invitation_id}": fresh("invitation", "invitation_id"),
    "POST /teams": with_world(lambda w, who: Req(json={"name": unique(who)})),
    "PATCH /teams/{team_id}": with_world(lambda w, who: Req(json={"name": unique("VICTIM")})),
    "DELETE /teams/{team_id}": fresh("team", "team_id"),
    "PUT /teams/{team_id}/members": with_world(
        lambda w, who: Req(json={"user_ids": [w.ids["spare_id"]]})
    ),
    "POST /api-tokens": with_world(lambda w, who: Req(json={"name": unique(who)})),
    "DELETE /api-tokens/{token_id}": fresh("token", "token_id"),
    "PATCH /workspace": fixed(json={"widget_greeting": "Hello there"}),
    "POST /jobs/dead/{job_id}/retry": fixed(path={"job_id": "1-0"}, expect=(404,)),
    "PATCH /channels/email": fixed(
        json={"server_token": "pm-server-token", "from_address": "help@victim.example"}
    ),
    "PUT /channels/whatsapp": fixed(json=WHATSAPP),
    "POST /webhooks/postmark/{workspace_id}/inbound": fixed(json={"From": "a@b.example"}),
    "POST /webhooks/postmark/{workspace_id}/events": fixed(json={"RecordType": "Delivery"}),
    "GET /webhooks/whatsapp/{workspace_id}": fixed(
        params={"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "42"}
    ),
    "POST /webhooks/whatsapp/{workspace_id}": fixed(
        json={"object": "whatsapp_business_account", "entry": []}
    ),
    "POST /kb/articles": with_world(lambda w, who: Req(json={"title": unique(who), "body": "B"})),
    "PATCH /kb/articles/{article_id}": fresh(
        "article", "article_id", lambda a: {"version": a["version"], "category": "Billing"}
    ),
    "DELETE /kb/articles/{article_id}": fresh("article", "article_id"),
    "GET /kb/answers": fixed(params={"q": "refunds"}),
    "GET /widget/kb/search": with_world(
        lambda w, who: Req(params={"workspace": w.ids["workspace_id"], "q": "refunds"})
    ),
    "GET /widget/kb/articles/{article_id}": with_world(
        lambda w, who: Req(params={"workspace": w.ids["workspace_id"]})
    ),
    "POST /widget/kb/deflection": with_world(
        lambda w, who: Req(
            json={
                "workspace": w.ids["workspace_id"],
                "article_id": w.ids["article_id"],
                "outcome": "read",
            }
        )
    ),
    "POST /widget/session": with_world(
        lambda w, who: Req(json={"workspace": w.ids["workspace_id"]})
    ),
    "POST /widget/messages": with_world(
        lambda w, who: Req(json={"text": "Hi", "client_id": uuid.uuid4().hex})
    ),
    "POST /widget/profile": fixed(json={"name": "Vera Visitor"}),
    "POST /widget/read": with_world(lambda w, who: Req(json={"up_to": w.ids["reply_id"]})),
    "POST /widget/attachments": with_world(lambda w, who: _text_file("visitor.txt")),
    "GET /widget/attachments/{blob_id}": with_world(
        lambda w, who: Req(path={"blob_id": w.ids["visitor_blob_id"]})
    ),
}

# Calls with no request of their own that still succeed as they are.
for key in (
    "POST /auth/logout",
    "GET /auth/options",
    "GET /me",
    "GET /me/profile",
    "GET /me/sessions",
    "POST /auth/logout-everywhere",
    "GET /workspace/lifecycle",
    "POST /workspace/restore",
    "GET /workspace/export",
    "POST /me/verify-email",
    "DELETE /me/avatar",
    "GET /users/{user_id}/avatar",
    "POST /realtime/token",
    "GET /tickets",
    "GET /tickets/counts",
    "GET /tickets/{ticket_id}",
    "GET /tickets/{ticket_id}/reply-options",
    "GET /tickets/{ticket_id}/collision",
    "GET /mentions",
    "GET /presence",
    "GET /attachments/{blob_id}",
    "GET /dashboard",
    "GET /ai/settings",
    "GET /contacts",
    "GET /contacts/{contact_id}",
    "GET /canned-responses",
    "GET /members",
    "GET /invitations",
    "GET /teams",
    "GET /teams/members",
    "GET /api-tokens",
    "GET /workspace",
    "GET /audit-events",
    "GET /jobs/dead",
    "GET /workspace/widget",
    "POST /workspace/widget/secret",
    "GET /channels/email",
    "PUT /channels/email",
    "DELETE /channels/email",
    "GET /channels/whatsapp",
    "POST /channels/whatsapp/templates/sync",
    "DELETE /channels/whatsapp",
    "GET /kb/articles",
    "GET /kb/articles/{article_id}",
    "GET /kb/deflection",
    "GET /help/{workspace_slug}",
    "GET /help/{workspace_slug}/{article_slug}",
    "GET /widget/conversation",
    "GET /widget/status",
):
    REQUESTS.setdefault(key, fixed())

# Calls that end something the rest of the matrix needs: made after every other call, in
# this order (the members then sign in again with NEW_PASSWORD).
LAST = (
    "POST /workspace/cancel",
    "POST /workspace/restore",
    "DELETE /channels/email",
    "DELETE /channels/whatsapp",
    "POST /me/password",
    "POST /auth/logout-everywhere",
    "POST /auth/logout",
)
