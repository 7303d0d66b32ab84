"""The inbound benchmark in one command: webhooks in, live sockets out.

    .venv/bin/python -m bench.ingest.run [--messages 1000,3000] [--concurrency 32]

Starts a local FerretDB and Redis, Tandem's uvicorn process(es) (no `tandem worker`: inbound
messages are stored and published by the web process) and as many floor apps, signs up a
workspace and connects its email (Postmark) and WhatsApp channels through the API as its owner.
Then, for each point (messages x concurrency): the load generator (its own process) sends the
same requests to the floor app, then as many `GET /healthz` to Tandem, then opens the agent
sockets (another process) and posts the webhooks to Tandem. Prints a markdown section and
puts it in its place in --output (BENCHMARKS.md); the processes' logs and each run's raw
timings stay in --logs.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import msgspec

from app.devservices import local_services
from bench.actions.report import PREAMBLE
from bench.fanout.floor_server import raise_fd_limit
from bench.fanout.processes import ROOT, Server, _spawn, _wait, log_notes, start_tandem
from bench.fanout.report import machine
from bench.ingest.cpu import MACHINE, WALL, CpuWatch, used
from bench.ingest.loadgen import Sent
from bench.ingest.report import Ingest, Point, Requests, others, render
from bench.ingest.setup import prepare
from bench.ingest.sockets import Received
from bench.sections import replace_section

RUN_SECONDS = 600  # one load-generator run
WARMUP_MESSAGES = 200
SETTLE_SECONDS = 1.0
LABELS = {"floor": "floor", "healthz": "Tandem", "tandem": "Tandem"}
NOISY = 0.1  # share of a core used by other processes past which a run is flagged
OUT = ROOT / "var" / "bench" / "ingest"


def say(message: str) -> None:
    print(f"[ingest] {time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


def start_floor(name: str, log_dir: Path) -> Server:
    argv = [sys.executable, "-m", "uvicorn", "bench.ingest.floor_app:app"]
    argv += ["--host", "127.0.0.1", "--log-level", "warning"]
    server = _spawn(name, argv, dict(os.environ), log_dir)
    _wait(server, lambda: _answers(server))
    return server


def _answers(server: Server) -> bool:
    return httpx.get(server.http_url + "/", timeout=1).status_code == 200


class Runner:
    def __init__(self, args: argparse.Namespace, target: Path, watch: CpuWatch) -> None:
        self.args = args
        self.target = target
        self.watch = watch
        self.runs = 0

    def loadgen(
        self, mode: str, run: str, messages: int, concurrency: int, urls: list[str] | None = None
    ) -> Sent:
        self.runs += 1
        name = f"{self.runs:02d}-{mode}-{run}"
        result = self.args.logs / f"loadgen-{name}.json"
        argv = [sys.executable, "-m", "bench.ingest.loadgen", mode, "--target", str(self.target)]
        argv += ["--run", run, "--messages", str(messages), "--concurrency", str(concurrency)]
        argv += ["--customers", str(self.args.customers), "--result", str(result)]
        if mode != "healthz":
            argv += ["--rate", str(self.args.rate)]
        if urls:
            argv += ["--urls", ",".join(urls)]
        log = self.args.logs / f"loadgen-{name}.log"
        with log.open("wb") as out:
            code = subprocess.run(
                argv, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, timeout=RUN_SECONDS
            ).returncode
        if code != 0 or not result.exists():
            tail = log.read_text(errors="replace").strip().splitlines()[-3:]
            raise RuntimeError(f"load generator exit {code}: {' / '.join(tail)[:400]} ({log})")
        return msgspec.json.decode(result.read_bytes(), type=Sent)

    def requests(
        self, mode: str, run: str, messages: int, concurrency: int, servers: list[Server]
    ) -> Requests:
        say(f"{mode}: {messages} requests, {concurrency} concurrent")
        urls = [s.http_url for s in servers]
        before = self.watch.snapshot()
        sent = self.loadgen(mode, run, messages, concurrency, urls)
        spent = used(before, self.watch.snapshot())
        return Requests.of(sent, spent.get(LABELS[mode], 0.0))

    def ingest(self, run: str, messages: int, concurrency: int) -> Ingest:
        say(f"tandem: {messages} webhooks, {concurrency} concurrent, {self.args.sockets} sockets")
        result = self.args.logs / f"sockets-{run}.json"
        argv = [sys.executable, "-m", "bench.ingest.sockets", "--target", str(self.target)]
        argv += ["--run", run, "--sockets", str(self.args.sockets), "--result", str(result)]
        log = (self.args.logs / f"sockets-{run}.log").open("wb")
        readers = subprocess.Popen(
            argv, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True
        )
        assert readers.stdin is not None
        assert readers.stdout is not None
        try:
            ready = json.loads(readers.stdout.readline() or '{"ready": 0}')
            if ready["ready"] != self.args.sockets:
                raise RuntimeError(f"the socket readers did not start (see {log.name})")
            time.sleep(SETTLE_SECONDS)
            before = self.watch.snapshot()
            sent = self.loadgen("tandem", run, messages, concurrency)
            readers.stdin.write(f"expect {sum(sent.stored)}\n")
            readers.stdin.flush()
            done = json.loads(readers.stdout.readline() or "{}")
            spent = used(before, self.watch.snapshot())
            say(f"sockets: {done}")
            readers.wait(timeout=30)
        finally:
            if readers.poll() is None:
                readers.kill()
            log.close()
        got = msgspec.json.decode(result.read_bytes(), type=Received)
        spent.pop(LABELS["floor"], None)  # idle during this run
        # The whole machine's share is over the snapshots' interval: it is not idle outside.
        wall = spent.pop(WALL)
        return Ingest.of(sent, got, spent, machine_share=spent.pop(MACHINE) / wall)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", default="1000,3000", help="messages per point, comma-sep.")
    parser.add_argument("--concurrency", default="32", help="concurrent POSTs, comma-separated")
    parser.add_argument("--rate", type=float, default=0.0, help="offered msgs/s; 0: closed loop")
    parser.add_argument("--sockets", type=int, default=20, help="agent sockets on the inbox")
    parser.add_argument("--customers", type=int, default=200, help="senders per point")
    parser.add_argument("--processes", type=int, default=1, help="Tandem (and floor) processes")
    parser.add_argument("--output", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument("--logs", type=Path, default=OUT / "logs")
    return parser.parse_args(argv)


def command_line(args: argparse.Namespace) -> str:
    line = (
        f".venv/bin/python -m bench.ingest.run --messages {args.messages} "
        f"--concurrency {args.concurrency} --sockets {args.sockets} "
        f"--customers {args.customers} --processes {args.processes}"
    )
    return line + (f" --rate {args.rate:g}" if args.rate > 0 else "")


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    sizes = [int(n) for n in args.messages.split(",") if n]
    levels = [int(n) for n in args.concurrency.split(",") if n]
    raise_fd_limit()
    shutil.rmtree(args.logs, ignore_errors=True)
    args.logs.mkdir(parents=True)
    box = machine()
    load_start = os.getloadavg()
    points: list[Point] = []
    servers: list[Server] = []
    watch = CpuWatch()
    with (
        tempfile.TemporaryDirectory(prefix="tandem-ingest-") as tmp,
        local_services(ROOT / "var", persist=False, data_dir=Path(tmp)) as store,
    ):
        assert store.mongodb_url
        assert store.redis_url
        env = {
            "MONGODB_URL": store.mongodb_url,
            "REDIS_URL": store.redis_url,
            "MONGODB_DB": "bench_ingest",
            "TANDEM_SECRET_KEY": secrets.token_hex(32),
            "TANDEM_LOG_LEVEL": "warning",
        }
        try:
            say(f"starting {args.processes} Tandem and {args.processes} floor processes")
            tandem: list[Server] = []
            floor: list[Server] = []
            for i in range(args.processes):
                tandem.append(start_tandem(f"tandem-{i}", env, args.logs))
                servers.append(tandem[-1])
                watch.name(tandem[-1].proc.pid, LABELS["tandem"])
            for i in range(args.processes):
                floor.append(start_floor(f"floor-{i}", args.logs))
                servers.append(floor[-1])
                watch.name(floor[-1].proc.pid, LABELS["floor"])
            target = args.logs / "target.json"
            prepare([s.http_url for s in tandem]).save(target)
            runner = Runner(args, target, watch)
            say(f"warm-up: {WARMUP_MESSAGES} webhooks")
            runner.loadgen("tandem", "warmup", WARMUP_MESSAGES, min(levels))
            for concurrency in levels:
                for messages in sizes:
                    run = f"r{len(points) + 1}"
                    point = Point(messages, concurrency, args.rate, None, None, None)
                    points.append(point)
                    try:
                        point.floor = runner.requests("floor", run, messages, concurrency, floor)
                        point.healthz = runner.requests(
                            "healthz", run, messages, concurrency, tandem
                        )
                        point.ingest = runner.ingest(run, messages, concurrency)
                    except (RuntimeError, subprocess.TimeoutExpired, OSError) as exc:
                        point.error = f"failed: {exc}"
                        say(point.error)
        finally:
            for server in servers:
                server.stop()
    text = render(
        command=command_line(args),
        box=box,
        processes=args.processes,
        sockets=args.sockets,
        customers=args.customers,
        points=points,
        notes=notes(args, box, points, servers, (load_start, os.getloadavg())),
    )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    # Its own section of BENCHMARKS.md; the other benchmarks' sections stay as they are.
    args.output.write_text(replace_section(args.output, text, PREAMBLE))
    (args.logs / "summary.json").write_bytes(
        msgspec.json.encode({"command": command_line(args), "machine": box, "points": points})
    )
    print(text)
    say(f"wrote {args.output}; logs in {args.logs}")


def notes(
    args: argparse.Namespace,
    box: dict[str, str],
    points: list[Point],
    servers: list[Server],
    loads: tuple[tuple[float, float, float], tuple[float, float, float]],
) -> list[str]:
    found = [
        "Closed loop: each of the concurrent senders posts its next webhook when the last "
        "is answered, so a point's rate is what Tandem sustains at that concurrency, and its "
        "latency includes the queueing that concurrency makes (at R messages/s, C senders wait "
        "about C/R each)."
        if args.rate <= 0
        else f"Open loop: webhook i starts {1 / args.rate * 1000:.2f} ms x i after the first, "
        "at most the given concurrency in flight.",
        "Each point has its own customers (half write by WhatsApp, half by email, each "
        "customer on both), so each point starts with new contacts and conversations: "
        f"{args.customers} of the first messages of a point open a ticket (`ticket.created`, "
        "`contact.created`), the rest join the customer's open one.",
        f"Everything shares this machine's {box['cores (nproc)']} cores: the load generator "
        "(bench/ingest/httpclient.py on uvloop), the socket readers (bench/fanout/wsclient.py "
        "on uvloop), the servers, FerretDB with its PostgreSQL, and Redis. CPU rows come from "
        "/proc, read before and after each run: a share of one core over the run's span "
        "(first POST to last delivery), and CPU time per message.",
        "The floors see the same number of requests at the same concurrency: the floor app "
        "(bench/ingest/floor_app.py, a bare ASGI app under the same uvicorn) gets the very "
        "same webhook POSTs and only reads them; Tandem's `GET /healthz` is Tandem's own "
        "HTTP stack with no store work.",
        f"Before the first point, {WARMUP_MESSAGES} webhooks warm Tandem up (not measured).",
        "Load average (1, 5, 15 min) at the start: "
        + ", ".join(f"{v:.2f}" for v in loads[0])
        + "; at the end: "
        + ", ".join(f"{v:.2f}" for v in loads[1])
        + ".",
    ]
    for p in points:
        if p.ingest is None:
            continue
        cpu = p.ingest.cpu
        tandem = cpu.get("Tandem", 0.0)
        ours = dict(cpu)
        biggest = max(ours.items(), key=lambda kv: kv[1], default=("", 0.0))
        total = sum(ours.values()) + p.ingest.client_cpu + p.ingest.reader_cpu
        cores = int(box["cores (nproc)"])
        found.append(
            f"{p.label}: Tandem's process{'es' if args.processes > 1 else ''} used "
            f"{tandem * 100:.0f}% of a core (of {args.processes * 100}% it can use), the "
            f"busiest program was {biggest[0]} at {biggest[1] * 100:.0f}%; this benchmark's "
            f"processes together used {total * 100:.0f}% and the whole machine "
            f"{p.ingest.machine_cpu * 100:.0f}% of its {cores * 100}%."
        )
        if others(p.ingest) > NOISY:
            found.append(
                f"{p.label}: **the machine was not quiet**: processes outside this benchmark "
                f"used {others(p.ingest) * 100:.0f}% of a core during the run, so every figure "
                "of this point is lower (rates) or higher (latencies) than this machine gives "
                "Tandem alone."
            )
        if p.ingest.errors:
            found.append(
                f"{p.label}: failed answers: "
                + "; ".join(f"{n}x `{text}`" for text, n in p.ingest.errors.items())
            )
        if p.ingest.closed:
            found.append(f"{p.label}: sockets closed by the server: {p.ingest.closed}")
        if p.ingest.duplicates:
            found.append(f"{p.label}: {p.ingest.duplicates} duplicate deliveries")
    found += log_notes(servers, "No server logged a warning, an error or a traceback.")
    return found


if __name__ == "__main__":
    main()
