"""The scale benchmark's section of BENCHMARKS.md, from what a run measured."""

from __future__ import annotations

import argparse
import itertools
import os
from collections.abc import Sequence

import msgspec

from bench.scale.measure import Figure, Memory

PREAMBLE = (
    "# Benchmarks\n\nEvery figure below was measured by the command shown and written here by "
    "it; run it again to replace them.\n"
)
HEADING = "## Scale: one workspace from 1,000 to 100,000 tickets"
AIM_SIZE = 100_000
AIM_GROWTH = 1.5  # read p95 at the largest size within this much of the smallest's

# key → (label, p95 aim in ms or None, whether it is a read for the growth aim)
METRICS: dict[str, tuple[str, float | None, bool]] = {
    "list_first": ("list, first page (50 newest)", 30, True),
    "list_later": ("list, a later page (cursor at the middle ticket)", 30, True),
    "counts": ("counts (`/tickets/counts`, every view), after an event", 30, True),
    "counts_memo": ("counts again, no event since", None, False),
    "search_common": ("search, common word (`text=refund`)", 30, True),
    "search_rare": ("search, rare word (`text=zeppelin`)", 30, True),
    "dashboard": ("dashboard (supervisor), after an event", 50, True),
    "detail": ("ticket detail (ticket + thread)", 30, True),
    "patch": ("PATCH status open ↔ pending, with version", 30, False),
    "reply": ("reply (POST messages)", 30, False),
}
CREATE_AIM = 300.0
STANDING_NOTES = [
    "Where each path reads: lists, counts, search and the dashboard's figures come from the "
    "views and the search index Tandem keeps in Redis (app/views, app/search), rebuilt from "
    "the store after each fill (the fill bypasses the events that keep them; the rebuild's "
    "time is in the sizes table). Detail, PATCH, reply and create read and write the store "
    "by `_id` and by the fields documents are looked up by; on PostgreSQL those lookups use "
    "the GIN indexes app/devservices/pg_lookups.py adds (FerretDB v1's own B-tree indexes "
    "cannot serve its `@>` filters). On SQLite (`--store sqlite`) FerretDB v1.24 hands SQL "
    "only a filter that is exactly `{_id: …}`, so those paths still scan there.",
    "The machine is shared: other engineers' tests and benchmarks ran during this run (see "
    "the load averages, on 2 cores), so absolute figures carry their noise; the growth from "
    "one size to the next is the steadier reading.",
]


class SizeResult(msgspec.Struct):
    size: int
    tickets: int  # the counter when measuring began: filled plus created by earlier sizes
    messages: int  # filled so far
    contacts: int  # filled so far
    fill_seconds: float
    measure_seconds: float
    figures: list[Figure]
    store: Memory | None
    redis: Memory | None
    tandem: Memory
    written_tickets: int  # added over HTTP by the measurements, up to the end of this size
    written_messages: int
    written_contacts: int
    # Rebuilding the views and the search index from the store after the fill (which
    # bypasses events): what `tandem rebuild-views` costs at this size.
    rebuild_seconds: float = 0.0

    def figure(self, key: str) -> Figure | None:
        return next((f for f in self.figures if f.key == key), None)


