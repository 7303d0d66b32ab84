"""Cancelling a workspace: only its owner, with their password; from then on it is read-only
— members log in, read and export, every write is refused saying when the data goes — until
the owner restores it, after which everything works as before."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
from starlette.applications import Starlette

from tests.apiclient import PASSWORD, new_client, sign_up
from tests.lifecycle.helpers import cancel, ok, seeded


def refused_as_cancelled(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 409, (response.request.url, response.text)
    error = response.json()["error"]
    assert error["code"] == "workspace_cancelled", error
    assert "read-only" in error["message"]
    details: dict[str, str] = error["details"]
    return details


async def test_only_the_owner_may_cancel_restore_or_export(app: Starlette) -> None:
    team = await seeded(app)
    for member in (team.admin, team.agent):
        assert (await cancel(member)).status_code == 403
        assert (await member.post("/workspace/restore")).status_code == 403
        assert (await member.get("/workspace/export")).status_code == 403
    # A wrong password cancels nothing, and says so without logging the owner out.
    wrong = await cancel(team.owner, "not the password")
    assert wrong.status_code == 403
    assert wrong.json()["error"]["code"] == "wrong_password"
    state = await ok(await team.owner.get("/workspace/lifecycle"), 200)
    assert state["status"] == "active"
    assert state["purge_after"] is None
    # The admin's refusals changed nothing either: writes still work.
    await ok(
        await team.agent.post(f"/tickets/{team.ticket_id}/messages", json={"text": "Still on it"})
    )
    await team.aclose()


async def test_a_cancelled_workspace_is_read_only_until_its_owner_restores_it(
    app: Starlette,
) -> None:
    team = await seeded(app)
    before_cancel = await ok(await team.agent.get(f"/tickets/{team.ticket_id}"), 200)
    ticket, first = before_cancel["ticket"], before_cancel["messages"][0]
    before = datetime.now(UTC)

    cancelled = await ok(await cancel(team.owner), 200)
    assert cancelled["status"] == "cancelled"
    purge_after = datetime.fromisoformat(cancelled["purge_after"])
    assert before + timedelta(days=90) <= purge_after <= datetime.now(UTC) + timedelta(days=90)
    # Everyone sees it, and a second cancel is refused like any write.
    seen = await ok(await team.agent.get("/workspace/lifecycle"), 200)
    assert seen["status"] == "cancelled"
    assert seen["purge_after"] == cancelled["purge_after"]
    refused_as_cancelled(await cancel(team.owner))

    # Every write is refused, and says when the data will be deleted.
    token = httpx.AsyncClient(
        transport=team.owner.http._transport,
        base_url="http://testserver/api/v1",
        headers={"Authorization": f"Bearer {team.token}"},
    )
    key = str(uuid.uuid4())
    writes = [
        team.agent.patch(
            f"/tickets/{team.ticket_id}", json={"version": ticket["version"], "status": "pending"}
        ),
        team.agent.post(
            f"/tickets/{team.ticket_id}/messages",
            json={"text": "Done!"},
            headers={"Idempotency-Key": key},
        ),
        team.agent.post("/tickets", json={"subject": "New"}),
        team.agent.post(f"/tickets/{team.ticket_id}/seen", json={"up_to": first["id"]}),
        team.admin.post(
            "/invitations", json={"email": "x@example.com", "name": "X", "role": "agent"}
        ),
        team.admin.post("/api-tokens", json={"name": "another"}),
        team.admin.post("/teams", json={"name": "Sales"}),
        team.owner.patch("/workspace", json={"name": "Renamed"}),
        team.owner.post("/canned-responses", json={"shortcut": "bye", "body": "Bye"}),
        token.post("/tickets", json={"subject": "From the CRM"}),
    ]
    for write in writes:
        details = refused_as_cancelled(await write)
        assert details["purge_after"] == cancelled["purge_after"]

    # Reading, logging in and exporting still work.
    detail = await ok(await team.agent.get(f"/tickets/{team.ticket_id}"), 200)
    assert [m["text"] for m in detail["messages"] if m["kind"] == "message"] == [
        "Charged twice",
        "Refunded.",
    ]
    assert (await ok(await token.get("/tickets"), 200))["items"]
    again = new_client(app)
    login = await again.post(
        "/auth/login",
        json={
            "workspace": team.owner.workspace_slug,
            "email": f"alex@{team.owner.workspace_slug}.example",
            "password": PASSWORD,
        },
    )
    assert login.status_code == 200, login.text
    export = await team.owner.get("/workspace/export")
    assert export.status_code == 200
    assert export.content[:2] == b"PK"

    # Restored: writes work again, and the key refused meanwhile was not kept.
    restored = await ok(await team.owner.post("/workspace/restore"), 200)
    assert restored == {**restored, "status": "active", "cancelled_at": None, "purge_after": None}
    reply = await team.agent.post(
        f"/tickets/{team.ticket_id}/messages",
        json={"text": "Done!"},
        headers={"Idempotency-Key": key},
    )
    assert reply.status_code == 201, reply.text
    assert "idempotent-replayed" not in reply.headers
    await ok(await team.owner.patch("/workspace", json={"name": "Renamed"}), 200)
    assert (await team.owner.post("/workspace/restore")).json()["error"]["code"] == "not_cancelled"

    audit = await ok(await team.owner.get("/audit-events", params={"action": "workspace."}), 200)
    actions = [e["action"] for e in audit]
    for action in ("workspace.cancelled", "workspace.restored", "workspace.exported"):
        assert action in actions, actions
    await token.aclose()
    await again.aclose()
    await team.aclose()


async def test_members_may_still_end_their_sessions_in_a_cancelled_workspace(
    app: Starlette,
) -> None:
    owner = await sign_up(app)
    await ok(await cancel(owner), 200)
    # A socket token (to read live) and logging out are not writes to the workspace.
    assert (await owner.post("/realtime/token")).status_code == 200
    assert (await owner.post("/auth/logout")).status_code == 204
    assert (await owner.get("/me")).status_code == 401
    await owner.aclose()


async def test_an_invitation_sent_before_cancelling_adds_no_one_until_restored(
    app: Starlette,
) -> None:
    owner = await sign_up(app)
    invited = await owner.post(
        "/invitations", json={"email": "late@example.com", "name": "Late", "role": "agent"}
    )
    token = invited.json()["token"]
    await ok(await cancel(owner), 200)
    joiner = new_client(app)
    refused_as_cancelled(
        await joiner.post("/invitations/accept", json={"token": token, "password": PASSWORD})
    )
    members = await ok(await owner.get("/members"), 200)
    assert [m["email"] for m in members] == [f"owner@{owner.workspace_slug}.example"]
    await ok(await owner.post("/workspace/restore"), 200)
    joined = await joiner.post("/invitations/accept", json={"token": token, "password": PASSWORD})
    assert joined.status_code == 201, joined.text
    await joiner.aclose()
    await owner.aclose()
