"""Every operation and live topic, called as every kind of caller, answers as the one declared
table says (app/domain/access_table.py).

Callers: anonymous, a widget visitor, an agent, a supervisor, an admin, the owner, and the
owner of another workspace using the victim's real ids. A caller below an operation's least
caller is refused (401 without member credentials, 403 for too low a role), never served; an
allowed caller is never refused; the outsider gets 404 (or 403) for the victim's ids and never
a trace of the victim's data. The matrix is called once, an operation at a time as every
caller at once (calls that end something last); each caller's test reports all its
mismatches. The other tests hold the gates to the rest of their promise: origins, webhook
signatures, live topics, the notes' conditions and API token scopes.
"""

from __future__ import annotations

import asyncio
import base64
import inspect
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from starlette.applications import Starlette

from app.api import routes_help
from app.domain.access_table import (
    OPERATIONS,
    TOPICS,
    Gate,
    Least,
    Rule,
    markdown,
    token_scope,
)
from app.domain.roles import Action
from app.domain.scopes import LEVELS
from app.main import PREFIX, all_operations
from tests.channels.postmark_payloads import inbound_email
from tests.channels.whatsapp_payloads import encode, sign, text, webhook
from tests.local_server import serving_in_this_loop as serving
from tests.security.calls import (
    LAST,
    MADE_UP_ID,
    NO_BODY,
    REQUESTS,
    Req,
    fixed,
    path_defaults,
)
from tests.security.live import refusals
from tests.security.world import (
    CALLERS,
    EVIL,
    NEW_PASSWORD,
    SITE,
    WHATSAPP,
    World,
    build_world,
    unique,
)

PARAM = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Declared:
    key: str  # "METHOD /path", as the table names it
    method: str
    path: str
    prefix: str  # where it is served: /api/v1, or the site's root for the help pages


def declared() -> list[Declared]:
    found = [
        Declared(f"{o.method} {o.path}", o.method, o.path, PREFIX)
        for o in all_operations().operations
    ]
    found += [Declared(f"GET {r.path}", "GET", r.path, "") for r in routes_help.routes()]
    return found


@dataclass(frozen=True)
class Answer:
    status: int
    body: str
    victim_ids: bool  # the outsider, with the victim's own ids in the path
    # What an allowed caller should get (any 2xx when empty); None for an operation without
    # a request of its own in calls.py, whose allowed callers are only checked for not being
    # refused.
    expect: tuple[int, ...] | None


def test_every_operation_has_a_row_and_every_row_an_operation() -> None:
    """A new operation is declared in the table before it ships; a removed one leaves it."""
    keys = [d.key for d in declared()]
    missing = [k for k in keys if k not in OPERATIONS]
    stale = [k for k in OPERATIONS if k not in keys]
    assert not missing, (
        "add a row to OPERATIONS in app/domain/access_table.py (and, if it takes a body, a "
        f"request to tests/security/calls.py) for: {missing}"
    )
    assert not stale, f"OPERATIONS names operations that no longer exist: {stale}"
    table = markdown()
    assert all(f"`{k}`" in table for k in keys)


REQUIRE = re.compile(r"\.require\(Action\.(\w+)\)")


def test_rows_name_the_action_their_handler_requires() -> None:
    """A handler that requires an action has its row derived from that action's minimum role."""
    wrong = []
    for operation in all_operations().operations:
        key = f"{operation.method} {operation.path}"
        named = set(REQUIRE.findall(inspect.getsource(operation.handler)))
        rule = OPERATIONS.get(key)
        if len(named) == 1 and rule is not None:
            action = Action[named.pop()]
            if rule.action is not action:
                wrong.append(f"{key}: handler requires {action.name}, row says {rule.action}")
    assert not wrong, wrong


def url_of(op: Declared, world: World, req: Req) -> tuple[str, bool]:
    values = {**path_defaults(world), **req.path}
    names = PARAM.findall(op.path)
    path = PARAM.sub(lambda m: values.get(m.group(1), MADE_UP_ID), op.path)
    return op.prefix + path, bool(names)


async def send(world: World, name: str, op: Declared, req: Req, origin: str | None) -> Answer:
    """One call as `name`; its answer, with what the call named and expected."""
    caller = world.callers[name]
    url, named_ids = url_of(op, world, req)
    headers = {**req.headers, **({"Origin": origin} if origin else {})}
    kw: dict[str, object] = {"headers": headers, "params": req.params}
    if req.content is not None:
        kw["content"] = req.content
    elif req.json is not NO_BODY:
        kw["json"] = req.json
    response = await caller.call(op.method, url, **kw)
    if OPERATIONS[op.key].gate is Gate.MEMBER and response.is_success:
        caller.adopt(response)  # a password change issues a new session
    expect = req.expect if op.key in REQUESTS else None
    victim_ids = named_ids and name == "outsider"
    return Answer(response.status_code, response.text[:2000], victim_ids, expect)


