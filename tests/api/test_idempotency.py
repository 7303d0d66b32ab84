"""Idempotency keys: a write retried with the same key happens once and answers the same."""

import asyncio
import uuid

import httpx
import pytest
import redis.asyncio as aioredis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

from app.api import idempotency
from app.api.responses import json_response
from app.auth.principal import Principal
from app.domain.errors import Invalid, NotFound
from app.domain.roles import Role
from tests.apiclient import AgentClient, invite_and_join, new_client, sign_up

KEY = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"


def fresh_key() -> dict[str, str]:
    return {KEY: str(uuid.uuid4())}


async def ticket_subjects(client: AgentClient) -> list[str]:
    listed = await client.get("/tickets", params={"limit": 200})
    assert listed.status_code == 200, listed.text
    return [t["subject"] for t in listed.json()["items"]]


async def test_a_repeated_create_makes_one_ticket_and_answers_the_same(app: Starlette) -> None:
    owner = await sign_up(app)
    headers = fresh_key()
    body = {"subject": "Charged twice", "message": {"text": "Please refund"}, "tags": ["billing"]}
    first = await owner.post("/tickets", json=body, headers=headers)
    again = await owner.post("/tickets", json=body, headers=headers)
    assert first.status_code == 201, first.text
    assert REPLAYED not in first.headers
    assert again.status_code == 201
    assert again.headers[REPLAYED] == "true"
    assert again.headers["content-type"] == first.headers["content-type"]
    assert again.json() == first.json()
    # The same object serialized with another key order is the same request.
    reordered = {
        "tags": ["billing"],
        "message": {"text": "Please refund"},
        "subject": "Charged twice",
    }
    third = await owner.post("/tickets", json=reordered, headers=headers)
    assert third.headers[REPLAYED] == "true"
    assert third.json() == first.json()
    assert await ticket_subjects(owner) == ["Charged twice"]
    thread = (await owner.get(f"/tickets/{first.json()['id']}")).json()["messages"]
    assert [m["text"] for m in thread if m["kind"] == "message"] == ["Please refund"]
    await owner.aclose()


async def test_the_same_key_with_another_body_is_refused(app: Starlette) -> None:
    owner = await sign_up(app)
    headers = fresh_key()
    made = await owner.post("/tickets", json={"subject": "First"}, headers=headers)
    assert made.status_code == 201
    reused = await owner.post("/tickets", json={"subject": "Second"}, headers=headers)
    assert reused.status_code == 422
    error = reused.json()["error"]
    assert error["code"] == "idempotency_key_reused"
    assert error["details"] == {"field": KEY}
    assert await ticket_subjects(owner) == ["First"]
    # The original answer is still there for a true retry.
    retry = await owner.post("/tickets", json={"subject": "First"}, headers=headers)
    assert retry.headers[REPLAYED] == "true"
    assert retry.json() == made.json()
    await owner.aclose()


async def test_a_repeated_patch_bumps_the_version_once(app: Starlette) -> None:
    owner = await sign_up(app)
    ticket = (await owner.post("/tickets", json={"subject": "Waiting"})).json()
    headers = fresh_key()
    change = {"version": ticket["version"], "status": "pending"}
    first = await owner.patch(f"/tickets/{ticket['id']}", json=change, headers=headers)
    again = await owner.patch(f"/tickets/{ticket['id']}", json=change, headers=headers)
    assert first.status_code == 200, first.text
    assert first.json()["version"] == ticket["version"] + 1
    # Run again, the same change would have been refused as stale; the retry gets the success.
    assert again.status_code == 200
    assert again.headers[REPLAYED] == "true"
    assert again.json() == first.json()
    current = (await owner.get(f"/tickets/{ticket['id']}")).json()
    assert current["ticket"]["version"] == ticket["version"] + 1
    assert current["ticket"]["status"] == "pending"
    # One status change: one timeline line.
    assert len([m for m in current["messages"] if m["kind"] == "system"]) == 1
    await owner.aclose()


