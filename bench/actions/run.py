"""The per-action cost probe in one command; writes its section of BENCHMARKS.md.

    .venv/bin/python -m bench.actions.run                 # this tree as "after", vs before.json
    .venv/bin/python -m bench.actions.run --save-before   # this tree becomes the "before"
    .venv/bin/python -m bench.actions.run --render-only   # the section from before.json alone

Starts its own FerretDB and Redis, runs Tandem in-process (the API over httpx's ASGI
transport), signs up a workspace with an owner and an agent, then runs each action of
bench/actions/actions.py inside a counting window of bench/actions/spy.py: a warm-up, then
--repeat measured runs. The section keeps the before figures stored in bench/actions/before.json
(actions, and the fan-out figures bench.actions.fanout_before records) next to this run's.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

import msgspec

from bench.actions.actions import ACTIONS, Action, Bench
from bench.actions.report import PREAMBLE, render
from bench.actions.results import (
    BEFORE,
    ROOT,
    ActionResult,
    Before,
    Measurement,
    load_before,
    save_before,
    summarize,
)
from bench.actions.spy import ActionCounts, ActionSpy
from bench.fanout.report import machine
from bench.sections import replace_section

PAUSED_SWEEP_SECONDS = 24 * 3600.0


def say(message: str) -> None:
    print(f"[actions] {message}", file=sys.stderr, flush=True)


def head_commit() -> str:
    answer = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10
    )
    return answer.stdout.strip() or "unknown"


def pause_background() -> list[str]:
    """A web process that sweeps outboxes every few seconds would have the sweep's reads land in
    some windows and not others. It only matters after a crash, so it is put off here."""
    import app.main as main_module

    interval = "SWEEP_EVERY_SECONDS"  # read by sweep_forever before each of its sleeps
    if hasattr(main_module, "sweep_forever") and hasattr(main_module, interval):
        setattr(main_module, interval, PAUSED_SWEEP_SECONDS)
        return [
            "The web process's periodic outbox sweep (events a crashed writer left behind) was "
            "put off for the run, so that it never lands in a window; the relay's own publish "
            "is counted."
        ]
    return [
        "The web process runs no periodic outbox sweep of its own (no `app.main.sweep_forever`). "
        "The probe runs no background worker: work an action hands to one is counted only as "
        "far as handing it over (its Redis commands in the window)."
    ]


async def run_action(spy: ActionSpy, bench: Bench, action: Action, args: Args) -> ActionResult:
    runs: list[ActionCounts] = []
    for i in range(args.warmup + args.repeat):
        act = await action.prepare(bench)
        async with spy.measure() as window:
            await act()
        if i >= args.warmup:
            runs.append(window.counts)
    result = summarize(action.key, action.label, runs)
    say(f"{action.key}: {result.totals}" + (f" varied: {result.varied}" if result.varied else ""))
    return result


async def probe(args: Args, tmp: Path) -> tuple[list[ActionResult], list[str]]:
    # Imported here, not at the top: --render-only then works on a tree whose app is mid-change.
    from app.devservices import local_services
    from app.main import create_app
    from app.settings import Settings

    notes: list[str] = []
    with local_services(ROOT / "var", persist=False, data_dir=tmp) as services:
        assert services.mongodb_url
        assert services.redis_url
        spy = ActionSpy(services.redis_url)  # its store listener before the app's client
        notes += pause_background()
        settings = Settings(
            mongodb_url=services.mongodb_url,
            mongodb_db="bench_actions",
            redis_url=services.redis_url,
            secret_key=secrets.token_hex(32),
            var_dir=tmp,
        )
        app = create_app(settings)
        async with app.router.lifespan_context(app), spy:
            bench = await Bench.sign_up(app)
            try:
                results = [await run_action(spy, bench, action, args) for action in ACTIONS]
            finally:
                await bench.aclose()
    return results, notes


class Args(argparse.Namespace):
    repeat: int
    warmup: int
    save_before: bool
    render_only: bool
    before: Path
    output: Path
    result: Path


def parse(argv: list[str] | None = None) -> Args:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="measured runs of each action")
    parser.add_argument("--warmup", type=int, default=1, help="unmeasured runs first")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--save-before", action="store_true", help="store this run as before")
    mode.add_argument("--render-only", action="store_true", help="measure nothing")
    parser.add_argument("--before", type=Path, default=BEFORE, help="the before figures")
    parser.add_argument("--output", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument(
        "--result", type=Path, default=ROOT / "var" / "bench" / "actions" / "last.json"
    )
    args = parser.parse_args(argv, namespace=Args())
    if not 1 <= args.repeat <= 100 or not 0 <= args.warmup <= 10:
        parser.error("--repeat is 1..100 and --warmup 0..10")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    before = load_before(args.before)
    if not args.render_only:
        box = machine()
        with tempfile.TemporaryDirectory(prefix="tandem-actions-") as tmp:
            results, notes = asyncio.run(probe(args, Path(tmp)))
        command = ".venv/bin/python -m bench.actions.run" + (
            " --save-before" if args.save_before else ""
        )
        after = Measurement(
            command=command,
            machine=box,
            commit=head_commit(),
            tree=box["Tandem tree"],
            warmup=args.warmup,
            repeat=args.repeat,
            actions=results,
            notes=notes,
        )
        args.result.parent.mkdir(parents=True, exist_ok=True)
        args.result.write_bytes(msgspec.json.encode(after))
        if args.save_before:
            before = Before(actions=after, fanout=before.fanout)
            say(f"stored as before in {args.before}")
        else:
            before.actions_after = after
        save_before(args.before, before)
    section = render(before, before.actions_after)
    args.output.write_text(replace_section(args.output, section, PREAMBLE))
    print(section)
    say(f"wrote its section of {args.output}")


if __name__ == "__main__":
    main()
