"""FerretDB on SQLite against FerretDB on PostgreSQL, for Tandem's own requests; writes its
section of BENCHMARKS.md.

    .venv/bin/python -m bench.store.run --tickets 2000,10000
    .venv/bin/python -m bench.store.run --render-only      # the section from the last run

For each backend and size: starts the local services the way `tandem serve` does (fresh data
directory, durable settings), runs Tandem in-process (the API over httpx's ASGI transport),
signs up a workspace with an owner and three agents, fills it with N tickets (bench/store/fill.py)
and times each request. Counts and the dashboard are cached per event seq, so each of their
samples follows an untimed status change, as every refetch after an event does. Each path
takes up to --samples timed requests, fewer when --budget seconds run out first.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from bench.fanout.report import machine
from bench.sections import replace_section
from bench.store.fill import Filled, fill
from bench.store.report import PREAMBLE, render
from bench.store.results import Run, SizeResult, Timing, load, save, timing

if TYPE_CHECKING:
    from tests.apiclient import AgentClient

ROOT = Path(__file__).resolve().parents[2]
BACKENDS = ("sqlite", "postgresql")
AGENT_NAMES = ("Ana Agent", "Ben Agent", "Cleo Agent")


def say(message: str) -> None:
    print(f"[store] {message}", file=sys.stderr, flush=True)


@dataclass
class Probe:
    """The signed-in owner of the filled workspace, and the tickets it works on."""

    owner: AgentClient
    filled: Filled
    rng: random.Random

    async def toggle(self) -> httpx.Response:
        """Open ↔ pending on a random working ticket, with the version it was last seen at."""
        ticket_id = self.rng.choice(list(self.filled.working))
        seen = self.filled.working[ticket_id]
        new = "pending" if seen.status == "open" else "open"
        response = await self.owner.patch(
            f"/tickets/{ticket_id}", json={"version": seen.version, "status": new}
        )
        if response.status_code == 200:
            seen.version, seen.status = response.json()["version"], new
        return response


async def sample(
    key: str,
    request: Callable[[], Awaitable[httpx.Response]],
    *,
    samples: int,
    budget: float,
    min_samples: int,
    before: Callable[[], Awaitable[object]] | None = None,
    warmup: int = 1,
) -> Timing:
    """Time `request` up to `samples` times (at least `min_samples`) within about `budget`
    seconds, after `warmup` untimed ones; `before` runs untimed ahead of each."""
    seconds: list[float] = []
    errors = 0
    deadline = time.monotonic() + budget
    for i in range(warmup + samples):
        if i >= warmup + min_samples and time.monotonic() > deadline:
            break
        if before is not None:
            await before()
        started = time.perf_counter()
        response = await request()
        elapsed = time.perf_counter() - started
        if response.status_code >= 400:
            errors += 1
        if i >= warmup:
            seconds.append(elapsed)
    result = timing(key, seconds, errors)
    say(f"  {key}: n={result.samples} p50={result.p50_ms:.1f} ms p95={result.p95_ms:.1f} ms")
    return result


async def measure_paths(probe: Probe, args: Args) -> list[Timing]:
    owner, rng = probe.owner, probe.rng
    working = list(probe.filled.working)

    def timed(
        key: str,
        request: Callable[[], Awaitable[httpx.Response]],
        before: Callable[[], Awaitable[object]] | None = None,
    ) -> Awaitable[Timing]:
        return sample(
            key,
            request,
            samples=args.samples,
            budget=args.budget,
            min_samples=args.min_samples,
            before=before,
        )

    return [
        await timed("list", lambda: owner.get("/tickets", params={"limit": 50})),
        await timed(
            "filtered",
            lambda: owner.get(
                "/tickets", params={"status": "open", "assignee": "unassigned", "limit": 50}
            ),
        ),
        await timed("counts", lambda: owner.get("/tickets/counts"), before=probe.toggle),
        await timed("dashboard", lambda: owner.get("/dashboard"), before=probe.toggle),
        await timed("detail", lambda: owner.get(f"/tickets/{rng.choice(probe.filled.ticket_ids)}")),
        await timed("patch", probe.toggle),
        await timed(
            "reply",
            lambda: owner.post(
                f"/tickets/{rng.choice(working)}/messages",
                json={"text": "Thanks for waiting, this is sorted now."},
            ),
        ),
    ]


async def measure_creates(probe: Probe, args: Args) -> tuple[int, float, int]:
    """`--creators` clients opening tickets (with a contact and a first message) for
    `--create-seconds`: how many were created, in how long, and how many failed."""
    created = errors = 0
    deadline = time.monotonic() + args.create_seconds

    async def creator(i: int) -> None:
        nonlocal created, errors
        n = 0
        while time.monotonic() < deadline:
            n += 1
            response = await probe.owner.post(
                "/tickets",
                json={
                    "subject": f"New question {i}-{n}",
                    "contact": {"email": f"new{i}-{n}@example.com"},
                    "message": {"text": "Hello, my order has not arrived yet."},
                },
            )
            if response.status_code == 201:
                created += 1
            else:
                errors += 1

    started = time.monotonic()
    await asyncio.gather(*(creator(i) for i in range(args.creators)))
    elapsed = time.monotonic() - started
    say(f"  creates: {created} in {elapsed:.1f} s ({created / elapsed:.1f}/s), {errors} failed")
    return created, elapsed, errors


def load_average() -> str:
    """The machine's 1-minute load average: other work on the machine shows in the figures."""
    return Path("/proc/loadavg").read_text().split()[0]


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        return [int(p) for p in path.read_text().split()]
    except OSError:
        return []


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _kib(pid: int, field: str, source: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/{source}").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def store_memory() -> tuple[float, float, int]:
    """PSS of FerretDB and every PostgreSQL process (PSS, not RSS: PostgreSQL's processes
    share its buffers, which RSS would count once per process), FerretDB's RSS, and how many
    PostgreSQL processes there were."""
    pss = ferret_rss = 0
    postgres = 0
    frontier = _children(os.getpid())
    while frontier:
        pid = frontier.pop()
        cmd = _cmdline(pid)
        frontier += _children(pid)
        if "redis-server" in cmd:
            continue
        if "/ferretdb" in cmd.split(" ")[0]:
            ferret_rss += _kib(pid, "VmRSS", "status")
        elif "postgres" in cmd.split(" ")[0]:
            postgres += 1
        else:
            continue
        pss += _kib(pid, "Pss", "smaps_rollup")
    return pss / 1024, ferret_rss / 1024, postgres


async def one_size(backend: str, n: int, args: Args, tmp: Path) -> SizeResult:
    from app.devservices import local_services
    from app.documents import Workspace
    from app.main import create_app
    from app.settings import Settings
    from tests.apiclient import invite_and_join, sign_up

    say(f"{backend}, {n} tickets (load average {load_average()})")
    with local_services(ROOT / "var", data_dir=tmp, store_backend=backend) as services:
        assert services.mongodb_url
        assert services.redis_url
        settings = Settings(
            mongodb_url=services.mongodb_url,
            mongodb_db="bench_store",
            redis_url=services.redis_url,
            secret_key=secrets.token_hex(32),
            var_dir=tmp,
        )
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            owner = await sign_up(app, slug="bench-store", name="Olivia Owner")
            agents = [(owner.user_id, "Olivia Owner")]
            clients = []
            for name in AGENT_NAMES:
                client = await invite_and_join(owner, app, name)
                clients.append(client)
                agents.append((client.user_id, name))
            workspace = await Workspace.find_one(Workspace.slug == "bench-store")
            assert workspace is not None
            assert workspace.id is not None
            started = time.monotonic()
            filled = await fill(workspace.id, agents, n)
            fill_seconds = time.monotonic() - started
            say(
                f"  filled {filled.tickets} tickets, {filled.messages} messages, "
                f"{filled.contacts} contacts in {fill_seconds:.1f} s"
            )
            probe = Probe(owner, filled, random.Random(11))
            try:
                timings = await measure_paths(probe, args)
                creates, create_seconds, create_errors = await measure_creates(probe, args)
                pss, ferret_rss, postgres = store_memory()
                load = load_average()
            finally:
                for client in [owner, *clients]:
                    await client.aclose()
    return SizeResult(
        backend=backend,
        tickets=filled.tickets,
        messages=filled.messages,
        contacts=filled.contacts,
        fill_seconds=fill_seconds,
        timings=timings,
        creates=creates,
        create_seconds=create_seconds,
        create_errors=create_errors,
        store_pss_mib=pss,
        ferretdb_rss_mib=ferret_rss,
        postgres_processes=postgres,
        load_average=load,
    )


async def measure(args: Args) -> list[SizeResult]:
    results: list[SizeResult] = []
    for n in args.tickets:
        for backend in args.backends:
            with tempfile.TemporaryDirectory(prefix=f"tandem-store-{backend}-") as tmp:
                results.append(await one_size(backend, n, args, Path(tmp)))
    return results


class Args(argparse.Namespace):
    tickets: list[int]
    backends: list[str]
    samples: int
    min_samples: int
    budget: float
    creators: int
    create_seconds: float
    render_only: bool
    note: list[str]
    output: Path
    result: Path


def parse(argv: list[str] | None = None) -> Args:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--tickets",
        type=lambda s: [int(n) for n in s.split(",")],
        default=[2000, 10000],
        help="workspace sizes, comma-separated",
    )
    parser.add_argument(
        "--backends", type=lambda s: s.split(","), default=list(BACKENDS), help="sqlite,postgresql"
    )
    parser.add_argument("--samples", type=int, default=40, help="timed requests per path, at most")
    parser.add_argument("--budget", type=float, default=15.0, help="seconds per path, about")
    parser.add_argument(
        "--min-samples", type=int, default=3, help="timed requests per path, at least"
    )
    parser.add_argument("--creators", type=int, default=8, help="concurrent ticket creators")
    parser.add_argument("--create-seconds", type=float, default=15.0)
    parser.add_argument("--render-only", action="store_true", help="measure nothing")
    parser.add_argument(
        "--note",
        action="append",
        default=[],
        help="a note for the section, kept with the run's figures (repeatable)",
    )
    parser.add_argument("--output", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument(
        "--result", type=Path, default=ROOT / "var" / "bench" / "store" / "last.json"
    )
    args = parser.parse_args(argv, namespace=Args())
    if unknown := set(args.backends) - set(BACKENDS):
        parser.error(f"unknown backends: {', '.join(sorted(unknown))}")
    return args


def command_of(args: Args) -> str:
    """The command that repeats this measurement (where the output goes does not matter)."""
    return (
        ".venv/bin/python -m bench.store.run"
        f" --tickets {','.join(map(str, args.tickets))} --backends {','.join(args.backends)}"
        f" --samples {args.samples} --min-samples {args.min_samples} --budget {args.budget:g}"
        f" --creators {args.creators} --create-seconds {args.create_seconds:g}"
    )


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    if args.render_only:
        run = load(args.result)
        if args.note:
            run.notes = args.note
            save(args.result, run)
    else:
        box = machine()
        results = asyncio.run(measure(args))
        run = Run(
            command=command_of(args),
            machine=box,
            settings={
                "samples": str(args.samples),
                "budget": f"{args.budget:g}",
                "min_samples": str(args.min_samples),
                "creators": str(args.creators),
                "create_seconds": f"{args.create_seconds:g}",
            },
            results=results,
            notes=args.note,
        )
        save(args.result, run)
    section = render(run)
    args.output.write_text(replace_section(args.output, section, PREAMBLE))
    print(section)
    say(f"wrote its section of {args.output}")


if __name__ == "__main__":
    main()
