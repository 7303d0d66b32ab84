"""The inbox views and counts equal a recount from the store after 500 random actions — some
at the same time, some whose writer died before publishing, with the worker killed in the
middle — and again after `tandem rebuild-views`."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from beanie import PydanticObjectId
from starlette.applications import Starlette

from app.actions.messages import NewMessage, post_message
from app.actions.tickets import open_ticket
from app.documents import Ticket
from app.documents.message import Author
from app.domain.errors import Invalid
from app.views.rebuild import rebuild_views
from realtime.events import Actor, Channel, Direction, Event, Kind
from tests.apiclient import AgentClient, invite_and_join, runtime_of, sign_up
from tests.jobs.helpers import eventually
from tests.servers import start_worker

ACTIVE = {"open", "pending", "snoozed"}
TAGS = ["billing", "bug", "vip"]
FILTERS: list[dict[str, str]] = [
    {"status": "active"},
    {"status": "active", "order": "updated"},
    {"status": "active", "order": "waiting"},
    {"status": "active", "order": "oldest"},
    {},
    {"status": "resolved"},
    {"status": "snoozed"},
    {"status": "active", "assignee": "me"},
    {"status": "active", "assignee": "unassigned"},
    {"status": "pending", "assignee": "unassigned"},
    {"status": "active", "tag": "vip"},
    {"status": "active", "tag": "bug", "order": "updated"},
    {"status": "active", "channel": "email"},
    {"status": "closed", "tag": "billing"},
    {"status": "active", "team": "TEAM"},
    {"order": "waiting"},
]


def ms(value: datetime | None) -> int:
    assert value is not None
    return round((value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp() * 1000)


def expected_list(tickets: list[Ticket], f: dict[str, str], me: str, team: str) -> list[str]:
    """The list a filter shows, recounted from the store's documents."""

    def keep(t: Ticket) -> bool:
        status = f.get("status")
        if status == "active" and t.status.value not in ACTIVE:
            return False
        if status and status != "active" and t.status.value != status:
            return False
        assignee = f.get("assignee")
        if assignee == "me" and t.assignee_id != me:
            return False
        if assignee == "unassigned" and t.assignee_id:
            return False
        if f.get("tag") and f["tag"] not in t.tags:
            return False
        if f.get("channel") and t.channel.value != f["channel"]:
            return False
        if f.get("team") and t.team_id != team:
            return False
        return not (f.get("order") == "waiting" and t.waiting_since is None)

    kept = [t for t in tickets if keep(t)]
    order = f.get("order", "newest")
    if order == "newest":
        kept.sort(key=lambda t: -t.number)
    elif order == "oldest":
        kept.sort(key=lambda t: t.number)
    elif order == "updated":
        kept.sort(key=lambda t: (ms(t.updated_at), str(t.id)), reverse=True)
    else:
        kept.sort(key=lambda t: (ms(t.waiting_since), str(t.id)))
    return [str(t.id) for t in kept]


def expected_counts(tickets: list[Ticket], me: str) -> dict[str, Any]:
    active = [t for t in tickets if t.status.value in ACTIVE]
    return {
        "views": {
            "all": len(active),
            "mine": sum(1 for t in active if t.assignee_id == me),
            "unassigned": sum(1 for t in active if not t.assignee_id),
        },
        "status": dict(Counter(t.status.value for t in tickets)),
        "teams": dict(Counter(t.team_id or "" for t in active)),
        "channels": dict(Counter(t.channel.value for t in active)),
        "tags": dict(Counter(tag for t in active for tag in t.tags)),
    }


def nonzero(figures: dict[str, int]) -> dict[str, int]:
    return {k: v for k, v in figures.items() if v}