def _ms(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def _mib(mem: Memory | None) -> str:
    if mem is None or not mem.rss_kib:
        return "—"
    return f"{mem.rss_kib / 1024:,.0f} (peak {mem.peak_kib / 1024:,.0f})"


def _cell(f: Figure | None) -> str:
    if f is None:
        return "—"
    if f.skipped:
        return "not run (time limit)"
    if f.key == "create":
        rate = f"{f.rate_per_s:.1f}/s" if f.rate_per_s is not None else "—"
        text = f"**{rate}** ({_ms(f.p50_ms)} / {_ms(f.p95_ms)} ms, n={f.samples})"
    else:
        text = f"{_ms(f.p50_ms)} / {_ms(f.p95_ms)} (n={f.samples})"
    if f.cut_by_time:
        text += " ⏱"
    if f.errors:
        text += f" ⚠{f.errors}"
    return text


def _ratio(a: float | None, b: float | None) -> str:
    return f"{b / a:.1f}x" if a and b else "—"


def _growth(results: Sequence[SizeResult], key: str, attr: str) -> str:
    values = []
    for r in results:
        f = r.figure(key)
        values.append(getattr(f, attr) if f else None)
    return " → ".join(_ratio(a, b) for a, b in itertools.pairwise(values)) or "—"


def _verdict(results: Sequence[SizeResult], key: str) -> str:
    last = results[-1]
    f = last.figure(key)
    if key == "create":
        aim = f"≥ {CREATE_AIM:.0f}/s"
        if f is None or f.rate_per_s is None or last.size < AIM_SIZE:
            return f"{aim}: not measured at 100k"
        return f"{aim}: **{'met' if f.rate_per_s >= CREATE_AIM else 'not met'}**"
    _, aim_ms, _ = METRICS[key]
    if aim_ms is None:
        return ""
    aim = f"p95 ≤ {aim_ms:.0f} ms"
    if f is None or f.p95_ms is None or last.size < AIM_SIZE:
        return f"{aim}: not measured at 100k"
    return f"{aim}: **{'met' if f.p95_ms <= aim_ms else 'not met'}**"


def _growth_aim(results: Sequence[SizeResult]) -> list[str]:
    first, last = results[0], results[-1]
    if len(results) < 2:
        return ["Only one size was measured, so there is no growth to compare."]
    lines = [
        f"**Read latency at {last.size:,} against {first.size:,}** (aim at 100k: within "
        f"{AIM_GROWTH}x), p95:",
        "",
    ]
    for key, (label, _, read) in METRICS.items():
        if not read:
            continue
        a, b = first.figure(key), last.figure(key)
        if a is None or b is None or not a.p95_ms or b.p95_ms is None:
            continue
        ratio = b.p95_ms / a.p95_ms
        verdict = "met" if ratio <= AIM_GROWTH else "not met"
        lines.append(f"- {label}: {ratio:.2f}x — {verdict}")
    return lines


def render(
    *,
    command: str,
    box: dict[str, str],
    args: argparse.Namespace,
    results: Sequence[SizeResult],
    load: tuple[tuple[float, float, float], tuple[float, float, float]],
    minutes: float,
    notes: list[str],
) -> str:
    cores = int(box.get("cores (nproc)", "") or os.cpu_count() or 1)
    lines = [HEADING, "", "```sh", command, "```", "", "| machine | |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in box.items()]
    lines += [
        "| load avg 1/5/15 min, start → end | "
        + " / ".join(f"{x:.2f}" for x in load[0])
        + " → "
        + " / ".join(f"{x:.2f}" for x in load[1])
        + " |",
        f"| whole run | {minutes:.1f} min |",
        "",
        "**What is measured.** One workspace grows to each size in turn (the same workspace: "
        "filled to the first size, measured, then filled on to the next). Filling inserts "
        "documents straight into the store with `insert_many`, built with Tandem's own Beanie "
        "models so they are stored as the app stores them: ~5 messages per ticket (customer "
        "and agent turns, the agent's `sent` or `queued`, no `dedupe_key`), one contact per "
        "two tickets with its identity keys (email, a third also a phone), timeline lines in "
        "`activity` for the assignment and status each ticket's state implies, empty "
        "outboxes, statuses about 12% open, 5% pending, 3% snoozed, 60% resolved, 20% "
        "closed, 60% assigned to the owner, over four channels; the `counters` document is "
        "set so the app's next ticket number continues. A list and a ticket's thread are "
        "then read through the app to show it serves the filled documents. Tandem runs as "
        "one uvicorn process (`app.main:app_from_env`), **with no `tandem worker`**, so no "
        "outbox sweep or timer runs during the measurements; the store is FerretDB v1.24 on "
        f"{getattr(args, 'store', 'postgresql')} (`--store`) and Redis, both on loopback. "
        "The bench drives Tandem with httpx over HTTP as the workspace owner (session cookie + "
        "`X-CSRF-Token`), one request at a time except the creates. "
        f"**Each metric is bounded: at most {args.samples} timed requests or "
        f"{args.seconds:g} s, whichever comes first**, after one unmeasured warm-up request "
        "that counts against the time; a request running when the time ends finishes and "
        "counts, so a cell marked ⏱ has fewer samples than asked and its p95 is close to its "
        "max. Before each timed counts and dashboard request one untimed priority change on a "
        "ticket of its own makes an event, as every open inbox sees after each change; the "
        '"again" row shows the same read without it. '
        "Detail and reply go to distinct tickets picked across the filled numbers. Creates: "
        f"{args.creators} concurrent loops, each ticket with a new contact (by email) and a "
        f"first message, until {args.creates} creates or {args.create_seconds:g} s; "
        "creates/s is successes over wall time. p95 is nearest-rank (with 20 samples, the "
        "19th smallest). Cells are p50 / p95 in ms and the number of timed samples. The "
        f"whole run is bounded too (--max-minutes {args.max_minutes:g}): past it no further "
        "size is filled and the metrics not yet run are shown as not run.",
        "",
        "### Sizes",
        "",
        "| tickets | messages (filled) | contacts (filled) | written by the bench so far "
        "(tickets / messages / contacts) | fill (s) | rebuild views + search (s) | measure (s) | "
        "FerretDB RSS MiB | "
        "Redis RSS MiB | Tandem RSS MiB |",
        "|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.tickets:,} | {r.messages:,} | {r.contacts:,} | {r.written_tickets:,} / "
            f"{r.written_messages:,} / {r.written_contacts:,} | {r.fill_seconds:.0f} | "
            f"{r.rebuild_seconds:.0f} | {r.measure_seconds:.0f} | {_mib(r.store)} | "
            f"{_mib(r.redis)} | {_mib(r.tandem)} |"
        )
    lines += [
        "",
        "RSS is read after each size's measurements; peak is the process's high-water mark "
        "since it started (VmHWM).",
        "",
        "### Latency p50 / p95 (ms), growth of p95 from one size to the next, and the aims",
        "",
        "| path | " + " | ".join(f"{r.size:,}" for r in results) + " | p95 growth | aim at 100k |",
        "|---|" + "---:|" * len(results) + "---|---|",
    ]
    for key, (label, _, _) in METRICS.items():
        cells = " | ".join(_cell(r.figure(key)) for r in results)
        extra = ""
        details = [r.figure(key) for r in results]
        hits = [f.detail for f in details if f is not None and f.detail]
        if hits:
            extra = f" ({', '.join(hits)})"
        lines.append(
            f"| {label}{extra} | {cells} | {_growth(results, key, 'p95_ms')} | "
            f"{_verdict(results, key)} |"
        )
    cells = " | ".join(_cell(r.figure("create")) for r in results)
    lines.append(
        f"| ticket creates/s, {args.creators} concurrent (p50 / p95 ms of one create) | "
        f"{cells} | {_growth(results, 'create', 'rate_per_s')} (rate) | "
        f"{_verdict(results, 'create')} |"
    )
    lines += ["", *_growth_aim(results), "", "### Notes", ""]
    errors = [
        f"{r.size:,}: {f.key} had {f.errors} failed requests, first: {f.first_error}"
        for r in results
        for f in r.figures
        if f.errors
    ]
    cpu = [
        f"CPU per create at {r.size:,} tickets (ms, by program; {cores} cores here): "
        + ", ".join(f"{name} {ms:g}" for name, ms in sorted(f.cpu_ms.items(), key=lambda i: -i[1]))
        + f"; {sum(f.cpu_ms.values()):.0f} ms in all, so at most about "
        f"{cores * 1000 / max(sum(f.cpu_ms.values()), 1):.0f} creates/s on these cores."
        for r in results
        if (f := r.figure("create")) is not None and f.cpu_ms
    ]
    lines += [f"- {n}" for n in [*notes, *cpu, *STANDING_NOTES, *errors]]
    return "\n".join(lines) + "\n"
