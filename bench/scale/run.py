"""Tandem as one workspace grows: fill it to each size, then time its hot paths over HTTP.

    .venv/bin/python -m bench.scale.run --sizes 1000,10000,100000

Starts its own FerretDB (on PostgreSQL, or on SQLite with --store sqlite) and Redis with
app/devservices, and Tandem as one uvicorn process with no `tandem worker` beside it (so no
outbox sweep or timers run during the measurements). Signs up a workspace whose owner (a
supervisor and more) drives everything with a session cookie and the CSRF header, as the inbox
app does. For each size in turn the same workspace grows to that many tickets: documents
inserted straight into the store in Tandem's own shapes (bench/scale/fill.py), then a list and a
ticket read through the app to show it serves them, then each metric of bench/scale/measure.py.
Writes its section of BENCHMARKS.md and a JSON summary under --logs."""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import msgspec
import redis.asyncio as aioredis
from beanie import PydanticObjectId, init_beanie
from pymongo import AsyncMongoClient

from app.devservices import local_services
from app.documents import ALL_DOCUMENTS, Ticket
from app.search.index import SearchIndex
from app.settings import STORE_BACKENDS
from app.views.rebuild import rebuild_views
from app.views.store import ViewStore
from bench.fanout.processes import ROOT, Server, log_problems, start_tandem
from bench.fanout.report import machine
from bench.scale.fill import COMMON_WORD, RARE_WORD, Filled, Filler, Owner, ticket_count
from bench.scale.measure import (
    Budget,
    Figure,
    Op,
    child_pid,
    cpu_by_program,
    create_rate,
    memory,
    timed,
)
from bench.scale.report import PREAMBLE, SizeResult, render
from bench.sections import replace_section

DB_NAME = "bench_scale"
HTTP_TIMEOUT = 300.0  # one request at 100k tickets may scan for many seconds
PICKS = 40  # tickets sampled per size for detail, reply (distinct ones, spread over the size)


def brief(f: Figure) -> str:
    if f.skipped:
        return f"{f.key}: skipped (--max-minutes)"
    rate = f" {f.rate_per_s:.2f}/s" if f.rate_per_s is not None else ""
    return (
        f"{f.key}:{rate} p50 {f.p50_ms or 0:.1f} p95 {f.p95_ms or 0:.1f} ms, n={f.samples}, "
        f"errors {f.errors}, {f.seconds:.0f}s"
    )


