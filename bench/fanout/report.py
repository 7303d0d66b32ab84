"""The machine a run happened on, and BENCHMARKS.md from what the run measured."""

from __future__ import annotations

import datetime
import importlib.metadata
import os
import platform
import subprocess
from collections.abc import Callable
from pathlib import Path

import msgspec

from bench.fanout.stats import RunResult

ROOT = Path(__file__).resolve().parents[2]
AIM_P99_RATIO = 1.25
AIM_IDLE_KIB = 30.0


class Idle(msgspec.Struct):
    server: str
    requested: int
    held: int
    failures: int
    rss_before_kib: int
    rss_after_kib: int
    open_seconds: float
    closed_by_server: dict[str, int]

    @property
    def per_socket_kib(self) -> float:
        return (self.rss_after_kib - self.rss_before_kib) / self.held if self.held else 0.0


class Pair(msgspec.Struct):
    sockets: int
    floor: RunResult | None
    tandem: RunResult | None
    tandem_error: str | None = None
    floor_gc: list[float] = []  # ms of each server GC pause >= 20 ms during the changes
    tandem_gc: list[float] = []


def _proc_field(path: str, key: str) -> str:
    for line in Path(path).read_text().splitlines():
        if line.startswith(key):
            return line.split(":", 1)[1].strip()
    return "unknown"


def _git(*args: str) -> str:
    answer = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10)
    return answer.stdout.strip()


def machine() -> dict[str, str]:
    mem_kib = int(_proc_field("/proc/meminfo", "MemTotal").split()[0])
    dirty = _git("status", "--porcelain", "--", "app", "realtime", "channels")
    versions = ", ".join(
        f"{name} {importlib.metadata.version(name)}"
        for name in ("uvicorn", "websockets", "uvloop", "starlette", "msgspec")
    )
    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "CPU": _proc_field("/proc/cpuinfo", "model name"),
        "cores (nproc)": str(len(os.sched_getaffinity(0))),
        "memory": f"{mem_kib / 1024 / 1024:.1f} GiB",
        "kernel": platform.release(),
        "Python": platform.python_version(),
        "libraries": versions,
        "Tandem tree": _git("rev-parse", "--short", "HEAD")
        + (" with uncommitted changes in app/ realtime/ channels/" if dirty else ""),
    }


def _ms(value: float) -> str:
    return f"{value:.1f}"


def _ratio(tandem: float, floor: float) -> str:
    return f"{tandem / floor:.2f}x" if floor > 0 else "n/a"


def _codes(closed: dict[str, int]) -> str:
    return ", ".join(f"{n} with {code}" for code, n in sorted(closed.items())) or "none"


def _pauses(ms: list[float]) -> str:
    return f"{len(ms)}, longest {max(ms):.0f} ms" if ms else "none"