async def run_matrix(world: World) -> dict[tuple[str, str], Answer]:
    """Each operation as every caller at once (a destructive call on a throwaway resource of
    its own); the calls that end something after all the others."""
    answers: dict[tuple[str, str], Answer] = {}
    for op in sorted(declared(), key=lambda d: LAST.index(d.key) + 1 if d.key in LAST else 0):
        rule = OPERATIONS.get(op.key)
        if rule is None:
            continue  # reported by test_every_operation_has_a_row_and_every_row_an_operation
        spec = REQUESTS.get(op.key, fixed())
        origin = SITE if rule.gate in (Gate.SITE, Gate.VISITOR) else None
        reqs = [await spec(world, name) for name in CALLERS]
        got = await asyncio.gather(
            *(send(world, name, op, req, origin) for name, req in zip(CALLERS, reqs, strict=True))
        )
        answers.update(((name, op.key), answer) for name, answer in zip(CALLERS, got, strict=True))
    await world.log_in_again(NEW_PASSWORD)
    return answers


@pytest.fixture(scope="module")
async def world(app: Starlette) -> AsyncIterator[World]:
    built = await build_world(app)
    yield built
    for caller in built.callers.values():
        await caller.http.aclose()


@pytest.fixture(scope="module")
async def matrix(world: World) -> dict[tuple[str, str], Answer]:
    return await run_matrix(world)


def verdict(
    rule: Rule, caller: str, least: Least, answer: Answer, markers: tuple[str, ...]
) -> str | None:
    """What is wrong with this answer, or None."""
    status = answer.status
    refused_with: tuple[int, ...] = ()
    if status >= 500:
        return f"{status}: a server error"
    if rule.gate is Gate.WEBHOOK:
        return None if status in (401, 403) else f"{status}: a webhook without its credentials"
    if rule.gate is Gate.VISITOR:
        allowed = caller == "visitor"
        refused_with = (401,)
    elif rule.gate is Gate.MEMBER:
        if caller in ("anonymous", "visitor"):
            return None if status == 401 else f"{status}, not 401: no member credentials"
        if answer.victim_ids:
            if status not in (403, 404):
                return f"{status}, not 404: another workspace's ids"
            # The refusal may repeat the id asked about, never anything behind it.
            return "the victim's data in a refusal" if "VICTIM" in answer.body else None
        allowed = rule.admits(least)
        refused_with = (403,)
    else:  # public, form and site: anyone (from the right origin)
        allowed = True
    if not allowed:
        if status not in refused_with:
            return f"{status}, not {' or '.join(map(str, refused_with))}: the table refuses it"
        return None
    if status in (401, 403):
        return f"{status}: an allowed caller refused ({answer.body[:160]})"
    if caller == "outsider" and rule.gate is Gate.MEMBER:
        # In their own workspace, asking about the victim's things (a lookup by the
        # victim's customer's address): whatever the answer, nothing of the victim's.
        leaked = [m for m in markers if m in answer.body]
        return f"{status}: the victim's data in an outsider's answer: {leaked}" if leaked else None
    if answer.expect is None:
        return None
    wanted = answer.expect or tuple(range(200, 300))
    if status not in wanted:
        return f"{status}, not {answer.expect or '2xx'}: {answer.body[:200]}"
    return None


@pytest.mark.parametrize("caller", CALLERS)
async def test_each_caller_gets_what_the_table_says(
    caller: str, world: World, matrix: dict[tuple[str, str], Answer]
) -> None:
    least = world.callers[caller].least
    wrong = []
    for (name, key), answer in matrix.items():
        if name != caller:
            continue
        problem = verdict(OPERATIONS[key], caller, least, answer, world.markers)
        if problem:
            rule = OPERATIONS[key]
            wrong.append(f"{key} [{rule.gate.value}, least {rule.least.value}]: {problem}")
    assert not wrong, f"{len(wrong)} answers to {caller} disagree with the table:\n" + "\n".join(
        wrong
    )