async def listed(agent: AgentClient, f: dict[str, str], team: str) -> list[str]:
    """Every id the list shows for a filter, paging 7 at a time."""
    params = {k: (team if v == "TEAM" else v) for k, v in f.items()}
    ids: list[str] = []
    cursor = None
    for _ in range(500):
        page = await agent.get(
            "/tickets", params={**params, "limit": 7, **({"cursor": cursor} if cursor else {})}
        )
        assert page.status_code == 200, page.text
        ids += [t["id"] for t in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return ids
    raise AssertionError("the list never ended")


async def check_against_store(
    app: Starlette, owner: AgentClient, me: str, team: str, ws: PydanticObjectId
) -> None:
    tickets = [Ticket.model_validate(r) for r in await _all_tickets(ws)]
    for f in FILTERS:
        assert await listed(owner, f, team) == expected_list(tickets, f, me, team), f
    counts = (await owner.get("/tickets/counts")).json()
    want = expected_counts(tickets, me)
    assert counts["views"] == want["views"]
    assert nonzero(counts["status"]) == want["status"]
    for part in ("teams", "channels", "tags"):
        assert nonzero(counts[part]) == want[part], part
    board = (await owner.get("/dashboard")).json()
    assert board["queue"]["unassigned"] == want["views"]["unassigned"]
    assert board["queue"]["status"] == {
        s: want["status"].get(s, 0) for s in ("open", "pending", "snoozed")
    }
    waiting = expected_list(tickets, {"status": "open", "order": "waiting"}, me, team)
    assert [w["ticket_id"] for w in board["waiting"]] == waiting[:10]
    assert board["today"]["created"] == len(tickets)
    resolved = [t for t in tickets if t.resolved_at is not None]  # resolved or closed since
    assert board["today"]["resolved"] == len(resolved)


async def _all_tickets(ws: PydanticObjectId) -> list[dict[str, Any]]:
    return (
        await Ticket.get_pymongo_collection()
        .find({"workspace_id": ws}, {"outbox": 0, "activity": 0})
        .to_list()
    )


async def in_batches(actions: Sequence[Callable[[], Awaitable[object]]], size: int = 8) -> None:
    for start in range(0, len(actions), size):
        await asyncio.gather(*(a() for a in actions[start : start + size]))


@pytest.mark.processes
async def test_views_and_counts_equal_a_recount_after_500_random_actions(
    app: Starlette,
    monkeypatch: pytest.MonkeyPatch,
    mongodb_url: str,
    redis_url: str,
    db_name: str,
    tmp_path: Path,
) -> None:
    rng = random.Random(20261129)
    owner = await sign_up(app)
    me_info = (await owner.get("/me")).json()
    me, ws_id = me_info["user_id"], me_info["workspace"]["id"]
    ws = PydanticObjectId(ws_id)
    agent = await invite_and_join(owner, app, "Bea Agent")
    other = (await agent.get("/me")).json()["user_id"]
    team = (await owner.post("/teams", json={"name": "Billing"})).json()["id"]
    runtime = runtime_of(app)
    deps = runtime.deps
    known: list[str] = []

    async def create() -> None:
        body: dict[str, Any] = {
            "subject": f"Case {rng.randrange(10**6)}",
            "tags": rng.sample(TAGS, rng.randrange(3)),
        }
        if rng.random() < 0.3:
            body["assignee_id"] = rng.choice([me, other])
        if rng.random() < 0.3:
            body["team_id"] = team
        if rng.random() < 0.6:
            body["message"] = {"text": "Hello", "direction": rng.choice(["in", "out"])}
        made = await owner.post("/tickets", json=body)
        assert made.status_code == 201, made.text
        known.append(made.json()["id"])

    async def inbound() -> None:
        channel = rng.choice([Channel.EMAIL, Channel.WHATSAPP, Channel.WEBCHAT])
        ticket = await open_ticket(
            deps, workspace_id=ws, subject="Inbound", channel=channel, actor=Actor(kind="channel")
        )
        assert ticket.id is not None
        known.append(str(ticket.id))
        await customer_writes(str(ticket.id))

    async def customer_writes(ticket_id: str | None = None) -> None:
        tid = ticket_id or rng.choice(known)
        new = NewMessage(
            text="Any news?",
            direction=Direction.IN,
            kind=Kind.MESSAGE,
            author=Author(kind="contact"),
        )
        with contextlib.suppress(Invalid):  # a closed ticket takes no customer message
            await post_message(deps, ws, PydanticObjectId(tid), new)

    async def reply() -> None:
        kind = rng.choice(["message", "note"])
        await owner.post(
            f"/tickets/{rng.choice(known)}/messages", json={"text": "On it", "kind": kind}
        )

    async def change() -> None:
        tid = rng.choice(known)
        current = (await owner.get(f"/tickets/{tid}")).json()["ticket"]
        patch: dict[str, Any] = {"version": current["version"]}
        what = rng.choice(["status", "status", "assignee", "tags", "team", "snooze"])
        if what == "status":
            patch["status"] = rng.choice(["open", "pending", "resolved", "closed"])
        elif what == "assignee":
            patch["assignee_id"] = rng.choice([me, other, None])
        elif what == "tags":
            patch["tags"] = rng.sample(TAGS, rng.randrange(4))
        elif what == "team":
            patch["team_id"] = rng.choice([team, None])
        else:
            patch["status"] = "snoozed"
            due = datetime.now(UTC) + timedelta(seconds=rng.uniform(0.5, 4))
            patch["snoozed_until"] = due.isoformat()
        changed = await owner.patch(f"/tickets/{tid}", json=patch)
        # 409: another action came first; 422: a move the ticket's status does not allow.
        assert changed.status_code in (200, 409, 422), changed.text

    def random_actions(n: int) -> list[Callable[[], Awaitable[None]]]:
        picks: list[Callable[[], Awaitable[None]]] = []
        for _ in range(n):
            roll = rng.random()
            if not known or roll < 0.2:
                picks.append(create)
            elif roll < 0.3:
                picks.append(inbound)
            elif roll < 0.45:
                picks.append(customer_writes)
            elif roll < 0.6:
                picks.append(reply)
            else:
                picks.append(change)
        return picks

    for _ in range(12):  # something to act on from the first batch
        await create()
    log = tmp_path / "worker.log"
    worker = start_worker(
        mongodb_url=mongodb_url, redis_url=redis_url, db_name=db_name, log_path=log
    )
    try:
        await in_batches(random_actions(200))
        # The worker dies mid-run (snooze timers are due meanwhile) ...
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()

        # ... and for a while this process dies after each write, before publishing.
        async def dies_before_publishing(events: Sequence[Event]) -> None:
            return None

        with monkeypatch.context() as patch:
            patch.setattr(runtime.relay, "publish", dies_before_publishing)
            await in_batches(random_actions(100))
        worker = start_worker(
            mongodb_url=mongodb_url, redis_url=redis_url, db_name=db_name, log_path=log
        )
        await in_batches(random_actions(188))
        # The sweep the worker runs every few seconds, now: what the dead writes left.
        await runtime.relay.sweep(older_than=timedelta(0))

        # Snoozes all came due; the new worker wakes them.
        async def all_awake() -> bool:
            snoozed = Ticket.find(Ticket.workspace_id == ws, Ticket.status == "snoozed")
            return not await snoozed.count()

        await eventually(all_awake, seconds=60)
        await runtime.relay.sweep(older_than=timedelta(0))
    finally:
        if worker.poll() is None:
            worker.terminate()
            worker.wait(timeout=10)

    await check_against_store(app, owner, me, team, ws)

    # Rebuilt from the store, the views say the same.
    assert await rebuild_views(runtime.views, ws) == len(await _all_tickets(ws))
    await check_against_store(app, owner, me, team, ws)
    await owner.aclose()
    await agent.aclose()
