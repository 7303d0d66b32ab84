"""Every kind of bad request gets a clear JSON error, and nothing is partly written."""

import asyncio

import httpx
from starlette.applications import Starlette

from tests.apiclient import invite_and_join, new_client, sign_up


def error_code(response: httpx.Response) -> str:
    body = response.json()
    assert set(body["error"]) == {"code", "message", "details"}
    return str(body["error"]["code"])


async def test_unauthenticated_and_csrf(app: Starlette) -> None:
    anonymous = new_client(app)
    response = await anonymous.get("/tickets")
    assert response.status_code == 401
    assert error_code(response) == "not_authenticated"

    owner = await sign_up(app)
    del owner.http.headers["X-CSRF-Token"]
    forged = await owner.post("/tickets", json={"subject": "from a cross-site form"})
    assert forged.status_code == 403
    assert error_code(forged) == "csrf_failed"
    owner.http.headers["X-CSRF-Token"] = "0" * 64
    assert (await owner.post("/tickets", json={"subject": "x"})).status_code == 403
    assert (await owner.get("/tickets")).json()["items"] == []  # nothing was created
    await anonymous.aclose()
    await owner.aclose()


async def test_wrong_password_and_throttling(app: Starlette) -> None:
    owner = await sign_up(app)
    browser = new_client(app)
    attempt = {"workspace": owner.workspace_slug, "email": f"owner@{owner.workspace_slug}.example"}
    wrong = await browser.post("/auth/login", json={**attempt, "password": "not the password"})
    assert wrong.status_code == 401
    assert error_code(wrong) == "bad_credentials"
    unknown = await browser.post(
        "/auth/login", json={**attempt, "email": "ghost@nowhere.example", "password": "whatever1"}
    )
    assert error_code(unknown) == "bad_credentials"  # no hint that the account does not exist
    for _ in range(10):
        await browser.post("/auth/login", json={**attempt, "password": "guessing-away"})
    throttled = await browser.post(
        "/auth/login", json={**attempt, "password": "correct horse battery"}
    )
    assert throttled.status_code == 429
    assert error_code(throttled) == "login_throttled"
    await browser.aclose()
    await owner.aclose()


async def test_roles_are_enforced(app: Starlette) -> None:
    owner = await sign_up(app)
    agent = await invite_and_join(owner, app, "Ana Agent")
    supervisor = await invite_and_join(owner, app, "Sam Supervisor", "supervisor")
    cases = [
        (agent, "POST", "/invitations", {"email": "x@y.example", "name": "X"}),
        (agent, "POST", "/canned-responses", {"shortcut": "hi", "body": "Hello"}),
        (agent, "POST", "/teams", {"name": "Billing"}),
        (agent, "PATCH", f"/members/{supervisor.user_id}", {"role": "admin"}),
        (supervisor, "POST", "/api-tokens", {"name": "t"}),
        (supervisor, "PATCH", "/workspace", {"allowed_origins": ["https://evil.example"]}),
    ]
    for client, method, path, body in cases:
        response = await client.request(method, path, json=body)
        assert response.status_code == 403, (path, response.text)
        assert error_code(response) == "forbidden"
    admin = await invite_and_join(owner, app, "Adam Admin", "admin")
    make_owner = await admin.post(
        "/invitations", json={"email": "boss@x.example", "name": "Boss", "role": "owner"}
    )
    assert make_owner.status_code == 403  # only an owner makes another owner

    # An agent takes an unassigned ticket, but may not hand it to someone else.
    ticket = (await owner.post("/tickets", json={"subject": "Who takes it?"})).json()
    handoff = await agent.patch(
        f"/tickets/{ticket['id']}", json={"version": 1, "assignee_id": supervisor.user_id}
    )
    assert handoff.status_code == 403
    assert error_code(handoff) == "assignment_forbidden"
    take = await agent.patch(
        f"/tickets/{ticket['id']}", json={"version": 1, "assignee_id": agent.user_id}
    )
    assert take.status_code == 200
    members = {m["user_id"]: m for m in (await owner.get("/members")).json()}
    assert members[supervisor.user_id]["role"] == "supervisor"
    for client in (owner, agent, supervisor, admin):
        await client.aclose()


