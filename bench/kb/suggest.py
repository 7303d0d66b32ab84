"""Live suggestions: how long after a customer's message its ranked answers reach an agent.

    .venv/bin/python -m bench.kb.suggest [--messages 200] [--burst 200] [--burst-size 10]
                                         [--visitors 20] [--pause 0.1] [--restarts 3]

Starts a local FerretDB and Redis, one Tandem uvicorn process and one `tandem worker` (sharing
MONGODB_DB and TANDEM_SECRET_KEY), signs up a workspace, writes the 39 articles of
bench/kb/retrieval_set.json as published articles and a handful of canned responses through the
API, and waits until `GET /kb/answers` finds every article by its title (the worker embedded
them). One agent socket subscribes to `inbox`; widget visitors then write the set's queries:

- cold: the first message after the articles were embedded (the worker's first suggestion);
- one at a time: `--messages` messages, each after the last one's suggestions (or a timeout),
  with `--pause` seconds between them;
- bursts: `--burst` messages, `--burst-size` at once from as many visitors;
- restarted: `--restarts` times, the worker is stopped and started again and one message sent
  as soon as it runs (a fresh process: the model, the workspace's articles and the canned
  responses are all loaded on that first suggestion).

For each message the agent's socket records when `message.created` and `ai.suggestions`
(`data.message_id` = the message) arrive; the delay between the two is what the worker adds.
The floor is the time from the start of the visitor's POST to `message.created` on the socket.
Prints a markdown section and puts it in its place in --output (BENCHMARKS.md); the servers'
logs and every message's timings stay in --logs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import secrets
import shutil
import sys
import tempfile
import time
import uuid
from collections import deque
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from app.devservices import local_services
from bench.actions.report import PREAMBLE
from bench.fanout.processes import ROOT, Server, log_notes, start_tandem
from bench.fanout.report import machine
from bench.fanout.stats import percentile
from bench.ingest.cpu import MACHINE, WALL, CpuWatch, used
from bench.sections import replace_section
from realtime.client import TandemClient
from realtime.events import AiSuggestions, Direction, Event, MessageCreated
from tests.servers import start_worker, tandem_env

HEADING = "## Live suggestions: from a customer's message to the agents (bench/kb/suggest)"
SET = Path(__file__).with_name("retrieval_set.json")
OUT = ROOT / "var" / "bench" / "suggest"
DB = "bench_suggest"
SITE = "https://shop.example"
PREFIX = "/api/v1"
AIM_P95_MS = 150.0
WAIT_SECONDS = 10.0  # longest wait for one message's (or one burst's) events
EMBED_SECONDS = 300.0  # longest wait for the worker to embed the articles
WORKER_START_SECONDS = 60.0
SETTLE_SECONDS = 1.0
PER_MINUTE = 18  # a visitor's messages per 61 s: under the widget's 20 a minute
NOISY = 0.1  # share of a core used by other processes past which a run is flagged
WORKER = "worker"
TANDEM = "Tandem"

CANNED = [
    {
        "shortcut": "tracking",
        "title": "Where is my order",
        "body": "You can follow your parcel with the tracking link in your shipping "
        "confirmation email, or under Account → Orders → Track package.",
    },
    {
        "shortcut": "refund",
        "title": "Refund on its way",
        "body": "Your refund has been issued; it takes 5 to 10 business days to show on your "
        "statement, depending on your bank.",
    },
    {
        "shortcut": "photo",
        "title": "Ask for a photo",
        "body": "Could you send us a photo of the damaged item and the box it came in? We will "
        "send a replacement right away.",
    },
    {
        "shortcut": "return",
        "title": "Start a return",
        "body": "You can return anything within 30 days: open Order history, choose the item "
        "and print the prepaid return label.",
    },
    {
        "shortcut": "reset",
        "title": "Password reset link",
        "body": "I have sent you a link to choose a new password; it is valid for one hour. "
        "Please check your spam folder too.",
    },
    {
        "shortcut": "plus",
        "title": "Cancel Northwind Plus",
        "body": "You can end your Northwind Plus membership any time under Account → "
        "Membership; you keep the benefits until the end of the paid period.",
    },
]


def say(message: str) -> None:
    print(f"[suggest] {time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


# ---- what one message went through ----------------------------------------------------------


@dataclass
class Timing:
    run: str
    text: str
    posted: float  # perf_counter at the start of the visitor's POST
    answered: float | None = None
    message_id: str | None = None
    created: float | None = None  # `message.created` on the agent's socket
    suggested: float | None = None  # `ai.suggestions` for it on the agent's socket
    items: int = 0
    error: str | None = None

    @property
    def delay_ms(self) -> float | None:
        if self.created is None or self.suggested is None:
            return None
        return (self.suggested - self.created) * 1000

    @property
    def floor_ms(self) -> float | None:
        return None if self.created is None else (self.created - self.posted) * 1000


@dataclass
class Phase:
    label: str
    timings: list[Timing]
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds per program
    wall: float = 0.0
    machine_cpu: float = 0.0
    client_cpu: float = 0.0  # this benchmark's own process: the visitors and the socket

    def delays(self) -> list[float]:
        return sorted(d for t in self.timings if (d := t.delay_ms) is not None)

    def floors(self) -> list[float]:
        return sorted(f for t in self.timings if (f := t.floor_ms) is not None)

    def answers(self) -> list[float]:
        return sorted(
            (t.answered - t.posted) * 1000 for t in self.timings if t.answered and not t.error
        )


class Inbox:
    """What the agent's socket received: per message, when it was created and suggested for."""

    def __init__(self) -> None:
        self.created: dict[str, float] = {}
        self.suggested: dict[str, tuple[float, int]] = {}
        self.changed = asyncio.Event()

    async def on_event(self, event: Event) -> None:
        now = time.perf_counter()
        if isinstance(event, MessageCreated) and event.data.message.direction is Direction.IN:
            self.created.setdefault(event.data.message.id, now)
        elif isinstance(event, AiSuggestions):
            self.suggested.setdefault(event.data.message_id, (now, len(event.data.items)))
        self.changed.set()

    def done(self, timing: Timing) -> bool:
        if timing.error or timing.message_id is None:
            return True
        return timing.message_id in self.created and timing.message_id in self.suggested

    async def wait(self, timings: Sequence[Timing], seconds: float) -> None:
        deadline = time.perf_counter() + seconds
        while not all(self.done(t) for t in timings):
            left = deadline - time.perf_counter()
            if left <= 0:
                break
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), left)
            except TimeoutError:
                break

    def fill(self, timing: Timing) -> None:
        if timing.message_id is None:
            return
        timing.created = self.created.get(timing.message_id)
        if timing.message_id in self.suggested:
            timing.suggested, timing.items = self.suggested[timing.message_id]


