"""View counts and the supervisor's dashboard, computed from real tickets on the real store."""

from typing import Any

from starlette.applications import Starlette

from tests.apiclient import AgentClient, invite_and_join, runtime_of, sign_up


async def new_ticket(client: AgentClient, subject: str, **extra: Any) -> dict[str, Any]:
    created = await client.post(
        "/tickets",
        json={
            "subject": subject,
            "contact": {"email": f"{subject.split()[0].lower()}@example.com"},
            "message": {"text": f"Hello about {subject}"},
            **extra,
        },
    )
    assert created.status_code == 201, created.text
    ticket: dict[str, Any] = created.json()
    return ticket


async def patch(client: AgentClient, ticket: dict[str, Any], **changes: Any) -> dict[str, Any]:
    fresh = (await client.get(f"/tickets/{ticket['id']}")).json()["ticket"]
    changed = await client.patch(
        f"/tickets/{ticket['id']}", json={"version": fresh["version"], **changes}
    )
    assert changed.status_code == 200, changed.text
    result: dict[str, Any] = changed.json()
    return result


async def test_view_counts_follow_assignment_status_team_channel_and_tags(app: Starlette) -> None:
    owner = await sign_up(app)
    ana = await invite_and_join(owner, app, "Ana Agent")
    team = (await owner.post("/teams", json={"name": "Billing"})).json()

    first = await new_ticket(owner, "Refund one", tags=["billing"])
    second = await new_ticket(owner, "Refund two", tags=["billing", "vip"])
    third = await new_ticket(owner, "Login broken")
    await patch(ana, first, assignee_id=ana.user_id)
    await patch(owner, second, team_id=team["id"])
    await patch(owner, third, status="resolved")

    answer = await ana.get("/tickets/counts")
    assert answer.status_code == 200, answer.text
    counts = answer.json()
    assert counts["views"] == {"mine": 1, "unassigned": 1, "all": 2}
    assert counts["status"] == {"open": 2, "pending": 0, "snoozed": 0, "resolved": 1, "closed": 0}
    assert counts["teams"] == {team["id"]: 1, "": 1}
    assert counts["channels"] == {"api": 2}
    assert counts["tags"] == {"billing": 2, "vip": 1}

    # The owner's "mine" is their own, and another workspace counts nothing of these.
    assert (await owner.get("/tickets/counts")).json()["views"]["mine"] == 0
    stranger = await sign_up(app)
    assert (await stranger.get("/tickets/counts")).json()["views"] == {
        "mine": 0,
        "unassigned": 0,
        "all": 0,
    }


async def test_dashboard_shows_waits_load_presence_and_today(app: Starlette) -> None:
    owner = await sign_up(app, name="Olivia Owner")
    ana = await invite_and_join(owner, app, "Ana Agent")
    sam = await invite_and_join(owner, app, "Sam Supervisor", role="supervisor")

    older = await new_ticket(owner, "Older wait")
    newer = await new_ticket(owner, "Newer wait")
    answered = await new_ticket(owner, "Answered one")
    assert older["waiting_since"] is not None
    await patch(owner, newer, assignee_id=ana.user_id)
    reply = await ana.post(f"/tickets/{answered['id']}/messages", json={"text": "On it"})
    assert reply.json()["ticket"]["waiting_since"] is None
    await patch(owner, answered, status="resolved")

    workspace_id = (await ana.get("/me")).json()["workspace"]["id"]
    await runtime_of(app).presence.heartbeat(workspace_id, ana.user_id, "tab-1", "online")

    answer = await sam.get("/dashboard")
    assert answer.status_code == 200, answer.text
    board = answer.json()
    assert board["queue"]["status"] == {"open": 2, "pending": 0, "snoozed": 0}
    assert board["queue"]["unassigned"] == 1
    assert board["queue"]["channels"] == {"api": 2}
    assert [w["subject"] for w in board["waiting"]] == ["Older wait", "Newer wait"]
    assert board["oldest_waiting"]["ticket_id"] == older["id"]
    assert board["oldest_waiting"]["age_seconds"] >= 0
    agents = {a["name"]: a for a in board["agents"]}
    assert agents["Ana Agent"]["presence"] == "online"
    assert agents["Ana Agent"]["open_tickets"] == 1
    assert agents["Olivia Owner"]["presence"] == "offline"
    assert board["today"]["created"] == 3
    assert board["today"]["resolved"] == 1
    assert board["today"]["median_first_response_seconds"] is not None
    assert sum(board["hourly"]["created"]) == 3
    assert sum(board["hourly"]["resolved"]) == 1

    # A reply stops the wait; the dashboard's queue of waits moves with it.
    await ana.post(f"/tickets/{older['id']}/messages", json={"text": "Looking now"})
    board = (await sam.get("/dashboard")).json()
    assert [w["subject"] for w in board["waiting"]] == ["Newer wait"]


async def test_agents_may_not_open_the_dashboard(app: Starlette) -> None:
    owner = await sign_up(app)
    ana = await invite_and_join(owner, app, "Ana Agent")
    refused = await ana.get("/dashboard")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"


async def test_today_is_counted_in_the_workspaces_time_zone(app: Starlette) -> None:
    owner = await sign_up(app)
    refused = await owner.patch("/workspace", json={"timezone": "Mars/Olympus"})
    assert refused.status_code == 422
    assert refused.json()["error"]["details"]["field"] == "timezone"

    # A zone where it is always already tomorrow or still yesterday relative to UTC moves
    # the start of "today" off UTC midnight; the figures still count this ticket.
    set_zone = await owner.patch("/workspace", json={"timezone": "Pacific/Kiritimati"})
    assert set_zone.status_code == 200, set_zone.text
    assert (await owner.get("/me")).json()["workspace"]["timezone"] == "Pacific/Kiritimati"
    await new_ticket(owner, "Late night question")
    board = (await owner.get("/dashboard")).json()
    assert board["today"]["timezone"] == "Pacific/Kiritimati"
    assert board["today"]["since"].endswith("T10:00:00.000Z")  # local midnight at UTC+14
    assert board["today"]["created"] == 1
    assert sum(board["hourly"]["created"]) == 1
