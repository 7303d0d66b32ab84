"""The "Store and broker work per user action" section of BENCHMARKS.md."""

from __future__ import annotations

from collections.abc import Callable

from bench.actions.results import ActionResult, Before, FanoutRun, Measurement
from bench.actions.spy import IGNORED_REDIS

HEADING = "## Store and broker work per user action"
COMMAND = ".venv/bin/python -m bench.actions.run"
PREAMBLE = (
    "# Benchmarks\n\nEvery figure below was measured by the command shown and written here by "
    "it; run it again to replace them.\n"
)

COLUMNS: tuple[tuple[str, Callable[[ActionResult], str]], ...] = (
    ("events", lambda r: str(r.totals["events"])),
    ("store commands", lambda r: str(r.totals["store"])),
    ("store writes", lambda r: str(r.totals["writes"])),
    ("locks", lambda r: str(r.totals["locks"])),
    (
        "Redis commands (+ run in scripts)",
        lambda r: f"{r.totals['redis']} (+{r.totals['redis_in_scripts']})",
    ),
)


def _counts(mapping: dict[str, int]) -> str:
    return ", ".join(f"{k} x{n}" if n > 1 else k for k, n in mapping.items()) or "—"


def _flag(result: ActionResult | None) -> str:
    return " ⚠" if result is not None and result.varied else ""


def summary_table(before: Measurement | None, after: Measurement | None) -> list[str]:
    """One row per action; with both runs each cell reads `before → after`."""
    b_of = {r.key: r for r in before.actions} if before else {}
    a_of = {r.key: r for r in after.actions} if after else {}
    keys = list(dict.fromkeys([*b_of, *a_of]))  # before's order, then what only after has
    lines = [
        "| action | " + " | ".join(name for name, _ in COLUMNS) + " |",
        "|---|" + "---:|" * len(COLUMNS),
    ]
    for key in keys:
        b, a = b_of.get(key), a_of.get(key)
        found = b or a
        label = found.label if found else key
        cells = []
        for _, cell in COLUMNS:
            if before is not None and after is not None:
                cells.append(f"{cell(b) if b else '—'} → {cell(a) if a else '—'}")
            else:
                only = b or a
                cells.append(cell(only) if only else "—")
        lines.append(f"| {label}{_flag(b)}{_flag(a)} | " + " | ".join(cells) + " |")
    return lines


def detail_table(run: Measurement) -> list[str]:
    lines = [
        "| action | events | store commands (command collection) | document locks "
        "| Redis commands · in scripts |",
        "|---|---|---|---|---|",
    ]
    for r in run.actions:
        m = r.median
        redis = _counts(m.redis)
        if m.redis_in_scripts:
            redis += " · " + _counts(m.redis_in_scripts)
        lines.append(
            f"| {r.label} | {_counts(m.events)} | {_counts(m.store_targets)} "
            f"| {_counts(m.locks)} | {redis} |"
        )
    return lines


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b > 0 else "n/a"


def _load(values: list[float]) -> str:
    return " / ".join(f"{v:.2f}" for v in values)