async def test_keys_belong_to_their_caller_and_their_path(app: Starlette) -> None:
    owner = await sign_up(app)
    agent = await invite_and_join(owner, app, "Ana Agent")
    stranger = await sign_up(app)
    token = (await owner.post("/api-tokens", json={"name": "crm"})).json()["token"]
    integration = new_client(app)
    integration.http.headers["Authorization"] = f"Bearer {token}"
    headers = {KEY: "order-1"}
    body = {"subject": "Same key, different people"}

    answers = [
        await client.post("/tickets", json=body, headers=headers)
        for client in (owner, agent, stranger, integration)
    ]
    for answer in answers:
        assert answer.status_code == 201, answer.text
        assert REPLAYED not in answer.headers
    assert len({answer.json()["id"] for answer in answers}) == 4
    assert len(await ticket_subjects(owner)) == 3  # the owner's, the agent's, the token's
    assert len(await ticket_subjects(stranger)) == 1

    # Each caller still gets its own answer back.
    for client, answer in zip((owner, agent, stranger, integration), answers, strict=True):
        retry = await client.post("/tickets", json=body, headers=headers)
        assert retry.headers[REPLAYED] == "true"
        assert retry.json()["id"] == answer.json()["id"]

    # The same key on another operation is another key.
    contact = await owner.post("/contacts", json={"email": "dora@example.com"}, headers=headers)
    assert contact.status_code == 201, contact.text
    assert REPLAYED not in contact.headers
    for client in (owner, agent, stranger, integration):
        await client.aclose()


async def test_a_refusal_is_replayed_as_is(app: Starlette) -> None:
    owner = await sign_up(app)
    ticket = (await owner.post("/tickets", json={"subject": "Contested"})).json()
    headers = fresh_key()
    change = {"version": ticket["version"] + 1, "status": "pending"}
    refused = await owner.patch(f"/tickets/{ticket['id']}", json=change, headers=headers)
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "stale_version"

    # Someone moves the ticket to exactly the version the refused change named...
    moved = await owner.patch(
        f"/tickets/{ticket['id']}", json={"version": ticket["version"], "priority": "high"}
    )
    assert moved.json()["version"] == change["version"]
    # ...yet the retry does not run again: it is told what it was told the first time.
    retry = await owner.patch(f"/tickets/{ticket['id']}", json=change, headers=headers)
    assert retry.status_code == 409
    assert retry.headers[REPLAYED] == "true"
    assert retry.json() == refused.json()
    assert (await owner.get(f"/tickets/{ticket['id']}")).json()["ticket"]["status"] == "open"

    missing = await owner.post(
        f"/tickets/{'0' * 24}/messages", json={"text": "hi"}, headers=headers
    )
    assert missing.status_code == 404
    replayed = await owner.post(
        f"/tickets/{'0' * 24}/messages", json={"text": "hi"}, headers=headers
    )
    assert (replayed.status_code, replayed.headers[REPLAYED]) == (404, "true")
    assert replayed.json() == missing.json()
    await owner.aclose()


async def test_a_delete_is_replayed_with_its_empty_answer(app: Starlette) -> None:
    owner = await sign_up(app)
    canned = (await owner.post("/canned-responses", json={"shortcut": "hi", "body": "Hi!"})).json()
    headers = fresh_key()
    gone = await owner.delete(f"/canned-responses/{canned['id']}", headers=headers)
    again = await owner.delete(f"/canned-responses/{canned['id']}", headers=headers)
    assert gone.status_code == 204
    assert (again.status_code, again.headers[REPLAYED], again.content) == (204, "true", b"")
    # Without the key the repeat runs, and finds nothing to delete.
    unkeyed = await owner.delete(f"/canned-responses/{canned['id']}")
    assert unkeyed.status_code == 404
    await owner.aclose()


async def test_without_a_key_every_request_runs(app: Starlette) -> None:
    owner = await sign_up(app)
    body = {"subject": "No key"}
    first = await owner.post("/tickets", json=body)
    second = await owner.post("/tickets", json=body)
    assert (first.status_code, second.status_code) == (201, 201)
    assert REPLAYED not in second.headers
    assert first.json()["id"] != second.json()["id"]
    assert await ticket_subjects(owner) == ["No key", "No key"]
    await owner.aclose()