class Visitor:
    """A widget visitor on the shop's site, writing into its one conversation."""

    def __init__(self, base: str) -> None:
        self.http = httpx.AsyncClient(
            base_url=base + PREFIX + "/widget", headers={"Origin": SITE}, timeout=30
        )
        self.sent: deque[float] = deque()

    async def start(self, workspace: str) -> None:
        answer = await self.http.post("/session", json={"workspace": workspace})
        answer.raise_for_status()
        self.http.headers["Authorization"] = "Bearer " + answer.json()["visitor_token"]

    async def room(self) -> None:
        """Wait until one more message stays within the widget's per-visitor rate."""
        while self.sent and self.sent[0] < time.monotonic() - 61:
            self.sent.popleft()
        if len(self.sent) >= PER_MINUTE:
            await asyncio.sleep(self.sent[0] + 61 - time.monotonic())
            self.sent.popleft()

    async def send(self, run: str, text: str) -> Timing:
        self.sent.append(time.monotonic())
        timing = Timing(run, text, time.perf_counter())
        try:
            answer = await self.http.post(
                "/messages", json={"client_id": uuid.uuid4().hex, "text": text}
            )
        except httpx.HTTPError as exc:
            timing.error = f"{type(exc).__name__}: {exc}"[:160]
            return timing
        timing.answered = time.perf_counter()
        if answer.status_code != 201:
            timing.error = f"{answer.status_code} {answer.text[:120]}"
        else:
            timing.message_id = str(answer.json()["id"])
        return timing