async def test_origin_checked_operations_refuse_another_site(world: World) -> None:
    """What the `site`, `visitor` and `form` gates promise: another site's page gets 403,
    even with a good visitor token."""
    wrong = []
    for op in declared():
        rule = OPERATIONS.get(op.key)
        if rule is None or op.key in LAST:
            continue
        if rule.gate not in (Gate.SITE, Gate.VISITOR, Gate.FORM):
            continue
        req = await REQUESTS.get(op.key, fixed())(world, "visitor")
        answer = await send(world, "visitor", op, req, EVIL)
        if answer.status != 403:
            wrong.append(f"{op.key}: {answer.status} from {EVIL}")
    assert not wrong, wrong


async def test_a_visitor_reaches_no_other_visitors_files(world: World) -> None:
    """`own uploads and own conversation's files`: another visitor's upload and an agent's
    file are unknown to a visitor."""
    other = world.callers["anonymous"]
    session = await other.call(
        "POST",
        PREFIX + "/widget/session",
        json={"workspace": world.ids["workspace_id"]},
        headers={"Origin": SITE},
    )
    assert session.status_code == 200, session.text
    headers = {"Origin": SITE, "Authorization": "Bearer " + session.json()["visitor_token"]}
    for blob in (world.ids["visitor_blob_id"], world.ids["blob_id"]):
        stolen = await other.call("GET", f"{PREFIX}/widget/attachments/{blob}", headers=headers)
        assert stolen.status_code == 404, stolen.text


async def test_live_topics_open_to_whom_the_table_says(world: World) -> None:
    """Each caller's socket asks for every kind of topic (the team and ticket ones with the
    victim's ids); what it is allowed and refused must match TOPICS."""
    fill = {"team_id": world.ids["team_id"], "ticket_id": world.ids["conversation_id"]}
    topics = {key: PARAM.sub(lambda m: fill[m.group(1)], key) for key in TOPICS}
    wrong = []
    async with serving(world.app) as base:
        for name in CALLERS:
            caller = world.callers[name]
            token, origin = await _socket_token(world, name)
            got = await refusals(base, token, list(topics.values()), origin)
            for key, topic in topics.items():
                rule = TOPICS[key]
                foreign = name == "outsider" and "{" in key
                allowed = rule.admits(caller.least) and not foreign
                refused = got[topic]
                if allowed and refused is not None:
                    wrong.append(f"{name} on {key}: refused ({refused})")
                if not allowed and refused is None:
                    wrong.append(f"{name} on {key}: subscribed")
        # A visitor's own conversation only: another ticket of the workspace is refused.
        token, origin = await _socket_token(world, "visitor")
        other = f"ticket:{world.ids['ticket_id']}"
        assert (await refusals(base, token, [other], origin))[other] == "forbidden"
        # An agent may follow the teams they are in.
        team = f"team:{world.ids['team_id']}"
        joined = await world.callers["owner"].call(
            "PUT",
            f"{PREFIX}/teams/{world.ids['team_id']}/members",
            json={"user_ids": [world.ids["agent_id"]]},
        )
        assert joined.status_code == 200, joined.text
        token, _ = await _socket_token(world, "agent")
        assert (await refusals(base, token, [team]))[team] is None
    assert not wrong, wrong


async def _socket_token(world: World, name: str) -> tuple[str | None, str | None]:
    caller = world.callers[name]
    if name == "anonymous":
        return None, None
    if name == "visitor":
        resumed = await caller.call(
            "POST",
            PREFIX + "/widget/session",
            json={"workspace": world.ids["workspace_id"], "visitor_token": world.visitor_token},
            headers={"Origin": SITE},
        )
        assert resumed.status_code == 200, resumed.text
        return str(resumed.json()["socket_token"]), SITE
    minted = await caller.call("POST", PREFIX + "/realtime/token")
    assert minted.status_code == 200, (name, minted.text)
    return str(minted.json()["token"]), None


async def test_webhooks_answer_their_provider_only(world: World) -> None:
    """The other side of the webhook rows: with the workspace's credentials or signature the
    same calls the matrix saw refused are taken (and a wrong signature is still refused)."""
    owner, provider = world.callers["owner"], world.callers["anonymous"]
    ws = world.ids["workspace_id"]
    connected = await owner.call("PUT", PREFIX + "/channels/email")
    assert connected.status_code == 200, connected.text
    url = urlsplit(connected.json()["inbound_webhook_url"])
    basic = base64.b64encode(f"{url.username}:{url.password}".encode()).decode()
    email = await provider.call(
        "POST", url.path, json=inbound_email(), headers={"Authorization": "Basic " + basic}
    )
    assert email.status_code == 200, email.text

    connected = await owner.call("PUT", PREFIX + "/channels/whatsapp", json=WHATSAPP)
    assert connected.status_code == 200, connected.text
    hook = f"{PREFIX}/webhooks/whatsapp/{ws}"
    verify = connected.json()["verify_token"]
    params = {"hub.mode": "subscribe", "hub.verify_token": verify, "hub.challenge": "42"}
    verified = await provider.call("GET", hook, params=params)
    assert (verified.status_code, verified.text) == (200, "42")
    body = encode(webhook(messages=[text()]))
    for secret, status in (("not-the-app-secret", 401), (WHATSAPP["app_secret"], 200)):
        headers = {"X-Hub-Signature-256": sign(body, secret), "content-type": "application/json"}
        signed = await provider.call("POST", hook, content=body, headers=headers)
        assert signed.status_code == status, signed.text