async def test_concurrent_retries_write_once(app: Starlette) -> None:
    owner = await sign_up(app)
    headers = fresh_key()
    answers = await asyncio.gather(
        *(owner.post("/tickets", json={"subject": "Impatient"}, headers=headers) for _ in range(10))
    )
    ran = [a for a in answers if a.status_code == 201 and REPLAYED not in a.headers]
    assert len(ran) == 1
    for answer in answers:
        if answer.status_code == 409:
            assert answer.json()["error"]["code"] == "idempotency_key_in_progress"
            assert answer.headers["Retry-After"] == "1"
        else:
            assert answer.status_code == 201, answer.text
            assert answer.json() == ran[0].json()
    assert await ticket_subjects(owner) == ["Impatient"]
    await owner.aclose()


@pytest.mark.parametrize(
    "value",
    [b"", b"k" * 256, "caf\u00e9".encode(), b"tab\there", b"line\x7fend"],
    ids=["empty", "too-long", "non-ascii", "control", "delete"],
)
async def test_a_malformed_key_is_refused_naming_the_header(app: Starlette, value: bytes) -> None:
    owner = await sign_up(app)
    refused = await owner.post("/tickets", json={"subject": "Bad key"}, headers={KEY: value})
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["code"] == "invalid_idempotency_key"
    assert error["details"] == {"field": KEY}
    assert KEY in error["message"]
    assert await ticket_subjects(owner) == []
    await owner.aclose()


async def test_two_key_headers_are_refused(app: Starlette) -> None:
    owner = await sign_up(app)
    refused = await owner.post(
        "/tickets",
        json={"subject": "Two keys"},
        headers=httpx.Headers([(KEY, "a"), (KEY, "b")]),
    )
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "invalid_idempotency_key"
    assert await ticket_subjects(owner) == []
    await owner.aclose()


async def test_unauthenticated_writes_ignore_the_key(app: Starlette) -> None:
    owner = await sign_up(app)
    browser = new_client(app)
    login = {
        "workspace": owner.workspace_slug,
        "email": f"owner@{owner.workspace_slug}.example",
        "password": "correct horse battery",
    }
    headers = {KEY: "login-1"}
    first = await browser.post("/auth/login", json=login, headers=headers)
    second = await browser.post("/auth/login", json=login, headers=headers)
    assert (first.status_code, second.status_code) == (200, 200)
    # Both ran: each set its own session, which a kept body could not have given back.
    assert REPLAYED not in second.headers
    assert "tandem_session" in second.headers.get("set-cookie", "")
    assert first.json()["csrf_token"] != second.json()["csrf_token"]
    await browser.aclose()
    await owner.aclose()


