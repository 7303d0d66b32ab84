"""Timing Tandem's HTTP paths, each bounded by a sample count and a time budget.

Every metric takes at most `samples` timed requests or `seconds` of wall time, whichever comes
first (an unmeasured warm-up request counts against the time, not the samples, unless it
alone took a quarter of the time, in which case it is a sample); a request
already running when the budget ends is allowed to finish and is counted. So a path that takes
seconds at 100k tickets costs about one budget, not the sample count times its latency.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import os
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import msgspec

Op = Callable[[], Awaitable[httpx.Response]]
WARM_SHARE = 4  # a first request slower than 1/4 of the time budget is counted, not a warm-up


class Figure(msgspec.Struct):
    """One metric at one size: latencies in ms, or a rate for the create metric."""

    key: str
    samples: int = 0
    p50_ms: float | None = None
    p95_ms: float | None = None
    max_ms: float | None = None
    seconds: float = 0.0  # wall time the metric took, warm-up included
    cut_by_time: bool = False
    errors: int = 0
    first_error: str | None = None
    rate_per_s: float | None = None  # creates/s, for the create metric
    detail: str = ""  # e.g. hits on the first page of a search
    skipped: bool = False  # not run: the whole run's --max-minutes had passed
    # CPU each program spent per successful operation, in ms (the create metric): where a
    # create's time goes on this machine.
    cpu_ms: dict[str, float] = msgspec.field(default_factory=dict)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile: with 20 samples, p95 is the 19th smallest, a real sample."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 100))))
    return ordered[rank - 1]


def summarize(figure: Figure, latencies_ms: list[float]) -> Figure:
    figure.samples = len(latencies_ms)
    if latencies_ms:
        figure.p50_ms = statistics.median(latencies_ms)
        figure.p95_ms = percentile(latencies_ms, 95)
        figure.max_ms = max(latencies_ms)
    return figure


@dataclass
class Budget:
    samples: int
    seconds: float


async def _attempt(op: Op) -> str | None:
    """None when the request succeeded, else what went wrong (a timeout included)."""
    try:
        answer = await op()
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"[:200]
    return _problem(answer)


def _problem(answer: httpx.Response) -> str | None:
    if answer.is_success:
        return None
    return (
        f"{answer.request.method} {answer.request.url.path} → {answer.status_code}: "
        + (answer.text[:200])
    )


async def timed(
    key: str, op: Op, budget: Budget, prepare: Callable[[], Awaitable[None]] | None = None
) -> Figure:
    """`op` repeated within `budget`; `prepare` (untimed) runs before each request, e.g. a
    change that moves the workspace's seq so a memoised answer must be computed again."""
    figure = Figure(key)
    latencies: list[float] = []
    started = time.monotonic()
    deadline = started + budget.seconds
    warm = True
    # Bounded twice over: the sample count and the deadline; the attempt cap stops a path
    # that only fails from spinning until the deadline.
    for _ in range(budget.samples * 3 + 1):
        if len(latencies) >= budget.samples:
            break
        if time.monotonic() >= deadline:
            figure.cut_by_time = True
            break
        if prepare is not None:
            await prepare()
        t0 = time.perf_counter()
        problem = await _attempt(op)
        elapsed = (time.perf_counter() - t0) * 1000
        if problem is not None:
            figure.errors += 1
            figure.first_error = figure.first_error or problem
        elif warm and elapsed < budget.seconds * 1000 / WARM_SHARE:
            warm = False  # the first success warms caches and connections; not counted
        else:
            # A path so slow that its first request takes a good share of the budget is not
            # measuring a cold cache: that request counts, or the budget might hold none.
            warm = False
            latencies.append(elapsed)
    figure.seconds = time.monotonic() - started
    return summarize(figure, latencies)


async def create_rate(
    http: httpx.AsyncClient, creators: int, budget: Budget, tag: str
) -> tuple[Figure, int]:
    """`creators` concurrent loops creating tickets (each with a new contact by email and a
    first message) until `budget.samples` creates in all or `budget.seconds` pass; creates/s
    is the successful creates over the wall time from the first start to the last answer."""
    figure = Figure("create")
    latencies: list[float] = []
    numbers = itertools.count(1)
    started = time.monotonic()
    deadline = started + budget.seconds

    async def creator() -> None:
        for _ in range(budget.samples):  # a bound; the shared count usually stops it sooner
            n = next(numbers)
            if n > budget.samples or time.monotonic() >= deadline:
                return
            body = {
                "subject": f"Scale bench {tag} create {n}",
                "contact": {"email": f"new-{tag}-{n}@bench.example", "name": f"New {n}"},
                "message": {"text": "My order has not arrived yet."},
            }
            t0 = time.perf_counter()
            problem = await _attempt(functools.partial(http.post, "/tickets", json=body))
            elapsed = (time.perf_counter() - t0) * 1000
            if problem is None:
                latencies.append(elapsed)
            else:
                figure.errors += 1
                figure.first_error = figure.first_error or problem

    await asyncio.gather(*(creator() for _ in range(creators)))
    wall = time.monotonic() - started
    figure.seconds = wall
    figure.cut_by_time = time.monotonic() >= deadline
    summarize(figure, latencies)
    figure.rate_per_s = len(latencies) / wall if wall > 0 else None
    return figure, len(latencies)


@dataclass
class Memory:
    """Resident memory in KiB, now and at its peak (VmHWM) since the process started."""

    rss_kib: int = 0
    peak_kib: int = 0


def memory(pid: int) -> Memory:
    found = Memory()
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return found
    for line in lines:
        if line.startswith("VmRSS:"):
            found.rss_kib = int(line.split()[1])
        elif line.startswith("VmHWM:"):
            found.peak_kib = int(line.split()[1])
    return found


def _stat(pid: str) -> tuple[str, int, float] | None:
    """(command name, parent pid, CPU seconds used) of a process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    comm = stat[stat.index("(") + 1 : stat.rindex(")")]
    fields = stat[stat.rindex(")") + 2 :].split()
    ticks = int(fields[11]) + int(fields[12])  # utime + stime
    return comm, int(fields[1]), ticks / os.sysconf("SC_CLK_TCK")


def cpu_by_program(root: int) -> dict[str, float]:
    """CPU seconds used so far by the processes descending from `root`, by command name
    (Tandem's server, FerretDB, PostgreSQL's backends, Redis)."""
    stats = {
        int(p.name): s for p in Path("/proc").iterdir() if p.name.isdigit() and (s := _stat(p.name))
    }
    used: dict[str, float] = {}
    for pid, (comm, _, seconds) in stats.items():
        ancestor = pid
        while ancestor in stats and ancestor != root:
            ancestor = stats[ancestor][1]
        if ancestor == root and pid != root:
            used[comm] = used.get(comm, 0.0) + seconds
    return used


def child_pid(name: str, parent: int) -> int | None:
    """The pid of this process's child whose command name starts with `name`: how the bench
    finds the FerretDB and Redis that local_services started (it keeps no pid to hand out)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid …": comm may hold spaces, so split after its closing paren.
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        if ppid == parent and comm.startswith(name):
            return int(entry.name)
    return None
