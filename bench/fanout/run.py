"""The fan-out benchmark in one command; writes BENCHMARKS.md and prints it.

    .venv/bin/python -m bench.fanout.run [--sockets 1000,5000] [--idle 10000]

Starts a local FerretDB and Redis, Tandem's uvicorn processes and as many floor servers, signs
up a workspace, then for each socket count runs the load generator (its own process) against
the floor and against Tandem; last, it holds idle sockets on one fresh process of each kind and
reads their memory. Server and load-generator logs stay in --logs.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import msgspec

from app.devservices import local_services
from bench.fanout.floor_server import raise_fd_limit
from bench.fanout.modes import CHANGES
from bench.fanout.processes import (
    ROOT,
    Server,
    gc_pauses,
    log_notes,
    start_floor,
    start_tandem,
)
from bench.fanout.report import Idle, Pair, machine, render
from bench.fanout.stats import RunResult
from bench.fanout.tandem_api import sign_up
from bench.sections import keep_others

LOADGEN_SECONDS = 600  # a whole load-generator run, sockets opened and closed included
FALLBACK_FRAME_BYTES = 700  # floor payload only if Tandem's frame could not be measured
HOLD_SECONDS = 300
SETTLE_SECONDS = 3.0


def say(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


class Runner:
    def __init__(self, args: argparse.Namespace, log_dir: Path, agent_file: Path) -> None:
        self.args = args
        self.log_dir = log_dir
        self.agent_file = agent_file
        self.runs = 0

    def loadgen_argv(
        self, mode: str, servers: list[Server], sockets: int, changes: int = 0
    ) -> list[str]:
        argv = [sys.executable, "-m", "bench.fanout.loadgen", mode, "--sockets", str(sockets)]
        argv += ["--urls", ",".join(s.ws_url for s in servers)]
        argv += ["--changes", str(changes or self.args.changes), "--pause", str(self.args.pause)]
        if mode == "tandem":
            argv += ["--agent", str(self.agent_file), "--change", self.args.change]
        return argv

    def measure(
        self, mode: str, servers: list[Server], sockets: int, *extra: str, changes: int = 0
    ) -> tuple[RunResult | None, str | None]:
        self.runs += 1
        name = f"{self.runs:02d}-{mode}-{sockets}"
        result = self.log_dir / f"loadgen-{name}.json"
        argv = [*self.loadgen_argv(mode, servers, sockets, changes), "--result", str(result)]
        argv += extra
        say(f"load generator: {mode}, {sockets} sockets")
        log = self.log_dir / f"loadgen-{name}.log"
        try:
            with log.open("wb") as out:
                code = subprocess.run(
                    argv, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, timeout=LOADGEN_SECONDS
                ).returncode
        except subprocess.TimeoutExpired:
            return None, f"the load generator did not finish in {LOADGEN_SECONDS}s ({log})"
        if code != 0 or not result.exists():
            tail = log.read_text(errors="replace").strip().splitlines()[-3:]
            return None, f"load generator exit {code}: {' / '.join(tail)[:400]} ({log})"
        return msgspec.json.decode(result.read_bytes(), type=RunResult), None

    def hold_idle(self, label: str, mode: str, server: Server, count: int) -> Idle:
        """Memory of `count` idle subscribed sockets on one server process."""
        time.sleep(SETTLE_SECONDS)
        before = server.rss_kib()
        argv = [*self.loadgen_argv(mode, [server], count), "--hold", str(HOLD_SECONDS)]
        say(f"holding {count} idle sockets on {server.name} (RSS before {before} KiB)")
        log = (self.log_dir / f"loadgen-idle-{mode}.log").open("wb")
        proc = subprocess.Popen(
            argv, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True
        )
        assert proc.stdin is not None
        assert proc.stdout is not None
        try:
            ready = json.loads(proc.stdout.readline() or '{"ready": 0, "failures": 0}')
            time.sleep(SETTLE_SECONDS)
            after = server.rss_kib()
            proc.stdin.close()  # releases the sockets
            closed = json.loads(proc.stdout.readline() or '{"closed_by_server": {}}')
            proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
            log.close()
        return Idle(
            server=label,
            requested=count,
            held=int(ready["ready"]),
            failures=int(ready["failures"]),
            rss_before_kib=before,
            rss_after_kib=after,
            open_seconds=float(ready.get("open_seconds", 0.0)),
            closed_by_server=closed["closed_by_server"],
        )


@contextlib.contextmanager
def stopping(servers: list[Server]) -> Iterator[list[Server]]:
    try:
        yield servers
    finally:
        for server in servers:
            server.stop()


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sockets", default="1000,5000", help="socket counts, comma-separated")
    parser.add_argument("--idle", type=int, default=10_000, help="idle sockets; 0 skips")
    parser.add_argument("--changes", type=int, default=30, help="changes per run")
    parser.add_argument("--pause", type=float, default=0.1, help="seconds between changes")
    parser.add_argument("--servers", type=int, default=2, help="processes of each kind")
    parser.add_argument("--output", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument("--logs", type=Path, default=ROOT / "var" / "bench" / "fanout")
    parser.add_argument(
        "--change", choices=sorted(CHANGES), default="priority", help="what the writer toggles"
    )
    return parser.parse_args(argv)


def command_line(args: argparse.Namespace) -> str:
    return (
        f".venv/bin/python -m bench.fanout.run --sockets {args.sockets} --idle {args.idle} "
        f"--changes {args.changes} --pause {args.pause} --servers {args.servers} "
        f"--change {args.change}"
    )


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    counts = [int(n) for n in args.sockets.split(",") if n]
    # Raised here so that every process started below (uvicorn has no option for it) inherits it.
    fd_limit = raise_fd_limit()
    shutil.rmtree(args.logs, ignore_errors=True)
    args.logs.mkdir(parents=True)
    box = machine()
    load_start = os.getloadavg()
    notes: list[str] = []
    pairs: list[Pair] = []
    idle: list[Idle] = []
    all_servers: list[Server] = []
    with (
        tempfile.TemporaryDirectory(prefix="tandem-bench-") as tmp,
        local_services(ROOT / "var", persist=False, data_dir=Path(tmp)) as store,
    ):
        assert store.mongodb_url
        assert store.redis_url
        env = {
            "MONGODB_URL": store.mongodb_url,
            "REDIS_URL": store.redis_url,
            "MONGODB_DB": "bench_fanout",
            "TANDEM_SECRET_KEY": secrets.token_hex(32),
            "TANDEM_LOG_LEVEL": "warning",
        }
        say(f"starting {args.servers} Tandem and {args.servers} floor processes")
        with stopping(all_servers):
            tandem: list[Server] = []
            floor: list[Server] = []
            for i in range(args.servers):  # one by one, so a failed start stops the others
                tandem.append(start_tandem(f"tandem-{i}", env, args.logs))
                all_servers.append(tandem[-1])
            for i in range(args.servers):
                floor.append(start_floor(f"floor-{i}", args.logs))
                all_servers.append(floor[-1])
            agent_file = Path(tmp) / "agent.json"
            sign_up(tandem[0].http_url).save(agent_file)
            runner = Runner(args, args.logs, agent_file)
            probe, probe_error = runner.measure("tandem", tandem, 2, changes=2)
            if probe is not None and probe.frame_bytes:
                frame_bytes = probe.frame_bytes
                notes.append(
                    f"The floor's payload is {frame_bytes} bytes, the size of Tandem's "
                    "`ticket.updated` frame as received in a probe run just before."
                )
            else:
                frame_bytes = FALLBACK_FRAME_BYTES
                notes.append(
                    f"Tandem's event frame could not be measured ({probe_error}); the floor "
                    f"used {frame_bytes}-byte payloads instead."
                )
            for count in counts:
                payload = ("--payload-bytes", str(frame_bytes))
                floor_result, floor_error = runner.measure("floor", floor, count, *payload)
                if probe is None:
                    tandem_result, tandem_error = None, f"skipped: the probe failed ({probe_error})"
                else:
                    tandem_result, tandem_error = runner.measure("tandem", tandem, count)
                pair = Pair(count, floor_result, tandem_result, tandem_error)
                if floor_result is not None:
                    pair.floor_gc = [ms for s in floor for ms in gc_pauses(s, floor_result.window)]
                if tandem_result is not None:
                    pair.tandem_gc = [
                        ms for s in tandem for ms in gc_pauses(s, tandem_result.window)
                    ]
                pairs.append(pair)
                if floor_error:
                    notes.append(f"Floor run at {count} sockets failed: {floor_error}")
            if args.idle > 0:
                fresh_floor = start_floor("floor-idle", args.logs)
                all_servers.append(fresh_floor)
                fresh_tandem = start_tandem("tandem-idle", env, args.logs)
                all_servers.append(fresh_tandem)
                idle.append(runner.hold_idle("floor", "floor", fresh_floor, args.idle))
                if probe is not None:
                    # One short run first, so the baseline is a process that has served.
                    runner.measure("tandem", [fresh_tandem], 20, changes=2)
                    idle.append(runner.hold_idle("Tandem", "tandem", fresh_tandem, args.idle))
    notes += standard_notes(args, box, fd_limit, pairs, all_servers)
    text = render(
        command=command_line(args),
        box=box,
        servers=args.servers,
        changes=args.changes,
        pause=args.pause,
        change=args.change,
        pairs=pairs,
        idle=idle,
        notes=notes,
    )
    summary = {
        "command": command_line(args),
        "change": args.change,
        "servers": args.servers,
        "changes": args.changes,
        "date": box["date"],
        "tree": box["Tandem tree"],
        "loadavg_start": load_start,
        "loadavg_end": os.getloadavg(),
        "pairs": pairs,
        "notes": notes,
    }
    (args.logs / "summary.json").write_bytes(msgspec.json.encode(summary))
    args.output.write_text(keep_others(args.output, text))  # other benchmarks' sections stay
    print(text)
    say(f"wrote {args.output}; logs in {args.logs}")


def standard_notes(
    args: argparse.Namespace,
    box: dict[str, str],
    fd_limit: int,
    pairs: list[Pair],
    servers: list[Server],
) -> list[str]:
    notes = [
        f"The floor runs as {args.servers} processes, like Tandem, with the sockets spread the "
        "same way: one floor process would hold twice the sockets per event loop and on this "
        "machine use one core where Tandem uses both, which is no floor for Tandem to be held to.",
        f"Everything shares this machine's {box['cores (nproc)']} cores: the load generator, "
        "the server processes, Redis and FerretDB. The load generator's own receive work is "
        "inside every latency, floor and Tandem alike; its client is a bare asyncio Protocol so "
        "that work stays small.",
        "Tandem runs as `python -m uvicorn app.main:app_from_env --factory "
        "--ws-per-message-deflate false` (the deflate setting `tandem serve` uses), with the "
        f"process file limit raised to {fd_limit}. Its writer's PATCH includes the store write, "
        "the document lock and the Redis publish; the floor's write is one frame, so the "
        "'first delivery' row shows what Tandem's write path costs before any fan-out.",
        "Server processes start with bench/fanout/gcwatch on PYTHONPATH: its sitecustomize "
        "logs each garbage collection that stops a process for 20 ms or more, with a monotonic "
        "timestamp, which is how the GC row of each table is counted.",
    ]
    if args.change == "status":
        notes.append(
            "The writer toggles the status (open ↔ pending). Up to commit ec77206 that also "
            'wrote a system line to the thread ("… set the status to pending") before the '
            "PATCH answered, and every socket got a `message.created` and a second "
            "`ticket.updated` (no new version) besides the measured frame; only the frame whose "
            "`changed` names the status is counted."
        )
    negotiated = [
        f"{r.mode} {r.deflate_negotiated}"
        for p in pairs
        for r in (p.floor, p.tandem)
        if r is not None and r.deflate_negotiated
    ]
    notes.append(
        "The load generator offers permessage-deflate, as browsers do; "
        + (
            "servers accepted it on: " + ", ".join(negotiated)
            if negotiated
            else "no server accepted it."
        ),
    )
    conflicts = sum(p.tandem.conflicts for p in pairs if p.tandem is not None)
    if conflicts:
        notes.append(f"The writer got {conflicts} stale-version (409) answers and retried.")
    notes += log_notes(servers, "No server logged a warning, an error or a traceback.")
    return notes


if __name__ == "__main__":
    main()