async def test_invalid_bodies_name_the_field(app: Starlette) -> None:
    owner = await sign_up(app)
    ticket = (await owner.post("/tickets", json={"subject": "Valid"})).json()
    cases = [
        ("POST", "/tickets", {"subject": ""}, "subject"),
        ("POST", "/tickets", {"subject": "x", "priority": "whenever"}, "priority"),
        ("POST", "/tickets", {"subject": "x", "surprise": 1}, "surprise"),
        ("PATCH", f"/tickets/{ticket['id']}", {"status": "resolved"}, "version"),
        ("PATCH", f"/tickets/{ticket['id']}", {"version": "one"}, "version"),
        ("POST", "/contacts", {"email": "not-an-email"}, "email"),
        ("POST", "/canned-responses", {"shortcut": "Has Spaces", "body": "x"}, "shortcut"),
    ]
    for method, path, body, field in cases:
        response = await owner.request(method, path, json=body)
        assert response.status_code == 422, (body, response.text)
        details = response.json()["error"]["details"] or {}
        assert details.get("field") == field or field in response.json()["error"]["message"], (
            body,
            response.text,
        )
    malformed = await owner.request(
        "POST", "/tickets", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert malformed.status_code == 422
    assert error_code(malformed) == "malformed_json"

    # Impossible transitions are refused with a reason; the ticket keeps its state.
    closed = await owner.patch(f"/tickets/{ticket['id']}", json={"version": 1, "status": "closed"})
    assert closed.status_code == 200
    reopen = await owner.patch(f"/tickets/{ticket['id']}", json={"version": 2, "status": "open"})
    assert reopen.status_code == 422
    assert error_code(reopen) == "invalid_transition"
    snooze = await owner.post("/tickets", json={"subject": "snooze me"})
    no_time = await owner.patch(
        f"/tickets/{snooze.json()['id']}", json={"version": 1, "status": "snoozed"}
    )
    assert no_time.status_code == 422
    final = (await owner.get(f"/tickets/{ticket['id']}")).json()["ticket"]
    assert (final["status"], final["version"]) == ("closed", 2)
    await owner.aclose()


async def test_unknown_ids_oversized_bodies_and_stale_versions(app: Starlette) -> None:
    owner = await sign_up(app)
    for path in ("/tickets/not-an-id", "/tickets/65f000000000000000000000", "/contacts/%00"):
        response = await owner.get(path)
        assert response.status_code == 404, path
        assert error_code(response) == "not_found"
    assert (await owner.get("/no/such/route")).status_code == 404

    ticket = (await owner.post("/tickets", json={"subject": "Big"})).json()
    huge = "x" * (1024 * 1024 + 10)
    too_big = await owner.post(f"/tickets/{ticket['id']}/messages", json={"text": huge})
    assert too_big.status_code == 413
    assert error_code(too_big) == "too_large"
    detail = (await owner.get(f"/tickets/{ticket['id']}")).json()
    assert detail["messages"] == []

    first = await owner.patch(f"/tickets/{ticket['id']}", json={"version": 1, "priority": "high"})
    assert first.status_code == 200
    stale = await owner.patch(f"/tickets/{ticket['id']}", json={"version": 1, "priority": "low"})
    assert stale.status_code == 409
    assert stale.json()["error"]["details"]["current"]["priority"] == "high"
    assert (await owner.get(f"/tickets/{ticket['id']}")).json()["ticket"]["priority"] == "high"
    await owner.aclose()


async def test_guesses_made_at_once_cannot_slip_under_the_limit(app: Starlette) -> None:
    owner = await sign_up(app)
    transport = httpx.ASGITransport(app=app, client=("198.51.100.40", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as guesser:
        attempt = {
            "workspace": owner.workspace_slug,
            "email": f"owner@{owner.workspace_slug}.example",
        }

        async def guess(n: int) -> int:
            answer = await guesser.post(
                "/api/v1/auth/login", json={**attempt, "password": f"guess number {n}"}
            )
            return answer.status_code

        answers = await asyncio.gather(*(guess(n) for n in range(40)))
    assert sorted(set(answers)) == [401, 429]
    assert answers.count(401) == 10  # the limit, however many came at once
    await owner.aclose()
