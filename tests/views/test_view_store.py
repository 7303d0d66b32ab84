"""The views in Redis: a late or repeated snapshot changes nothing, pages never repeat or skip
a ticket (even when many share a sort time), and lists survive losing the views."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime, timedelta

import msgspec
import redis.asyncio as aioredis
from bson import ObjectId
from starlette.applications import Starlette

from app.domain import metrics
from app.domain import views as rules
from app.domain.views import Cursor, ListFilter
from app.jobs.queue import JobQueue
from app.views.rebuild import rebuild_views
from app.views.store import ViewStore
from realtime.events import Channel, Status, TicketView
from tests.apiclient import runtime_of, sign_up
from tests.events import ticket_view
from tests.servers import tandem_env

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def ticket(
    number: int,
    *,
    rev: int = 1,
    status: Status = Status.OPEN,
    assignee: str | None = None,
    tags: list[str] | None = None,
    updated: datetime = NOW,
    waiting: datetime | None = None,
    tid: str | None = None,
) -> TicketView:
    return msgspec.structs.replace(
        ticket_view(tid or str(ObjectId()), tags=tags),
        number=number,
        subject=f"Ticket {number}",
        status=status,
        channel=Channel.EMAIL,
        assignee_id=assignee,
        created_at=NOW.isoformat(),
        updated_at=updated.isoformat(),
        waiting_since=waiting.isoformat() if waiting else None,
        rev=rev,
    )


async def all_pages(store: ViewStore, ws: str, f: ListFilter, limit: int) -> list[str]:
    ids: list[str] = []
    cursor: Cursor | None = None
    while True:
        page, cursor = await store.page(ws, f, cursor, limit)
        ids += [t.id for t in page]
        if cursor is None:
            return ids


async def test_a_late_snapshot_never_undoes_a_newer_one(redis_client: aioredis.Redis) -> None:
    store, ws = ViewStore(redis_client), str(ObjectId())
    newer = ticket(1, rev=3, status=Status.RESOLVED)
    older = msgspec.structs.replace(newer, rev=2, status=Status.OPEN, assignee_id="ana")
    assert await store.apply(ws, newer, NOW)
    # A slower writer's event, or an outbox retry, arrives after the newer one.
    assert not await store.apply(ws, older, NOW)
    assert not await store.apply(ws, newer, NOW)
    counts = await store.counts(ws)
    assert counts == {"n:all": 1, "n:s:resolved": 1}
    assert await all_pages(store, ws, ListFilter(status="active"), 10) == []
    assert await all_pages(store, ws, ListFilter(status="resolved"), 10) == [newer.id]


async def test_a_ticket_moves_between_views_and_the_counts_follow(
    redis_client: aioredis.Redis,
) -> None:
    store, ws = ViewStore(redis_client), str(ObjectId())
    first = ticket(1, tags=["vip"])
    await store.apply(ws, first, NOW)
    await store.apply(ws, ticket(2), NOW)
    moved = msgspec.structs.replace(first, rev=2, assignee_id="ana", tags=["bug"])
    await store.apply(ws, moved, NOW)
    counts = await store.counts(ws)
    assert counts["n:a:ana"] == 1
    assert counts["n:a:-"] == 1
    assert counts["n:g:bug"] == 1
    assert "n:g:vip" not in counts
    mine = ListFilter(status="active", assignee="ana")
    assert await all_pages(store, ws, mine, 10) == [first.id]
    assert await all_pages(store, ws, ListFilter(status="active", tag="vip"), 10) == []


async def test_pages_split_a_run_of_equal_sort_times_without_repeats_or_gaps(
    redis_client: aioredis.Redis,
) -> None:
    store, ws = ViewStore(redis_client), str(ObjectId())
    same = NOW - timedelta(minutes=5)
    # 23 tickets touched in the same millisecond (a bulk change), among others.
    tickets = [ticket(n, updated=same) for n in range(1, 24)]
    tickets += [ticket(n, updated=NOW - timedelta(minutes=n)) for n in range(24, 40)]
    for t in tickets:
        await store.apply(ws, t, NOW)
    expected = sorted(
        tickets, key=lambda t: (datetime.fromisoformat(t.updated_at or ""), t.id), reverse=True
    )
    for limit in (1, 4, 7, 50):
        got = await all_pages(store, ws, ListFilter(status="active", order="updated"), limit)
        assert got == [t.id for t in expected], limit


async def test_a_filter_no_view_holds_alone_is_answered_by_checking_each_ticket(
    redis_client: aioredis.Redis,
) -> None:
    store, ws = ViewStore(redis_client), str(ObjectId())
    ids = {}
    for n in range(1, 31):
        status = Status.RESOLVED if n % 3 else Status.OPEN
        made = ticket(n, status=status, assignee="ana" if n % 2 else None)
        ids[n] = made.id
        await store.apply(ws, made, NOW)
    # Ana's resolved tickets: no view holds exactly those; the resolved view is walked.
    wanted = ListFilter(status="resolved", assignee="ana")
    got = await all_pages(store, ws, wanted, 4)
    assert got == [ids[n] for n in range(30, 0, -1) if n % 3 and n % 2]


def test_a_malformed_cursor_is_not_found() -> None:
    for text in ("", "12", "x.6b0ca0421dd1639690193e44", "12.zz", "12.6b0ca"):
        try:
            rules.parse_cursor(text)
        except rules.NotFound:
            continue
        raise AssertionError(f"{text!r} was accepted")


def test_an_active_ticket_is_in_its_dimension_views_and_a_resolved_one_is_not() -> None:
    active = ticket(5, assignee="ana", tags=["vip"], waiting=NOW)
    names = {p.view for p in rules.placements(active, NOW)}
    assert {"n:all", "n:active", "n:a:ana", "n:g:vip", "n:c:email", "w:active"} <= names
    assert f"d:{NOW.date().isoformat()}:created" in names
    done = msgspec.structs.replace(active, status=Status.RESOLVED, resolved_at=NOW.isoformat())
    names = {p.view for p in rules.placements(done, NOW)}
    assert "n:a:ana" not in names
    assert "n:active" not in names
    assert {"n:s:resolved", f"d:{NOW.date().isoformat()}:resolved"} <= names
    # Day figures are kept for recent days only.
    later = NOW + timedelta(days=rules.DAYS_KEPT + 1)
    assert not any(p.view.startswith("d:") for p in rules.placements(done, later))


async def test_lists_read_the_store_while_the_views_are_missing_then_the_views_again(
    app: Starlette,
) -> None:
    owner = await sign_up(app)
    ws = (await owner.get("/me")).json()["workspace"]["id"]
    made = [
        (await owner.post("/tickets", json={"subject": f"Lost {n}"})).json()["id"] for n in range(5)
    ]
    views = runtime_of(app).views
    before = (await owner.get("/tickets", params={"status": "active"})).json()["items"]
    assert [t["id"] for t in before] == made[::-1]

    # Redis lost the views (a flush, a new Redis): the list reads the store meanwhile ...
    await views.clear(ws)
    assert not await views.is_built(ws)
    during = (await owner.get("/tickets", params={"status": "active"})).json()["items"]
    assert [t["id"] for t in during] == made[::-1]
    counts = (await owner.get("/tickets/counts")).json()
    assert counts["views"]["all"] == 5
    # ... and asked the worker for a rebuild, once, however many lists asked.
    assert await views.redis.exists(JobQueue(views.redis).keys.marker(f"views:{ws}"))

    assert await rebuild_views(views, ObjectId(ws)) == 5  # type: ignore[arg-type]
    assert await views.is_built(ws)
    after = (await owner.get("/tickets", params={"status": "active"})).json()["items"]
    assert [t["id"] for t in after] == made[::-1]
    assert (await views.counts(ws))["n:active"] == 5
    await owner.aclose()


async def test_a_malformed_list_cursor_is_a_404(app: Starlette) -> None:
    owner = await sign_up(app)
    bad = await owner.get("/tickets", params={"cursor": "nope"})
    assert bad.status_code == 404
    assert bad.json()["error"]["code"] == "not_found"
    await owner.aclose()


async def test_the_rebuild_command_restores_a_workspaces_views(
    app: Starlette, mongodb_url: str, redis_url: str, db_name: str
) -> None:
    owner = await sign_up(app)
    ws = (await owner.get("/me")).json()["workspace"]["id"]
    for n in range(3):
        await owner.post("/tickets", json={"subject": f"Before the flush {n}"})
    views = runtime_of(app).views
    await views.clear(ws)
    command = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "app.cli",
        "rebuild-views",
        "--workspace",
        owner.workspace_slug,
        env=tandem_env(mongodb_url, redis_url, db_name),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await command.communicate()
    assert command.returncode == 0, out.decode()
    assert f"{owner.workspace_slug}: views 3 tickets; search 3 documents" in out.decode()
    assert await views.is_built(ws)
    assert (await owner.get("/tickets/counts")).json()["views"]["all"] == 3
    await owner.aclose()


async def test_todays_hourly_figures_span_the_utc_dates_a_local_day_touches(
    redis_client: aioredis.Redis,
) -> None:
    store, ws = ViewStore(redis_client), str(ObjectId())
    tokyo = metrics.local_day(NOW, metrics.zone("Asia/Tokyo"))  # 15:00 UTC → 15:00 UTC
    times = [tokyo.start + timedelta(minutes=37 * n) for n in range(40)]
    times += [tokyo.start - timedelta(minutes=1), tokyo.end]  # the days either side
    for n, at in enumerate(times, start=1):
        made = msgspec.structs.replace(ticket(n), created_at=at.isoformat())
        await store.apply(ws, made, NOW)
    spans = metrics.hour_spans(tokyo)
    counts = await store.day_counts(ws, "created", [(s, e) for _, s, e in spans])
    by_hour = [0] * 24
    for (hour, _, _), n in zip(spans, counts, strict=True):
        by_hour[hour] += n
    assert by_hour == metrics.hourly(times, tokyo)
    assert sum(counts) == sum(1 for t in times if tokyo.start <= t < tokyo.end) == 39