def say(message: str) -> None:
    print(f"[scale] {time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


class Args(argparse.Namespace):
    sizes: str
    samples: int
    seconds: float
    creators: int
    creates: int
    create_seconds: float
    max_minutes: float
    store: str
    render_only: bool
    output: Path
    logs: Path


def parse(argv: list[str] | None = None) -> Args:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="ticket counts, ascending")
    parser.add_argument("--samples", type=int, default=20, help="timed requests per metric")
    parser.add_argument("--seconds", type=float, default=60.0, help="time budget per metric")
    parser.add_argument("--creators", type=int, default=8, help="concurrent ticket creators")
    parser.add_argument("--creates", type=int, default=160, help="ticket creates per size")
    parser.add_argument("--create-seconds", type=float, default=60.0, help="create budget")
    parser.add_argument(
        "--max-minutes",
        type=float,
        default=60.0,
        help="bound on the whole run: once past it, no further size is filled and the "
        "remaining metrics are skipped (and shown as such)",
    )
    parser.add_argument(
        "--store",
        choices=STORE_BACKENDS,
        default="postgresql",
        help="what the local FerretDB runs on (PostgreSQL, as `tandem serve` by default)",
    )
    parser.add_argument(
        "--render-only", action="store_true", help="write the section again from --logs/run.json"
    )
    parser.add_argument("--output", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument("--logs", type=Path, default=ROOT / "var" / "bench" / "scale")
    args = parser.parse_args(argv, namespace=Args())
    sizes = [int(n) for n in args.sizes.split(",") if n]
    if not sizes or sizes != sorted(sizes) or sizes[0] < 100 or sizes[-1] > 1_000_000:
        parser.error("--sizes: ascending ticket counts from 100 to 1,000,000")
    if not 2 <= args.samples <= 1000 or not 1 <= args.seconds <= 3600:
        parser.error("--samples is 2..1000 and --seconds 1..3600")
    if not 1 <= args.creators <= 64 or not 1 <= args.creates <= 10_000:
        parser.error("--creators is 1..64 and --creates 1..10000")
    return args


def command_line(args: Args) -> str:
    line = f".venv/bin/python -m bench.scale.run --sizes {args.sizes}"
    if (args.samples, args.seconds) != (20, 60.0):
        line += f" --samples {args.samples} --seconds {args.seconds:g}"
    if args.max_minutes != 60.0:
        line += f" --max-minutes {args.max_minutes:g}"
    if (args.creators, args.creates, args.create_seconds) != (8, 160, 60.0):
        line += f" --creators {args.creators} --creates {args.creates}"
        line += f" --create-seconds {args.create_seconds:g}"
    if args.store != "postgresql":
        line += f" --store {args.store}"
    return line


async def sign_up(api: str) -> tuple[httpx.AsyncClient, Owner]:
    slug = "scale-" + secrets.token_hex(4)
    http = httpx.AsyncClient(base_url=api + "/api/v1", timeout=HTTP_TIMEOUT)
    answer = await http.post(
        "/auth/signup",
        json={
            "workspace_name": "Scale bench",
            "workspace_slug": slug,
            "name": "Olivia Owner",
            "email": f"owner@{slug}.example",
            "password": secrets.token_urlsafe(16),
        },
    )
    answer.raise_for_status()
    http.headers["X-CSRF-Token"] = answer.json()["csrf_token"]  # the cookie is in the jar
    me = await http.get("/me")
    me.raise_for_status()
    body = me.json()
    owner = Owner(PydanticObjectId(body["workspace"]["id"]), body["user_id"], body["name"])
    return http, owner


class Session:
    """The bench's view of the running system: its HTTP client as the owner, the store (for
    filling and for picking ids without going through the app), and the processes."""

    def __init__(
        self,
        args: Args,
        http: httpx.AsyncClient,
        owner: Owner,
        tandem: Server,
        redis: aioredis.Redis,
    ) -> None:
        self.args = args
        self.redis = redis
        self.http = http
        self.owner = owner
        self.tandem = tandem
        self.filler = Filler(owner, max(int(n) for n in args.sizes.split(",")))
        self.filled = Filled()
        self.written = Filled()  # tickets, contacts and messages the measurements added
        self.rng = random.Random(11)
        self.deadline = time.monotonic() + args.max_minutes * 60

    def out_of_time(self) -> bool:
        return time.monotonic() >= self.deadline

    async def ids(self, size: int, *, replyable: bool = False) -> list[str]:
        """Ids of up to PICKS tickets spread over numbers 1..size (the filled ones), read from
        the store by number, which no measured path depends on; `replyable` leaves out closed
        tickets, which take notes only."""
        numbers = self.rng.sample(range(1, size + 1), min(PICKS, size))
        query: dict[str, Any] = {
            "workspace_id": self.owner.workspace_id,
            "number": {"$in": numbers},
        }
        if replyable:
            query["status"] = {"$ne": "closed"}
        raw = Ticket.get_pymongo_collection().find(query, {"_id": 1})
        return [str(r["_id"]) async for r in raw]

    async def middle_cursor(self, size: int) -> str:
        """The cursor of the newest-first list just past ticket number size / 2."""
        raw = await Ticket.get_pymongo_collection().find_one(
            {"workspace_id": self.owner.workspace_id, "number": size // 2}, {"_id": 1}
        )
        assert raw is not None, f"no ticket number {size // 2}"
        return f"{size // 2}.{raw['_id']}"

    async def rebuild(self) -> float:
        """The fill wrote straight into the store, past the events that keep the views and
        the search index: rebuild both, as `tandem rebuild-views` does."""
        started = time.monotonic()
        await rebuild_views(ViewStore(self.redis), self.owner.workspace_id)
        await SearchIndex(self.redis).rebuild(str(self.owner.workspace_id))
        return time.monotonic() - started

    async def fresh_ticket(self, subject: str) -> tuple[str, int]:
        answer = await self.http.post("/tickets", json={"subject": subject})
        answer.raise_for_status()
        self.written.tickets += 1
        return answer.json()["id"], int(answer.json()["version"])

    async def check_served(self, size: int) -> None:
        """The filled documents are the app's: its list shows the newest, its detail a
        filled ticket's thread (messages and timeline lines)."""
        page = await self.http.get("/tickets", params={"limit": 5})
        page.raise_for_status()
        numbers = [t["number"] for t in page.json()["items"]]
        if not numbers or numbers[0] < size:
            raise RuntimeError(f"the list does not show the filled tickets: {numbers}")
        ticket_id, *_ = await self.ids(size)
        detail = await self.http.get(f"/tickets/{ticket_id}")
        detail.raise_for_status()
        if len(detail.json()["messages"]) < 5:
            raise RuntimeError(f"a filled ticket's thread is short: {detail.text[:300]}")

    async def grow_to(self, size: int) -> tuple[int, float]:
        have = await ticket_count(self.owner, self.redis)
        started = time.monotonic()
        if have < size:
            say(f"filling tickets {have + 1}..{size}")
            done = await self.filler.grow(have + 1, size, self.redis)
            self.filled.tickets += done.tickets
            self.filled.messages += done.messages
            self.filled.contacts += done.contacts
        return max(size, have), time.monotonic() - started

    async def measure(self, size: int) -> list[Figure]:
        http, budget = self.http, Budget(self.args.samples, self.args.seconds)
        picks = await self.ids(size)
        cursor = await self.middle_cursor(size)
        bump_id, bump_version = await self.fresh_ticket("Scale bench: moves the seq")
        bump = {"version": bump_version, "priority": "normal"}

        async def move_seq() -> None:
            # One priority change on a ticket of its own: one event, so the next counts or
            # dashboard read finds the seq moved and computes its answer afresh, as every
            # open inbox does after each event.
            bump["priority"] = "high" if bump["priority"] == "normal" else "normal"
            answer = await http.patch(f"/tickets/{bump_id}", json=bump)
            answer.raise_for_status()
            bump["version"] = int(answer.json()["version"])

        def get(path: str, **params: str) -> Op:
            return lambda: http.get(path, params=params)

        def cycling(ids: list[str], make: Callable[[str], Awaitable[httpx.Response]]) -> Op:
            turns = itertools.count()
            return lambda: make(ids[next(turns) % len(ids)])

        figures: list[Figure] = []

        async def run(key: str, op: Op, prepare: Any = None) -> Figure:
            if self.out_of_time():
                figure = Figure(key, skipped=True)
            else:
                figure = await timed(key, op, budget, prepare)
            figures.append(figure)
            say(f"  {brief(figure)}")
            return figure

        await run("list_first", get("/tickets"))
        await run("list_later", get("/tickets", cursor=cursor))
        await run("counts", get("/tickets/counts"), move_seq)
        await run("counts_memo", get("/tickets/counts"))
        for key, word in (("search_common", COMMON_WORD), ("search_rare", RARE_WORD)):
            figure = await run(key, get("/tickets", text=word))
            hits = await http.get("/tickets", params={"text": word, "limit": 200})
            if hits.is_success:
                more = "+" if hits.json()["next_cursor"] else ""
                figure.detail = f"{len(hits.json()['items'])}{more} hits"
        await run("dashboard", get("/dashboard"), move_seq)
        await run("detail", cycling(picks, lambda tid: http.get(f"/tickets/{tid}")))

        patch_id, patch_version = await self.fresh_ticket("Scale bench: status toggle")
        state = {"version": patch_version, "status": "open"}

        async def toggle() -> httpx.Response:
            state["status"] = "pending" if state["status"] == "open" else "open"
            answer = await http.patch(f"/tickets/{patch_id}", json=state)
            if answer.is_success:
                state["version"] = int(answer.json()["version"])
            return answer

        await run("patch", toggle)
        reply = await run(
            "reply",
            cycling(
                await self.ids(size, replyable=True),
                lambda tid: http.post(f"/tickets/{tid}/messages", json={"text": "On it!"}),
            ),
        )
        self.written.messages += reply.samples + 1
        if self.out_of_time():
            created, ok = Figure("create", skipped=True), 0
        else:
            create_budget = Budget(self.args.creates, self.args.create_seconds)
            before = cpu_by_program(os.getpid())
            created, ok = await create_rate(http, self.args.creators, create_budget, str(size))
            after = cpu_by_program(os.getpid())
            if ok:
                created.cpu_ms = {
                    name: round((after[name] - before.get(name, 0.0)) * 1000 / ok, 1)
                    for name in after
                    if after[name] - before.get(name, 0.0) > 0
                }
        figures.append(created)
        say(f"  {brief(created)}")
        self.written.tickets += ok
        self.written.contacts += ok
        self.written.messages += ok
        return figures


async def main_async(
    args: Args, tmp: Path, publish: Callable[[list[SizeResult], list[str]], object]
) -> tuple[list[SizeResult], list[str]]:
    """Every size in turn; `publish` gets the results after each one, so a run stopped at the
    largest size still leaves the smaller ones in BENCHMARKS.md."""
    results: list[SizeResult] = []
    notes: list[str] = []
    sizes = [int(n) for n in args.sizes.split(",")]
    with local_services(
        ROOT / "var", persist=False, data_dir=tmp, store_backend=args.store
    ) as store:
        assert store.mongodb_url
        assert store.redis_url
        ferret_pid = child_pid("ferretdb", os.getpid())
        redis_pid = child_pid("redis-server", os.getpid())
        env = {
            "MONGODB_URL": store.mongodb_url,
            "REDIS_URL": store.redis_url,
            "MONGODB_DB": DB_NAME,
            "TANDEM_SECRET_KEY": secrets.token_hex(32),
            "TANDEM_LOG_LEVEL": "warning",
        }
        say("starting Tandem (one uvicorn process, no worker)")
        tandem = start_tandem("tandem", env, args.logs)
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            store.mongodb_url, tz_aware=True
        )
        redis = aioredis.from_url(store.redis_url)
        try:
            # Tandem created the indexes at its start; the bench only binds the models.
            await init_beanie(client[DB_NAME], document_models=ALL_DOCUMENTS, skip_indexes=True)
            http, owner = await sign_up(tandem.http_url)
            session = Session(args, http, owner, tandem, redis)
            for size in sizes:
                if session.out_of_time():
                    notes.append(
                        f"{size:,} tickets: not filled nor measured, the run had passed "
                        f"--max-minutes {args.max_minutes:g}."
                    )
                    break
                tickets, fill_seconds = await session.grow_to(size)
                say(f"{tickets} tickets; filled in {fill_seconds:.0f}s; rebuilding views")
                rebuild_seconds = await session.rebuild()
                say(f"views and search rebuilt in {rebuild_seconds:.0f}s; checking the app")
                await session.check_served(size)
                started = time.monotonic()
                figures = await session.measure(size)
                measure_seconds = time.monotonic() - started
                results.append(
                    SizeResult(
                        size=size,
                        tickets=tickets,
                        messages=session.filled.messages,
                        contacts=session.filled.contacts,
                        fill_seconds=fill_seconds,
                        measure_seconds=measure_seconds,
                        figures=figures,
                        store=memory(ferret_pid) if ferret_pid else None,
                        redis=memory(redis_pid) if redis_pid else None,
                        tandem=memory(tandem.proc.pid),
                        written_tickets=session.written.tickets,
                        written_messages=session.written.messages,
                        written_contacts=session.written.contacts,
                        rebuild_seconds=rebuild_seconds,
                    )
                )
                say(f"{size}: measured in {measure_seconds:.0f}s")
                (args.logs / "results.json").write_bytes(msgspec.json.encode(results))
                rest = sizes[len(results) :]
                if rest:
                    publish(
                        results,
                        [
                            f"Written after the {size:,} size, while the run went on to "
                            f"{', '.join(f'{n:,}' for n in rest)}: if this note is here, the "
                            "run stopped before it finished them."
                        ],
                    )
            await http.aclose()
        finally:
            tandem.stop()
            await client.close()
            await redis.aclose()
        count, kinds = log_problems(tandem)
        notes.append(
            f"Tandem logged {count} warnings or errors" + (f", first: {kinds}" if kinds else "")
        )
    return results, notes


class Run(msgspec.Struct):
    """All a section is rendered from, kept in --logs/run.json, so `--render-only` can write
    the section again (say, after the report's wording changed) without measuring."""

    argv: list[str]
    box: dict[str, str]
    load_start: tuple[float, float, float]
    load_end: tuple[float, float, float]
    minutes: float
    notes: list[str]
    results: list[SizeResult]


def write_section(run: Run, output: Path) -> str:
    args = parse(run.argv)
    text = render(
        command=command_line(args),
        box=run.box,
        args=args,
        results=run.results,
        load=(run.load_start, run.load_end),
        minutes=run.minutes,
        notes=run.notes,
    )
    # Read and written at once: other benchmarks' sections, edited meanwhile, stay.
    output.write_text(replace_section(output, text, PREAMBLE))
    return text


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    saved = args.logs / "run.json"
    if args.render_only:
        print(write_section(msgspec.json.decode(saved.read_bytes(), type=Run), args.output))
        return
    shutil.rmtree(args.logs, ignore_errors=True)
    args.logs.mkdir(parents=True)
    box = machine()
    load_start = os.getloadavg()
    wall = time.monotonic()
    measured_argv = [a for a in (sys.argv[1:] if argv is None else argv) if a != "--render-only"]

    def publish(results: list[SizeResult], notes: list[str]) -> str:
        run = Run(
            argv=measured_argv,
            box=box,
            load_start=load_start,
            load_end=os.getloadavg(),
            minutes=(time.monotonic() - wall) / 60,
            notes=notes,
            results=results,
        )
        saved.write_bytes(msgspec.json.encode(run))
        return write_section(run, args.output)

    with tempfile.TemporaryDirectory(prefix="tandem-scale-") as tmp:
        results, notes = asyncio.run(main_async(args, Path(tmp), publish))
    print(publish(results, notes))
    say(f"wrote {args.output}; logs in {args.logs}")


if __name__ == "__main__":
    main()