def fanout_table(runs: dict[str, list[FanoutRun]]) -> list[str]:
    lines = [
        "| change | measured | sockets | write request p50 (ms) | latency p50 (ms) "
        "| latency p99 (ms) "
        "| floor p50 (ms) | floor p99 (ms) | p50 ÷ floor | p99 ÷ floor "
        "| first delivery p50 (ms) | load avg 1/5/15 min at start → end |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for run in sorted((r for rs in runs.values() for r in rs), key=lambda r: (r.change, r.date)):
        t, f = run.tandem, run.floor
        lines.append(
            f"| {run.change} | {run.date} | {run.sockets:,} | {t.write_p50_ms:.1f} "
            f"| {t.latency_p50_ms:.1f} "
            f"| {t.latency_p99_ms:.1f} | {f.latency_p50_ms:.1f} | {f.latency_p99_ms:.1f} "
            f"| {_ratio(t.latency_p50_ms, f.latency_p50_ms)} "
            f"| {_ratio(t.latency_p99_ms, f.latency_p99_ms)} | {t.first_delivery_p50_ms:.1f} "
            f"| {_load(run.loadavg_start)} → {_load(run.loadavg_end)} |"
        )
    return lines


def _mean(runs: list[FanoutRun], get: Callable[[FanoutRun], float]) -> float:
    return sum(get(r) for r in runs) / len(runs)


def _write_ratio(runs: dict[str, list[FanoutRun]]) -> list[str]:
    status, priority = runs.get("status", []), runs.get("priority", [])
    if not status or not priority:
        return []

    def write(r: FanoutRun) -> float:
        return r.tandem.write_p50_ms

    def latency_ratio(r: FanoutRun) -> float:
        return r.tandem.latency_p50_ms / r.floor.latency_p50_ms

    return [
        f"Averaged over the runs of each kind, a status change's write request (p50) took "
        f"{_ratio(_mean(status, write), _mean(priority, write))} a priority change's "
        f"({_mean(status, write):.0f} against {_mean(priority, write):.0f} ms), and its latency "
        f"p50 was {_mean(status, latency_ratio):.2f}x the floor's against "
        f"{_mean(priority, latency_ratio):.2f}x. Runs of different kinds were minutes apart, "
        "under whatever else ran then: the load columns say how comparable they are.",
        "",
    ]


def _variation_notes(run: Measurement, which: str) -> list[str]:
    notes = []
    for r in run.actions:
        for name, values in r.varied.items():
            notes.append(
                f"{which}: **{r.label}** varied in `{name}` over its {r.runs} runs: "
                f"{', '.join(map(str, values))} (the tables show the median)."
            )
    return notes


def render(before: Before, after: Measurement | None) -> str:
    b = before.actions
    head = after or b
    repetitions = (
        f"{head.warmup + head.repeat} times: the first {head.warmup} as a warm-up, not "
        f"counted, the other {head.repeat} counted"
        if head is not None
        else "several times after a warm-up"
    )
    out = [HEADING, "", "```sh", COMMAND, "```", ""]
    if head is not None:
        out += [
            "| machine | |",
            "|---|---|",
            *(f"| {k} | {v} |" for k, v in head.machine.items()),
            "",
        ]
    out += [
        "**What is measured.** One in-process Tandem app (the API over httpx's ASGI transport) on "
        "its own FerretDB and Redis; a workspace with its owner and one agent. Each action below "
        "is prepared without being counted (a fresh ticket, a visitor session…), then run "
        f"inside a counting window, {repetitions}; every figure is the "
        "median over the measured runs, and an action whose counts were not the same in every "
        "run is marked ⚠ and listed in the notes. *Events* are the events published on the "
        "workspaces' pub/sub channels (a PSUBSCRIBE on `tandem:{ws:*}:events`). *Store "
        "commands* are every command the app's pymongo client started (a `CommandListener` "
        "registered before the app built its client), authentication's reads included; "
        "*store writes* are those among them that are insert, update, findAndModify or "
        "delete. *Locks* are the `SET … NX` on `tandem:lock:*` keys seen by a Redis MONITOR "
        "connection (attempts: with one writer at a time each takes the lock at once; each "
        "release is one EVALSHA of a GET + DEL script). "
        "*Redis commands* are all commands clients sent, as MONITOR shows them, with the ones "
        "Lua scripts ran (the publish script's INCR, XADD, PUBLISH, SET) in brackets; "
        f"{', '.join(sorted(IGNORED_REDIS))} (keepalives, connection set-up) are left out. A "
        "window ends with a marker the spy publishes itself, so every command and event the "
        "action caused is in it and nothing after it.",
        "",
    ]
    if b is not None and after is not None:
        out += [
            f"### Before (commit {b.commit[:10]}, measured {b.machine.get('date', '?')}) → "
            f"after (tree {after.tree}, measured {after.machine.get('date', '?')})",
            "",
            *summary_table(b, after),
            "",
        ]
    elif b is not None:
        out += [
            f"### Before: commit {b.commit[:10]} (measured {b.machine.get('date', '?')})",
            "",
            *summary_table(b, None),
            "",
            f"Measured by `{b.command}` in a worktree of that commit and stored in "
            "bench/actions/before.json; the next run of the command above, on the tree to "
            "compare, puts its figures next to these (`before → after`).",
            "",
        ]
    elif after is not None:
        out += [f"### Tree {after.tree}", "", *summary_table(None, after), ""]
    if b is not None:
        out += [f"### What each action did, before (commit {b.commit[:10]})", ""]
        out += [*detail_table(b), ""]
    if after is not None:
        out += [f"### What each action did, after (tree {after.tree})", ""]
        out += [*detail_table(after), ""]
    if before.fanout:
        some = next(iter(before.fanout.values()))[0]
        out += [
            f"### Fan-out write path, before (commit {b.commit[:10] if b else some.tree})",
            "",
            "`bench/fanout` at one socket count, each row one run of the command with its own "
            "floor measured just before Tandem in the same run, change kinds alternating; the "
            "writer's PATCH toggles the priority (normal ↔ high) or the status (open ↔ pending, "
            "which also writes a system line to the thread). The write request p50 is the "
            "writer's whole PATCH; latency is from the start of that request to the measured "
            "frame's arrival. On this 2-core machine absolute figures move with whatever else "
            "runs, so compare the ratios to the floor of the same run, and mind the load "
            "averages (1, 5 and 15 minutes, read at the start and at the end of the run).",
            "",
            "```sh",
            *sorted({run.command for runs in before.fanout.values() for run in runs}),
            "```",
            "",
            *fanout_table(before.fanout),
            "",
            *_write_ratio(before.fanout),
        ]
    if before.fanout_after:
        some = next(iter(before.fanout_after.values()))[0]
        out += [
            "",
            f"### Fan-out write path, after (tree {some.tree})",
            "",
            "The same runs on this tree, where a status change is one write and one event.",
            "",
            "```sh",
            *sorted({run.command for runs in before.fanout_after.values() for run in runs}),
            "```",
            "",
            *fanout_table(before.fanout_after),
            "",
            *_write_ratio(before.fanout_after),
        ]
    notes: list[str] = []
    if b is not None:
        notes += [f"Before: {n}" for n in b.notes]
        notes += _variation_notes(b, "Before")
    if after is not None:
        notes += [f"After: {n}" for n in after.notes]
        notes += _variation_notes(after, "After")
    fanout_notes: dict[str, list[str]] = {}  # a note -> the runs it was made on
    all_runs = [*before.fanout.values(), *before.fanout_after.values()]
    for runs in all_runs:
        for run in runs:
            for note in run.notes:
                fanout_notes.setdefault(note, []).append(f"{run.change} {run.date}")
    every = sum(len(runs) for runs in all_runs)
    for note, which in fanout_notes.items():
        notes.append(f"Fan-out ({'all runs' if len(which) == every else ', '.join(which)}): {note}")
    if notes:
        out += ["### Notes", "", *(f"- {n}" for n in notes), ""]
    return "\n".join(out)