# ---- the workspace ---------------------------------------------------------------------------


async def signed_up(base: str) -> tuple[httpx.AsyncClient, str]:
    owner = httpx.AsyncClient(base_url=base + PREFIX, timeout=30)
    slug = "suggest-" + secrets.token_hex(4)
    answer = await owner.post(
        "/auth/signup",
        json={
            "workspace_name": "Northwind Goods",
            "workspace_slug": slug,
            "name": "Bench Owner",
            "email": f"owner@{slug}.example",
            "password": secrets.token_urlsafe(16),
        },
    )
    answer.raise_for_status()
    owner.headers["X-CSRF-Token"] = answer.json()["csrf_token"]
    changed = await owner.patch("/workspace", json={"allowed_origins": [SITE]})
    changed.raise_for_status()
    return owner, str(changed.json()["id"])


async def written(owner: httpx.AsyncClient, articles: list[dict[str, Any]]) -> None:
    for article in articles:
        body = {"title": article["title"], "body": article["body"], "status": "published"}
        answer = await owner.post("/kb/articles", json=body)
        if answer.status_code != 201:
            raise RuntimeError(f"article {article['id']}: {answer.status_code} {answer.text}")
    for canned in CANNED:
        answer = await owner.post("/canned-responses", json=canned)
        if answer.status_code != 201:
            raise RuntimeError(f"canned {canned['shortcut']}: {answer.status_code} {answer.text}")


async def embedded(owner: httpx.AsyncClient, articles: list[dict[str, Any]]) -> float:
    """Wait until every article is found by its own title; the seconds it took."""
    start = time.monotonic()
    missing = [a["title"] for a in articles]
    while missing:
        if time.monotonic() - start > EMBED_SECONDS:
            raise RuntimeError(f"{len(missing)} articles not embedded after {EMBED_SECONDS:g}s")
        still = []
        for title in missing:
            answer = await owner.get("/kb/answers", params={"q": title})
            answer.raise_for_status()
            if title not in [item["title"] for item in answer.json()["items"]]:
                still.append(title)
        missing = still
        if missing:
            await asyncio.sleep(0.5)
    return time.monotonic() - start


# ---- the worker ------------------------------------------------------------------------------


class Worker:
    """The `tandem worker` process, restartable; its log keeps every run's lines."""

    def __init__(self, store_env: dict[str, str], logs: Path, watch: CpuWatch) -> None:
        self.env = store_env
        self.log = logs / "worker.log"
        self.watch = watch
        self.server: Server | None = None
        self.starts = 0

    def start(self) -> None:
        proc = start_worker(
            mongodb_url=self.env["MONGODB_URL"],
            redis_url=self.env["REDIS_URL"],
            db_name=DB,
            log_path=self.log,
        )
        self.server = Server(WORKER, 0, proc, self.log)
        self.watch.name(proc.pid, WORKER)
        self.starts += 1

    async def running(self) -> float:
        """Wait until the worker has connected and consumes jobs; the seconds since start."""
        assert self.server is not None
        start = time.monotonic()
        while time.monotonic() - start < WORKER_START_SECONDS:
            if self.server.proc.poll() is not None:
                raise RuntimeError(f"the worker exited; see {self.log}")
            lines = self.log.read_text(errors="replace").count("worker running as")
            if lines >= self.starts:
                return time.monotonic() - start
            await asyncio.sleep(0.05)
        raise RuntimeError(f"the worker did not start in {WORKER_START_SECONDS:g}s")

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()


