"""Store a fan-out run's write-path figures as the "before" side (or, with --after, this
tree's side), in bench/actions/before.json.

    .venv/bin/python -m bench.fanout.run --sockets 1000 --idle 0 --change status \
        --logs /tmp/fanout-status --output /tmp/fanout-status.md
    .venv/bin/python -m bench.actions.fanout_before /tmp/fanout-status

Reads the summary.json that bench.fanout.run leaves in each --logs directory given, adds
each run to the stored runs of its change kind (--replace forgets those first), then
re-renders the actions section of BENCHMARKS.md from before.json (measuring nothing).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import msgspec

from bench.actions.report import PREAMBLE, render
from bench.actions.results import BEFORE, ROOT, FanoutRun, Figures, load_before, save_before
from bench.fanout.report import Pair
from bench.fanout.stats import RunResult
from bench.sections import replace_section


class Summary(msgspec.Struct):
    command: str
    change: str
    servers: int
    changes: int
    date: str
    tree: str
    loadavg_start: list[float]
    loadavg_end: list[float]
    pairs: list[Pair]
    notes: list[str] = []


def figures(run: RunResult) -> Figures:
    return Figures(
        write_p50_ms=round(run.write.p50_ms, 2),
        latency_p50_ms=round(run.latency.p50_ms, 2),
        latency_p99_ms=round(run.latency.p99_ms, 2),
        first_delivery_p50_ms=round(run.first_delivery.p50_ms, 2),
    )


def fanout_run(summary: Summary, sockets: int | None) -> FanoutRun:
    pairs = [p for p in summary.pairs if sockets is None or p.sockets == sockets]
    if not pairs:
        raise SystemExit(f"no run at {sockets} sockets in this summary")
    pair = pairs[0]
    if pair.floor is None or pair.tandem is None:
        raise SystemExit(f"the run at {pair.sockets} sockets failed: {pair.tandem_error}")
    notes = []
    for name, run in (("floor", pair.floor), ("Tandem", pair.tandem)):
        if run.missing or run.late or run.duplicates or run.connect_failures:
            notes.append(
                f"{name}: {run.missing} missing, {run.late} late, {run.duplicates} duplicate "
                f"deliveries, {run.connect_failures} connect failures."
            )
    return FanoutRun(
        change=summary.change,
        sockets=pair.sockets,
        servers=summary.servers,
        changes=summary.changes,
        command=summary.command,
        date=summary.date,
        tree=summary.tree,
        loadavg_start=[round(v, 2) for v in summary.loadavg_start],
        loadavg_end=[round(v, 2) for v in summary.loadavg_end],
        tandem=figures(pair.tandem),
        floor=figures(pair.floor),
        notes=notes,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("logs", type=Path, nargs="+", help="bench.fanout.run --logs directories")
    parser.add_argument("--sockets", type=int, help="which socket count (default: the first)")
    parser.add_argument(
        "--replace", action="store_true", help="forget the stored runs of these change kinds"
    )
    parser.add_argument(
        "--after", action="store_true", help="store them as this tree's runs, not as before"
    )
    parser.add_argument("--note", action="append", default=[], help="a note on these runs")
    parser.add_argument("--before", type=Path, default=BEFORE)
    parser.add_argument("--output", type=Path, default=ROOT / "BENCHMARKS.md")
    args = parser.parse_args(argv)
    before = load_before(args.before)
    runs = [
        fanout_run(
            msgspec.json.decode((logs / "summary.json").read_bytes(), type=Summary), args.sockets
        )
        for logs in args.logs
    ]
    for run in runs:
        run.notes += args.note
    side = before.fanout_after if args.after else before.fanout
    if args.replace:
        for run in runs:
            side.pop(run.change, None)
    for run in runs:
        side.setdefault(run.change, []).append(run)
        print(f"{run.change}: {msgspec.json.encode(run).decode()}")
    save_before(args.before, before)
    section = render(before, before.actions_after)
    args.output.write_text(replace_section(args.output, section, PREAMBLE))


if __name__ == "__main__":
    main()
