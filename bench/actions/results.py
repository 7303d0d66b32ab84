"""What a probe run keeps: per-action medians, what varied, and the stored "before" figures."""

from __future__ import annotations

import statistics
from pathlib import Path

import msgspec

from bench.actions.spy import ActionCounts

ROOT = Path(__file__).resolve().parents[2]
BEFORE = Path(__file__).resolve().parent / "before.json"
GROUPS = ("events", "store", "store_targets", "redis", "redis_in_scripts", "locks", "ignored")


class ActionResult(msgspec.Struct):
    key: str
    label: str
    runs: int
    totals: dict[str, int]  # each total's median over the runs
    median: ActionCounts  # each count's median over the runs
    varied: dict[str, list[int]] = {}  # "group.name" -> every run's value, for what differed


class Measurement(msgspec.Struct):
    command: str
    machine: dict[str, str]
    commit: str  # HEAD of the measured tree, in full
    tree: str  # as the machine table names it (short sha, dirty or not)
    warmup: int
    repeat: int
    actions: list[ActionResult]
    notes: list[str]


class Figures(msgspec.Struct):
    write_p50_ms: float
    latency_p50_ms: float
    latency_p99_ms: float
    first_delivery_p50_ms: float


class FanoutRun(msgspec.Struct):
    """One `bench.fanout.run` at one socket count: Tandem and the floor, same run."""

    change: str
    sockets: int
    servers: int
    changes: int
    command: str
    date: str
    tree: str
    loadavg_start: list[float]
    loadavg_end: list[float]
    tandem: Figures
    floor: Figures
    notes: list[str] = []


class Before(msgspec.Struct):
    """The figures BENCHMARKS.md's actions section is rendered from: the "before" side, kept
    from the tree before the actions layer, and the latest "after" side of this tree."""

    actions: Measurement | None = None
    fanout: dict[str, list[FanoutRun]] = {}  # by change kind, in the order they ran
    actions_after: Measurement | None = None
    fanout_after: dict[str, list[FanoutRun]] = {}


def load_before(path: Path) -> Before:
    if not path.exists():
        return Before()
    return msgspec.json.decode(path.read_bytes(), type=Before)


def save_before(path: Path, before: Before) -> None:
    path.write_bytes(msgspec.json.format(msgspec.json.encode(before), indent=1) + b"\n")


def flat(counts: ActionCounts) -> dict[str, int]:
    out = {f"total.{k}": v for k, v in counts.totals().items()}
    for group in GROUPS:
        mapping: dict[str, int] = getattr(counts, group)
        out.update({f"{group}.{k}": v for k, v in mapping.items()})
    out["store_failed"] = counts.store_failed
    return out


def _median(values: list[int]) -> int:
    return int(statistics.median_low(values))


def summarize(key: str, label: str, runs: list[ActionCounts]) -> ActionResult:
    flats = [flat(c) for c in runs]
    names = sorted({name for f in flats for name in f})
    values = {name: [f.get(name, 0) for f in flats] for name in names}
    varied = {name: v for name, v in values.items() if len(set(v)) > 1}

    def group(prefix: str) -> dict[str, int]:
        picked = {
            name[len(prefix) + 1 :]: _median(v)
            for name, v in values.items()
            if name.startswith(prefix + ".")
        }
        return {k: n for k, n in picked.items() if n}

    median = ActionCounts(
        events=group("events"),
        store=group("store"),
        store_targets=group("store_targets"),
        store_failed=_median(values.get("store_failed", [0])),
        redis=group("redis"),
        redis_in_scripts=group("redis_in_scripts"),
        locks=group("locks"),
        ignored=group("ignored"),
    )
    totals = {k: _median([c.totals()[k] for c in runs]) for k in runs[0].totals()}
    return ActionResult(key, label, len(runs), totals, median, varied)