# ---- the runs --------------------------------------------------------------------------------


class Bench:
    def __init__(
        self,
        args: argparse.Namespace,
        inbox: Inbox,
        visitors: list[Visitor],
        queries: list[str],
        watch: CpuWatch,
    ) -> None:
        self.args = args
        self.inbox = inbox
        self.visitors = visitors
        self.queries = queries
        self.watch = watch
        self.next_text = 0
        self.next_visitor = 0

    def text(self) -> str:
        text = self.queries[self.next_text % len(self.queries)]
        self.next_text += 1
        return text

    def visitor(self) -> Visitor:
        visitor = self.visitors[self.next_visitor % len(self.visitors)]
        self.next_visitor += 1
        return visitor

    async def one(self, run: str) -> Timing:
        visitor = self.visitor()
        await visitor.room()
        timing = await visitor.send(run, self.text())
        await self.inbox.wait([timing], WAIT_SECONDS)
        return timing

    async def burst(self, run: str, size: int) -> list[Timing]:
        chosen = [self.visitor() for _ in range(size)]
        for visitor in chosen:
            await visitor.room()
        texts = [self.text() for _ in chosen]
        timings = await asyncio.gather(
            *(v.send(run, t) for v, t in zip(chosen, texts, strict=True))
        )
        await self.inbox.wait(timings, WAIT_SECONDS)
        return list(timings)

    async def phase(self, label: str, run: str, count: int, size: int) -> Phase:
        say(f"{label}: {count} messages")
        before = self.watch.snapshot()
        before["client"] = time.process_time()
        timings: list[Timing] = []
        while len(timings) < count:
            if size <= 1:
                timings.append(await self.one(run))
            else:
                timings += await self.burst(run, min(size, count - len(timings)))
            if len(timings) < count:
                await asyncio.sleep(self.args.pause if size <= 1 else self.args.burst_pause)
        await self.inbox.wait(timings, WAIT_SECONDS)
        return self.finished(Phase(label, timings), before)

    def finished(self, phase: Phase, before: dict[str, float]) -> Phase:
        phase.client_cpu = time.process_time() - before.pop("client", time.process_time())
        spent = used(before, self.watch.snapshot())
        phase.wall = spent.pop(WALL)
        phase.machine_cpu = spent.pop(MACHINE)
        phase.cpu = spent
        for timing in phase.timings:
            self.inbox.fill(timing)
        got = len(phase.delays())
        say(f"{phase.label}: {got}/{len(phase.timings)} with suggestions")
        return phase


async def measure(args: argparse.Namespace, base: str, worker: Worker, watch: CpuWatch) -> dict:
    data = json.loads(SET.read_text())
    articles: list[dict[str, Any]] = data["articles"]
    queries = [q["q"] for q in data["queries"]]
    owner, workspace = await signed_up(base)
    found: dict[str, Any] = {"articles": len(articles), "canned": len(CANNED)}
    inbox = Inbox()
    visitors = [Visitor(base) for _ in range(args.visitors)]
    try:
        say(f"writing {len(articles)} articles and {len(CANNED)} canned responses")
        await written(owner, articles)
        found["embed_seconds"] = await embedded(owner, articles)
        say(f"every article found by its title after {found['embed_seconds']:.1f}s")
        for visitor in visitors:
            await visitor.start(workspace)
        token = (await owner.post("/realtime/token")).json()["token"]
        live = base.replace("http://", "ws://") + "/live"
        async with TandemClient(live, token=token, topics=["inbox"], on_event=inbox.on_event):
            await asyncio.sleep(SETTLE_SECONDS)
            bench = Bench(args, inbox, visitors, queries, watch)
            phases = [await bench.phase("cold: the worker's first suggestion", "cold", 1, 1)]
            phases.append(await bench.phase("one at a time", "serial", args.messages, 1))
            if args.burst:
                label = f"bursts of {args.burst_size}"
                phases.append(await bench.phase(label, "burst", args.burst, args.burst_size))
            restarted: list[Timing] = []
            starts: list[float] = []
            before = watch.snapshot()
            before["client"] = time.process_time()
            for _ in range(args.restarts):
                worker.stop()
                worker.start()
                starts.append(await worker.running())
                await asyncio.sleep(SETTLE_SECONDS)
                restarted.append(await bench.one("restart"))
                await asyncio.sleep(args.pause)
            if args.restarts:
                label = "cold: first message after a worker restart"
                phases.append(bench.finished(Phase(label, restarted), before))
            found["worker_start_seconds"] = starts
            found["phases"] = phases
            found["late"] = await late_suggestions(inbox, phases)
    finally:
        for visitor in visitors:
            await visitor.http.aclose()
        await owner.aclose()
    return found


