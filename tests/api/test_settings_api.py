"""The workspace settings API: pending invitations and revoking them, teams (rename, delete,
members), opening hours and time zone, the widget's address, and the filtered audit log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from starlette.applications import Starlette

from tests.apiclient import PASSWORD, invite_and_join, new_client, runtime_of, sign_up


async def test_pending_invitations_are_listed_and_a_revoked_link_stops_working(
    app: Starlette,
) -> None:
    owner = await sign_up(app)
    other = await sign_up(app)
    made = await owner.post(
        "/invitations", json={"email": "ana@x.example", "name": "Ana", "role": "supervisor"}
    )
    assert made.status_code == 201, made.text
    token = made.json()["token"]
    again = await owner.post("/invitations", json={"email": "ANA@x.example", "name": "Ana"})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "already_invited"
    kept = await owner.post("/invitations", json={"email": "bo@x.example", "name": "Bo"})
    pending = (await owner.get("/invitations")).json()
    assert [(i["email"], i["role"]) for i in pending] == [
        ("bo@x.example", "agent"),
        ("ana@x.example", "supervisor"),
    ]
    assert pending[1]["invited_by"] == owner.user_id
    expires = datetime.fromisoformat(pending[1]["expires_at"].replace("Z", "+00:00"))
    assert timedelta(days=6) < expires - datetime.now(UTC) <= timedelta(days=7)
    # Another workspace neither sees nor revokes them.
    assert (await other.get("/invitations")).json() == []
    assert (await other.delete(f"/invitations/{made.json()['id']}")).status_code == 404

    assert (await owner.delete(f"/invitations/{made.json()['id']}")).status_code == 204
    # Revoked, the address can be invited again.
    renewed = await owner.post("/invitations", json={"email": "ana@x.example", "name": "Ana"})
    assert renewed.status_code == 201
    assert (await owner.delete(f"/invitations/{renewed.json()['id']}")).status_code == 204
    assert [i["email"] for i in (await owner.get("/invitations")).json()] == ["bo@x.example"]
    assert (await owner.delete(f"/invitations/{made.json()['id']}")).status_code == 404
    invitee = new_client(app)
    refused = await invitee.post("/invitations/accept", json={"token": token, "password": PASSWORD})
    assert refused.status_code == 404
    assert refused.json()["error"]["code"] == "invitation_invalid"

    # An accepted invitation is no longer pending.
    joined = await invitee.post(
        "/invitations/accept", json={"token": kept.json()["token"], "password": PASSWORD}
    )
    assert joined.status_code == 201
    assert (await owner.get("/invitations")).json() == []
    assert (await owner.delete(f"/invitations/{kept.json()['id']}")).status_code == 404

    agent = await invite_and_join(owner, app, "Cy Agent")
    assert (await agent.get("/invitations")).status_code == 403
    for client in (owner, other, invitee, agent):
        await client.aclose()


async def test_teams_are_renamed_staffed_and_deleted(app: Starlette) -> None:
    owner = await sign_up(app)
    ana = await invite_and_join(owner, app, "Ana Agent")
    bo = await invite_and_join(owner, app, "Bo Agent")
    billing = (await owner.post("/teams", json={"name": "Billing"})).json()
    await owner.post("/teams", json={"name": "Sales"})

    renamed = await owner.patch(f"/teams/{billing['id']}", json={"name": "Invoices"})
    assert renamed.json() == {"id": billing["id"], "name": "Invoices"}
    clash = await owner.patch(f"/teams/{billing['id']}", json={"name": "Sales"})
    assert clash.status_code == 409
    assert (await owner.patch(f"/teams/{billing['id']}", json={"name": ""})).status_code == 422

    staffed = await owner.put(
        f"/teams/{billing['id']}/members", json={"user_ids": [ana.user_id, bo.user_id]}
    )
    assert staffed.status_code == 200, staffed.text
    assert staffed.json()["user_ids"] == sorted([ana.user_id, bo.user_id])
    again = await owner.put(f"/teams/{billing['id']}/members", json={"user_ids": [bo.user_id]})
    assert again.json()["user_ids"] == [bo.user_id]
    by_member = {m["user_id"]: m["team_ids"] for m in (await owner.get("/members")).json()}
    assert by_member[bo.user_id] == [billing["id"]]
    assert by_member[ana.user_id] == []
    teams = {t["name"]: t["user_ids"] for t in (await owner.get("/teams/members")).json()}
    assert teams == {"Invoices": [bo.user_id], "Sales": []}

    stranger = await sign_up(app)
    bad = await owner.put(f"/teams/{billing['id']}/members", json={"user_ids": [stranger.user_id]})
    assert bad.status_code == 422
    assert bad.json()["error"]["details"]["field"] == "user_ids"
    assert (
        await owner.put(f"/teams/{billing['id']}/members", json={"user_ids": ["nope"]})
    ).status_code == 422
    assert (await stranger.delete(f"/teams/{billing['id']}")).status_code == 404
    assert (await ana.patch(f"/teams/{billing['id']}", json={"name": "X"})).status_code == 403

    # A team with active tickets is kept; once they are resolved it can go.
    ticket = (
        await owner.post("/tickets", json={"subject": "Invoice", "team_id": billing["id"]})
    ).json()
    busy = await owner.delete(f"/teams/{billing['id']}")
    assert busy.status_code == 409
    assert busy.json()["error"]["code"] == "team_in_use"
    await owner.patch(f"/tickets/{ticket['id']}", json={"version": 1, "status": "resolved"})
    assert (await owner.delete(f"/teams/{billing['id']}")).status_code == 204
    assert [t["name"] for t in (await owner.get("/teams")).json()] == ["Sales"]
    by_member = {m["user_id"]: m["team_ids"] for m in (await owner.get("/members")).json()}
    assert by_member[bo.user_id] == []
    for client in (owner, ana, bo, stranger):
        await client.aclose()


async def test_opening_hours_and_time_zone_are_validated_and_kept(app: Starlette) -> None:
    owner = await sign_up(app)
    week = {
        "mon": {"open": "09:00", "close": "17:30"},
        "fri": {"open": "10:00", "close": "24:00"},
    }
    saved = await owner.patch(
        "/workspace", json={"timezone": "Europe/Lisbon", "business_hours": week}
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["business_hours"] == week
    assert saved.json()["timezone"] == "Europe/Lisbon"
    read = (await owner.get("/workspace")).json()
    assert read["business_hours"] == week
    assert read["slug"] == owner.workspace_slug

    for bad, field in (
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"business_hours": {"mon": {"open": "17:00", "close": "09:00"}}}, "business_hours.mon"),
        ({"business_hours": {"tue": {"open": "09:00", "close": "09:00"}}}, "business_hours.tue"),
        ({"business_hours": {"mon": {"open": "9am", "close": "17:00"}}}, "business_hours.mon.open"),
        ({"business_hours": {"someday": {"open": "09:00", "close": "10:00"}}}, None),
    ):
        answer = await owner.patch("/workspace", json=bad)
        assert answer.status_code == 422, bad
        if field:
            assert answer.json()["error"]["details"]["field"] == field
    assert (await owner.get("/workspace")).json()["business_hours"] == week

    cleared = await owner.patch("/workspace", json={"business_hours": {}})
    assert cleared.json()["business_hours"] == {}
    admin = await invite_and_join(owner, app, "Ad Admin", role="admin")
    assert (await admin.get("/workspace")).status_code == 200
    refused = await admin.patch("/workspace", json={"business_hours": week})
    assert refused.status_code == 403
    agent = await invite_and_join(owner, app, "Ag Agent")
    assert (await agent.get("/workspace")).status_code == 403
    for client in (owner, admin, agent):
        await client.aclose()


async def test_the_workspace_says_where_the_widget_script_is(app: Starlette) -> None:
    owner = await sign_up(app)
    base = runtime_of(app).settings.public_url
    read = (await owner.get("/workspace")).json()
    assert read["public_url"] == base
    assert read["widget_script_url"] == f"{base}/widget.js"
    assert read["id"] == (await owner.get("/me")).json()["workspace"]["id"]
    assert read["widget_greeting"]
    await owner.aclose()


async def test_the_audit_log_filters_by_actor_action_and_time_and_pages(app: Starlette) -> None:
    owner = await sign_up(app)
    admin = await invite_and_join(owner, app, "Ad Admin", role="admin")
    for n in range(5):
        await owner.post("/api-tokens", json={"name": f"t{n}"})
    await admin.post("/teams", json={"name": "Ops"})
    other = await sign_up(app)
    await other.post("/api-tokens", json={"name": "theirs"})

    everything = (await owner.get("/audit-events")).json()
    assert everything[0]["action"] == "team.created"
    assert all(e["id"] for e in everything)
    tokens = (await owner.get("/audit-events", params={"action": "token.created"})).json()
    assert [e["data"]["name"] for e in tokens] == ["t4", "t3", "t2", "t1", "t0"]
    by_admin = (await owner.get("/audit-events", params={"actor": admin.user_id})).json()
    assert [e["action"] for e in by_admin] == ["team.created", "member.joined"]
    members = (await owner.get("/audit-events", params={"action": "member."})).json()
    assert {e["action"] for e in members} == {"member.invited", "member.joined"}

    first = (await owner.get("/audit-events", params={"action": "token.", "limit": 2})).json()
    second = (
        await owner.get(
            "/audit-events", params={"action": "token.", "limit": 2, "before": first[-1]["id"]}
        )
    ).json()
    third = (
        await owner.get(
            "/audit-events", params={"action": "token.", "limit": 2, "before": second[-1]["id"]}
        )
    ).json()
    names = [e["data"]["name"] for e in first + second + third]
    assert names == ["t4", "t3", "t2", "t1", "t0"]

    now = datetime.now(UTC)
    later = (
        await owner.get("/audit-events", params={"since": (now + timedelta(minutes=5)).isoformat()})
    ).json()
    assert later == []
    window = {
        "since": (now - timedelta(minutes=5)).isoformat(),
        "until": (now + timedelta(minutes=5)).isoformat(),
    }
    assert len((await owner.get("/audit-events", params=window)).json()) == len(everything)

    for bad in (
        {"actor": "someone"},
        {"action": "DROP TABLE"},
        {"since": "yesterday"},
        {"limit": "0"},
        {"since": now.isoformat(), "until": (now - timedelta(days=1)).isoformat()},
        {"colour": "red"},
    ):
        answer = await owner.get("/audit-events", params=bad)
        assert answer.status_code == 422, bad
    # Another workspace's event is not a place to page from.
    theirs = (await other.get("/audit-events")).json()[0]["id"]
    assert (await owner.get("/audit-events", params={"before": theirs})).status_code == 404
    agent = await invite_and_join(owner, app, "Ag Agent")
    assert (await agent.get("/audit-events")).status_code == 403
    for client in (owner, admin, other, agent):
        await client.aclose()


async def test_allowed_origins_must_be_site_origins(app: Starlette) -> None:
    owner = await sign_up(app)
    saved = await owner.patch(
        "/workspace",
        json={
            "allowed_origins": [
                "https://Shop.example/",
                "http://localhost:8080",
                "https://shop.example",
            ]
        },
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["allowed_origins"] == ["https://shop.example", "http://localhost:8080"]
    for bad in ("shop.example", "https://shop.example/cart", "ftp://shop.example", "https://a b"):
        answer = await owner.patch("/workspace", json={"allowed_origins": [bad]})
        assert answer.status_code == 422, bad
        assert answer.json()["error"]["code"] == "invalid_origin"
        assert answer.json()["error"]["details"]["field"] == "allowed_origins"
    assert (await owner.get("/workspace")).json()["allowed_origins"] == [
        "https://shop.example",
        "http://localhost:8080",
    ]
    await owner.aclose()