def pair_table(pair: Pair) -> list[str]:
    f, t = pair.floor, pair.tandem
    if f is None:
        return ["The floor run failed; see the notes."]

    def both(get: Callable[[RunResult], str]) -> tuple[str, str]:
        return get(f), get(t) if t is not None else "—"

    def ratio(get: Callable[[RunResult], float]) -> str:
        return _ratio(get(t), get(f)) if t is not None else ""

    rows = [
        ("sockets subscribed", *both(lambda r: str(r.sockets)), ""),
        ("changes measured", *both(lambda r: str(r.changes)), ""),
        (
            "latency p50 (ms)",
            *both(lambda r: _ms(r.latency.p50_ms)),
            ratio(lambda r: r.latency.p50_ms),
        ),
        (
            "latency p99 (ms)",
            *both(lambda r: _ms(r.latency.p99_ms)),
            ratio(lambda r: r.latency.p99_ms),
        ),
        (
            "latency max (ms)",
            *both(lambda r: _ms(r.latency.max_ms)),
            ratio(lambda r: r.latency.max_ms),
        ),
        (
            "deliveries/s during fan-out",
            *both(lambda r: f"{r.deliveries_per_s:,.0f}"),
            ratio(lambda r: r.deliveries_per_s),
        ),
        ("first delivery p50 (ms)", *both(lambda r: _ms(r.first_delivery.p50_ms)), ""),
        ("write request p50 (ms)", *both(lambda r: _ms(r.write.p50_ms)), ""),
        ("deliveries / expected", *both(lambda r: f"{r.deliveries}/{r.expected}"), ""),
        ("missing", *both(lambda r: str(r.missing)), ""),
        ("late (after the 10 s wait)", *both(lambda r: str(r.late)), ""),
        ("duplicates", *both(lambda r: str(r.duplicates)), ""),
        ("closed by the server", *both(lambda r: _codes(r.closed_by_server)), ""),
        ("connect failures", *both(lambda r: str(r.connect_failures)), ""),
        ("seconds to open and subscribe all", *both(lambda r: f"{r.open_seconds:.1f}"), ""),
        ("frame size (bytes)", *both(lambda r: str(r.frame_bytes)), ""),
        (
            "server GC pauses >= 20 ms during the changes",
            _pauses(pair.floor_gc),
            _pauses(pair.tandem_gc) if t is not None else "—",
            "",
        ),
    ]
    lines = ["| | floor | Tandem | Tandem ÷ floor |", "|---|---:|---:|---:|"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    if t is not None:
        p99 = t.latency.p99_ms / f.latency.p99_ms
        verdict = "met" if p99 <= AIM_P99_RATIO else "not met"
        lines += [
            "",
            f"p99 aim (Tandem within {AIM_P99_RATIO}x the floor): **{verdict}** ({p99:.2f}x).",
        ]
    elif pair.tandem_error:
        lines += ["", f"Tandem run failed: {pair.tandem_error}"]
    return lines


def idle_table(idle: list[Idle]) -> list[str]:
    lines = [
        "| server | sockets asked | held | opened in (s) | RSS before (MiB) | RSS after (MiB) "
        "| per socket (KiB) | closed by server while held |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for i in idle:
        lines.append(
            f"| {i.server} | {i.requested:,} | {i.held:,} | {i.open_seconds:.1f} "
            f"| {i.rss_before_kib / 1024:.1f} "
            f"| {i.rss_after_kib / 1024:.1f} | {i.per_socket_kib:.1f} "
            f"| {_codes(i.closed_by_server)} |"
        )
    for i in idle:
        if i.server.startswith("Tandem") and i.held:
            verdict = "met" if i.per_socket_kib <= AIM_IDLE_KIB and i.held >= 10_000 else "not met"
            lines += [
                "",
                f"Idle aim (10,000 sockets per process at <= {AIM_IDLE_KIB:g} KiB each): "
                f"**{verdict}** ({i.held:,} at {i.per_socket_kib:.1f} KiB).",
            ]
    return lines


def render(
    *,
    command: str,
    box: dict[str, str],
    servers: int,
    changes: int,
    pause: float,
    pairs: list[Pair],
    idle: list[Idle],
    notes: list[str],
    change: str = "priority",
) -> str:
    toggled = {"priority": "priority (normal ↔ high)", "status": "status (open ↔ pending)"}
    out = [
        "# Benchmarks",
        "",
        "Every figure below was measured by the command shown and written here by it; "
        "run it again to replace them.",
        "",
        "## Fan-out: one write to thousands of live sockets",
        "",
        "```sh",
        command,
        "```",
        "",
        "| machine | |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in box.items()),
        "",
        "**What is measured.** A separate load-generator process (uvloop) opens the sockets, "
        f"spread round-robin over {servers} server processes, and waits until each is subscribed "
        "(Tandem: `hello` and `subscribe` to `inbox` acknowledged). One writer then makes "
        f"{changes} changes one at a time, {pause * 1000:.0f} ms apart, each after the previous "
        "one reached every socket. Tandem's writer is an agent session (cookie + CSRF) sending "
        "`PATCH /api/v1/tickets/{id}` to the first process, toggling the "
        f"{toggled.get(change, change)} with the version it "
        "saw; every socket gets the `ticket.updated` event through Redis. The floor is a bare "
        "`websockets` broadcast server (no auth, store or broker; compression off; also on uvloop, "
        f"also {servers} processes with the sockets spread the same way): its write is a text "
        "frame on a control socket of each process, broadcast as is, padded to the size of "
        "Tandem's event frame. Latency is from the start of the write request to the moment the "
        "frame's bytes reach the load generator, on one monotonic clock, over every "
        "(socket, change) delivery. Deliveries/s is all deliveries divided by the summed time "
        "from each write's start to its last delivery.",
        "",
    ]
    for pair in pairs:
        out += [f"### {pair.sockets:,} sockets over {servers} processes", "", *pair_table(pair), ""]
    if idle:
        out += [
            "### Memory per idle connection",
            "",
            "One fresh server process of each kind; VmRSS from `/proc/<pid>/status` before and "
            "after the load generator opened and subscribed the sockets (and after a short "
            "settle), divided by the sockets held.",
            "",
            *idle_table(idle),
            "",
        ]
    out += ["### Notes", "", *(f"- {n}" for n in notes), ""]
    return "\n".join(out)