async def late_suggestions(inbox: Inbox, phases: list[Phase]) -> int:
    """Suggestions that came after their message's wait ran out (counted, not timed)."""
    await asyncio.sleep(2.0)
    return sum(
        1
        for p in phases
        for t in p.timings
        if t.suggested is None and t.message_id in inbox.suggested
    )


# ---- the report ------------------------------------------------------------------------------


def _ms(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.1f}"


def _ptile(values: list[float], p: float) -> str:
    return _ms(percentile(values, p))


def row(phase: Phase) -> str:
    d, f = phase.delays(), phase.floors()
    sent = len(phase.timings)
    cells = [
        phase.label,
        str(sent),
        f"{len(d)} / {sent}",
        _ptile(d, 50),
        _ptile(d, 95),
        _ptile(d, 99),
        _ms(d[-1] if d else math.nan),
        f"{_ptile(f, 50)} / {_ptile(f, 95)} / {_ms(f[-1] if f else math.nan)}",
    ]
    return "| " + " | ".join(cells) + " |"


def cpu_note(phase: Phase) -> str:
    n = max(1, len(phase.timings))
    parts = [
        f"{label} {seconds / n * 1000:.1f} ms ({seconds / phase.wall * 100:.0f}% of a core)"
        for label, seconds in sorted(phase.cpu.items(), key=lambda kv: -kv[1])
        if seconds > 0
    ]
    client = phase.client_cpu
    parts.append(
        f"this benchmark's client {client / n * 1000:.1f} ms ({client / phase.wall * 100:.0f}%)"
    )
    return f"CPU per message, {phase.label}: " + ", ".join(parts) + "."


def others(phase: Phase) -> float:
    """Share of a core used by processes outside this benchmark during the phase."""
    ours = sum(phase.cpu.values()) + phase.client_cpu
    return max(0.0, (phase.machine_cpu - ours) / phase.wall)


def render(
    args: argparse.Namespace,
    box: dict[str, str],
    found: dict[str, Any],
    notes: list[str],
) -> str:
    phases: list[Phase] = found["phases"]
    lines = [
        HEADING,
        "",
        f"Measured {box['date']} with `{command_line(args)}`.",
        "",
        f"A widget visitor's message is stored by the Tandem process, which pushes "
        f"`message.created` to the agents and queues an `ai.suggest` job; a `tandem worker` "
        f"ranks the workspace's {found['articles']} published articles (bench/kb/"
        f"retrieval_set.json) and {found['canned']} canned responses for the message's text "
        "with the in-process ONNX model and publishes `ai.suggestions` on the ticket. One agent "
        "socket, subscribed to `inbox`, records when each event arrives. Delay = `ai.suggestions` "
        f"arrival minus `message.created` arrival. Aim: p95 ≤ {AIM_P95_MS:g} ms.",
        "",
        "| machine | |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in box.items() if k != "date"),
        "",
        "| run | messages | with suggestions | delay p50 ms | p95 ms | p99 ms | max ms "
        "| floor: POST → `message.created` p50 / p95 / max ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        *(row(p) for p in phases),
        "",
        *(f"- {note}" for note in notes),
    ]
    return "\n".join(lines) + "\n"