async def test_a_member_ends_only_their_own_sessions(world: World) -> None:
    """Everyone may end their sessions; a colleague's session id is unknown to them."""
    for name in ("agent", "owner"):
        ended = await world.callers[name].call(
            "DELETE", f"{PREFIX}/me/sessions/{world.ids['spare_session_id']}"
        )
        assert ended.status_code == 404, (name, ended.text)


async def test_the_notes_role_conditions_hold(world: World) -> None:
    """What the rows' notes add: drafts are for those who write articles, assigning someone
    else is for supervisors, only an owner makes or changes an owner."""
    agent, supervisor = world.callers["agent"], world.callers["supervisor"]
    admin, owner = world.callers["admin"], world.callers["owner"]
    draft = await owner.call(
        "POST", PREFIX + "/kb/articles", json={"title": "VICTIM draft", "body": "Soon."}
    )
    assert draft.status_code == 201, draft.text
    path = f"{PREFIX}/kb/articles/{draft.json()['id']}"
    assert (await agent.call("GET", path)).status_code == 404
    drafts = {"status": "draft"}
    assert (await agent.call("GET", PREFIX + "/kb/articles", params=drafts)).status_code == 403
    assert (await supervisor.call("GET", path)).status_code == 200

    for caller, status in ((agent, 403), (supervisor, 200)):
        ticket = await world.fresh_ticket()
        change = {"version": ticket["version"], "assignee_id": world.ids["spare_id"]}
        assigned = await caller.call("PATCH", f"{PREFIX}/tickets/{ticket['id']}", json=change)
        assert assigned.status_code == status, assigned.text

    invite = {"email": "new.owner@victim.example", "name": "New Owner", "role": "owner"}
    for caller, status in ((admin, 403), (owner, 201)):
        invited = await caller.call("POST", PREFIX + "/invitations", json=invite)
        assert invited.status_code == status, invited.text
    owner_id = world.ids["owner_id"]
    demoted = await admin.call("PATCH", f"{PREFIX}/members/{owner_id}", json={"role": "agent"})
    assert demoted.status_code == 403, demoted.text


async def test_api_token_scopes_match_the_table(world: World) -> None:
    """The table's token scope column, with the owner's own tokens: a `read` token reads what
    needs no admin scope and writes nothing; a `write` token reaches nothing that needs
    `admin`; an `admin` token reads everything. (A token's refusals come before any write.)"""
    owner = world.callers["owner"]
    tokens = {}
    for scope in ("read", "write", "admin"):
        made = await owner.call(
            "POST", PREFIX + "/api-tokens", json={"name": unique(scope), "scopes": [scope]}
        )
        assert made.status_code == 201, made.text
        tokens[scope] = {"Authorization": "Bearer " + made.json()["token"]}
    program = world.callers["anonymous"]
    wrong = []
    for op in declared():
        rule = OPERATIONS.get(op.key)
        if rule is None or rule.gate is not Gate.MEMBER:
            continue
        needed = token_scope(op.key, rule)
        for scope, auth in tokens.items():
            allowed = LEVELS.index(scope) >= LEVELS.index(needed)
            if allowed and op.method != "GET":
                continue  # writes a token may make are the matrix's (as sessions)
            req = await REQUESTS.get(op.key, fixed())(world, "owner")
            url, _ = url_of(op, world, req)
            kw: dict[str, object] = {"headers": {**req.headers, **auth}, "params": req.params}
            if req.content is not None:
                kw["content"] = req.content
            elif req.json is not NO_BODY:
                kw["json"] = req.json
            status = (await program.call(op.method, url, **kw)).status_code
            if allowed and status in (401, 403):
                wrong.append(f"{op.key} with a {scope} token: {status}, needs only {needed}")
            if not allowed and status != 403:
                wrong.append(f"{op.key} with a {scope} token: {status}, not 403 (needs {needed})")
    assert not wrong, "\n".join(wrong)
