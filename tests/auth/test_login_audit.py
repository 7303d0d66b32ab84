"""Logins are audited, failures with the client address but never the email typed, and
security records are kept only as long as the retention policy says."""

from __future__ import annotations

from datetime import timedelta

from beanie import PydanticObjectId
from starlette.applications import Starlette

from app.documents import AuditEvent, LoginSession
from app.documents.common import utcnow
from app.services.retention import forget_expired_records
from tests.apiclient import PASSWORD, new_client, sign_up


async def test_logins_and_failed_attempts_are_in_the_audit_log(app: Starlette) -> None:
    owner = await sign_up(app)
    slug = owner.workspace_slug
    email = f"owner@{slug}.example"
    guest = new_client(app)
    wrong = {"workspace": slug, "email": email, "password": "not the password"}
    assert (await guest.post("/auth/login", json=wrong)).status_code == 401
    stranger = {"workspace": slug, "email": "mallory@evil.example", "password": "x" * 12}
    assert (await guest.post("/auth/login", json=stranger)).status_code == 401
    right = {"workspace": slug, "email": email, "password": PASSWORD}
    assert (await guest.post("/auth/login", json=right)).status_code == 200

    events = (await owner.get("/audit-events", params={"action": "login."})).json()
    seen = [(e["action"], e["target_id"], e["data"].get("reason")) for e in events]
    assert seen == [
        ("login.succeeded", owner.user_id, None),
        ("login.failed", None, "unknown_account"),
        ("login.failed", owner.user_id, "wrong_password"),
    ]
    assert all(e["data"]["address"] == "127.0.0.1" for e in events)
    assert "mallory" not in str(events)
    await owner.aclose()
    await guest.aclose()


async def test_old_audit_events_and_ended_sessions_are_deleted_by_policy(app: Starlette) -> None:
    owner = await sign_up(app)
    ws = PydanticObjectId((await owner.get("/me")).json()["workspace"]["id"])
    now = utcnow()
    old = AuditEvent(
        workspace_id=ws,
        actor_id=None,
        action="member.updated",
        target_type="user",
        at=now - timedelta(days=400),
    )
    await old.insert()
    user = PydanticObjectId(owner.user_id)
    ended = LoginSession(
        id="ended-long-ago",
        workspace_id=ws,
        user_id=user,
        expires_at=now + timedelta(days=1),
        ended_at=now - timedelta(days=31),
    )
    await ended.insert()

    assert await forget_expired_records(365) == (1, 1)
    assert await AuditEvent.get(old.id) is None
    assert await LoginSession.get("ended-long-ago") is None
    # What is recent stays, and the owner is still signed in.
    assert (await owner.get("/audit-events")).json()
    assert (await owner.get("/me")).status_code == 200
    await owner.aclose()