async def test_a_secret_shown_once_is_never_kept_for_a_replay(
    app: Starlette, redis_client: aioredis.Redis
) -> None:
    owner = await sign_up(app)
    headers = fresh_key()
    first = await owner.post("/api-tokens", json={"name": "crm"}, headers=headers)
    again = await owner.post("/api-tokens", json={"name": "crm"}, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json()["token"] != again.json()["token"]
    assert REPLAYED not in again.headers
    kept = [k async for k in redis_client.scan_iter("tandem:idem:*")]
    for key in kept:
        assert first.json()["token"].encode() not in (await redis_client.get(key) or b"")
    await owner.aclose()


async def test_openapi_describes_the_header_on_agent_writes(app: Starlette) -> None:
    client = new_client(app)
    spec = (await client.http.get("/openapi.json")).json()

    def names(path: str, method: str) -> set[str]:
        return {p["name"] for p in spec["paths"]["/api/v1" + path][method].get("parameters", [])}

    create = spec["paths"]["/api/v1/tickets"]["post"]
    header = next(p for p in create["parameters"] if p["name"] == KEY)
    assert header["in"] == "header"
    assert header["required"] is False
    assert header["schema"]["maxLength"] == 255
    assert {"409", "422"} <= set(create["responses"])
    assert KEY in names("/tickets/{ticket_id}", "patch")
    assert KEY in names("/canned-responses/{canned_id}", "delete")
    assert KEY not in names("/tickets", "get")
    assert KEY not in names("/auth/login", "post")
    assert KEY not in names("/widget/messages", "post")
    await client.aclose()


# The guard itself, on the real Redis, with handlers whose outcome the test decides.


def keyed_request(key: str, path: str = "/api/v1/things") -> Request:
    return Request(
        {
            "type": "http",
            "method": "POST",
            "path": path,
            "root_path": "",
            "scheme": "http",
            "query_string": b"",
            "server": ("testserver", 80),
            "headers": [(b"idempotency-key", key.encode())],
        }
    )


def someone() -> Principal:
    return Principal(
        workspace_id=uuid.uuid4().hex[:24],
        user_id=uuid.uuid4().hex[:24],
        name="Ana",
        email="ana@example.com",
        role=Role.AGENT,
    )


async def test_a_running_write_holds_its_key_briefly(redis_client: aioredis.Redis) -> None:
    who, key = someone(), str(uuid.uuid4())
    started, finish = asyncio.Event(), asyncio.Event()
    runs = 0

    async def slow() -> Response:
        nonlocal runs
        runs += 1
        started.set()
        await finish.wait()
        return json_response({"done": True}, status=201)

    first = asyncio.create_task(
        idempotency.once(keyed_request(key), redis_client, who, b"{}", slow)
    )
    await started.wait()
    waiting = await idempotency.once(keyed_request(key), redis_client, who, b"{}", slow)
    assert waiting.status_code == 409
    assert waiting.headers["Retry-After"] == "1"
    # The claim expires by itself if this process dies: it lives seconds, not a day.
    name = idempotency.record_name(who, keyed_request(key), key)
    assert 0 < await redis_client.pttl(name) <= idempotency.LEASE_MS
    finish.set()
    assert (await first).status_code == 201
    assert 23 * 3600 < await redis_client.ttl(name) <= idempotency.RECORD_TTL_S
    replay = await idempotency.once(keyed_request(key), redis_client, who, b"{}", slow)
    assert (replay.status_code, replay.headers[REPLAYED], replay.body) == (
        201,
        "true",
        b'{"done":true}',
    )
    assert runs == 1


async def test_failures_are_not_kept_so_a_retry_runs(redis_client: aioredis.Redis) -> None:
    who, key = someone(), str(uuid.uuid4())
    outcomes: list[Response | Exception] = [
        RuntimeError("the database went away"),
        json_response({"error": "busy"}, status=503),
        json_response({"error": "slow down"}, status=429),
        json_response({"ok": True}, status=200),
    ]
    runs = 0

    async def flaky() -> Response:
        nonlocal runs
        outcome = outcomes[runs]
        runs += 1
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    with pytest.raises(RuntimeError):
        await idempotency.once(keyed_request(key), redis_client, who, b"{}", flaky)
    for status in (503, 429, 200):
        answer = await idempotency.once(keyed_request(key), redis_client, who, b"{}", flaky)
        assert answer.status_code == status
        assert idempotency.REPLAYED_HEADER not in answer.headers
    kept = await idempotency.once(keyed_request(key), redis_client, who, b"{}", flaky)
    assert (kept.status_code, kept.headers[REPLAYED]) == (200, "true")
    assert runs == 4


async def test_a_refusal_raised_by_the_handler_is_kept(redis_client: aioredis.Redis) -> None:
    who, key = someone(), str(uuid.uuid4())
    runs = 0

    async def refuse() -> Response:
        nonlocal runs
        runs += 1
        raise NotFound("no such thing")

    first = await idempotency.once(keyed_request(key), redis_client, who, b"{}", refuse)
    again = await idempotency.once(keyed_request(key), redis_client, who, b"{}", refuse)
    assert (first.status_code, again.status_code) == (404, 404)
    assert again.body == first.body
    assert runs == 1
    with pytest.raises(Invalid) as reused:
        await idempotency.once(keyed_request(key), redis_client, who, b'{"x":1}', refuse)
    assert reused.value.code == "idempotency_key_reused"