def build_notes(
    args: argparse.Namespace,
    box: dict[str, str],
    found: dict[str, Any],
    servers: list[Server],
    loads: tuple[tuple[float, float, float], tuple[float, float, float]],
) -> list[str]:
    phases: list[Phase] = found["phases"]
    by = {p.label: p for p in phases}
    notes = []
    verdicts = []
    for p in phases:
        d = p.delays()
        if len(d) >= 20:
            p95 = percentile(d, 95)
            verdicts.append(
                f"{p.label}: p95 {p95:.1f} ms, "
                + ("met" if p95 <= AIM_P95_MS else f"not met ({p95 / AIM_P95_MS:.1f}x the aim)")
            )
    notes.append(f"Aim p95 ≤ {AIM_P95_MS:g} ms: " + "; ".join(verdicts) + ".")
    cold = [p for p in phases if p.label.startswith("cold")]
    for p in cold:
        values = ", ".join(_ms(t.delay_ms or math.nan) for t in p.timings)
        floors = ", ".join(_ms(t.floor_ms or math.nan) for t in p.timings)
        notes.append(f"{p.label}: delay {values} ms (floor {floors} ms).")
    notes.append(
        f"Before the first message the worker embedded the {found['articles']} articles; every "
        f"one was found by its title through `GET /kb/answers` {found['embed_seconds']:.1f} s "
        "after the last was written. The first message is the worker's first suggestion: "
        "the model is loaded (it embedded the articles) but the workspace's passages and the "
        "canned responses' vectors are not yet in its memory."
    )
    if found["worker_start_seconds"]:
        starts = ", ".join(f"{s:.1f}" for s in found["worker_start_seconds"])
        notes.append(
            "After a restart the message is sent 1 s after the new worker logs that it runs "
            f"({starts} s after it was started), so the delay includes loading the model, the "
            "workspace's articles and embedding the canned responses, not the process start."
        )
    notes.append(
        f"One at a time: each message from the next of {args.visitors} visitors (round robin, "
        "the set's queries in order, in 10 languages), sent after the previous message's "
        f"suggestions arrived, then a {args.pause:g} s pause. Bursts: {args.burst_size} "
        f"visitors post at once, the next burst {args.burst_pause:g} s after the last "
        "suggestion of the one before. Each visitor writes into its own open conversation; "
        "the first message of each opens the ticket. No visitor goes over the widget's 20 "
        f"messages a minute. A message waits at most {WAIT_SECONDS:g} s for its suggestions."
    )
    serial = by.get("one at a time")
    if serial is not None:
        answers = serial.answers()
        items = [t.items for t in serial.timings if t.suggested is not None]
        notes.append(
            f"One at a time, the visitor's POST is answered in {_ptile(answers, 50)} ms p50 "
            f"({_ptile(answers, 95)} ms p95); each `ai.suggestions` offered "
            f"{min(items, default=0)} to {max(items, default=0)} items (at most 3 articles and 2 "
            "canned responses)."
        )
    missing = [t for p in phases for t in p.timings if t.delay_ms is None]
    errors = [t.error for t in missing if t.error]
    if missing:
        notes.append(
            f"{len(missing)} messages without a timed suggestion"
            + (f" ({len(errors)} failed to post, e.g. `{errors[0]}`)" if errors else "")
            + (f"; {found['late']} of them got one later" if found["late"] else "")
            + "."
        )
    else:
        notes.append("Every message got its suggestions.")
    for p in phases:
        if p.cpu and not p.label.startswith("cold"):
            notes.append(cpu_note(p))
            if others(p) > NOISY:
                notes.append(
                    f"{p.label}: **the machine was not quiet**: processes outside this "
                    f"benchmark used {others(p) * 100:.0f}% of a core during the run, so its "
                    "delays are higher than this machine gives Tandem alone."
                )
    notes.append(
        f"Everything shares this machine's {box['cores (nproc)']} cores: this benchmark's "
        "client (the visitors and the agent's socket, one asyncio loop), Tandem's process, the "
        "worker (the model runs on one onnxruntime thread), FerretDB with its PostgreSQL, and "
        "Redis. Times are taken in the client's process, on one clock."
    )
    notes.append(
        "Load average (1, 5, 15 min) at the start: "
        + ", ".join(f"{v:.2f}" for v in loads[0])
        + "; at the end: "
        + ", ".join(f"{v:.2f}" for v in loads[1])
        + "."
    )
    notes += log_notes(
        servers, "Neither Tandem's process nor the worker logged a warning or an error."
    )
    return notes


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=200, help="messages sent one at a time")
    parser.add_argument("--burst", type=int, default=200, help="messages sent in bursts")
    parser.add_argument("--burst-size", type=int, default=10, help="messages of one burst")
    parser.add_argument("--visitors", type=int, default=20, help="widget visitors writing")
    parser.add_argument("--pause", type=float, default=0.1, help="seconds between messages")
    parser.add_argument("--burst-pause", type=float, default=0.5, help="seconds between bursts")
    parser.add_argument("--restarts", type=int, default=3, help="worker restarts, one message each")
    parser.add_argument("--output", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument("--logs", type=Path, default=OUT / "logs")
    args = parser.parse_args(argv)
    if args.visitors < args.burst_size:
        parser.error("--visitors must be at least --burst-size")
    return args


def command_line(args: argparse.Namespace) -> str:
    return (
        f".venv/bin/python -m bench.kb.suggest --messages {args.messages} --burst {args.burst} "
        f"--burst-size {args.burst_size} --visitors {args.visitors} --pause {args.pause:g} "
        f"--burst-pause {args.burst_pause:g} --restarts {args.restarts}"
    )


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    shutil.rmtree(args.logs, ignore_errors=True)
    args.logs.mkdir(parents=True)
    box = machine()
    load_start = os.getloadavg()
    watch = CpuWatch()
    servers: list[Server] = []
    with (
        tempfile.TemporaryDirectory(prefix="tandem-suggest-") as tmp,
        local_services(ROOT / "var", persist=False, data_dir=Path(tmp)) as store,
    ):
        assert store.mongodb_url
        assert store.redis_url
        # The same store, Redis, database and secret for the web process and the worker.
        env = tandem_env(store.mongodb_url, store.redis_url, DB, TANDEM_LOG_LEVEL="warning")
        worker = Worker(env, args.logs, watch)
        try:
            say("starting Tandem and the worker")
            tandem = start_tandem("tandem", env, args.logs)
            servers.append(tandem)
            watch.name(tandem.proc.pid, TANDEM)
            worker.start()
            found = asyncio.run(run(args, tandem.http_url, worker, watch))
        finally:
            worker.stop()
            for server in servers:
                server.stop()
        if worker.server is not None:
            servers.append(worker.server)
    notes = build_notes(args, box, found, servers, (load_start, os.getloadavg()))
    text = render(args, box, found, notes)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    # Its own section of BENCHMARKS.md; the other benchmarks' sections stay as they are.
    args.output.write_text(replace_section(args.output, text, PREAMBLE))
    raw = {
        "command": command_line(args),
        "machine": box,
        "phases": [
            {
                "label": p.label,
                "cpu": p.cpu,
                "wall": p.wall,
                "timings": [asdict(t) for t in p.timings],
            }
            for p in found["phases"]
        ],
    }
    (args.logs / "timings.json").write_text(json.dumps(raw, indent=1))
    print(text)
    say(f"wrote {args.output}; logs in {args.logs}")


async def run(args: argparse.Namespace, base: str, worker: Worker, watch: CpuWatch) -> dict:
    await worker.running()
    return await measure(args, base, worker, watch)


if __name__ == "__main__":
    main()
