"""What one run of bench/store measured, kept as JSON so the section can be rendered again."""

from __future__ import annotations

import statistics
from pathlib import Path

import msgspec


class Timing(msgspec.Struct):
    key: str
    samples: int
    p50_ms: float
    p95_ms: float
    errors: int = 0


class SizeResult(msgspec.Struct):
    backend: str
    tickets: int
    messages: int
    contacts: int
    fill_seconds: float
    timings: list[Timing]
    creates: int
    create_seconds: float
    create_errors: int
    store_pss_mib: float  # FerretDB and, on PostgreSQL, every PostgreSQL process
    ferretdb_rss_mib: float
    postgres_processes: int
    load_average: str = ""  # the machine's 1-minute load average when the size was done

    @property
    def creates_per_second(self) -> float:
        return self.creates / self.create_seconds if self.create_seconds else 0.0

    def timing(self, key: str) -> Timing | None:
        return next((t for t in self.timings if t.key == key), None)


class Run(msgspec.Struct):
    command: str
    machine: dict[str, str]
    settings: dict[str, str]
    results: list[SizeResult]
    notes: list[str] = msgspec.field(default_factory=list)


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0 to 100), interpolated; a single value is its own percentile."""
    if len(values) == 1:
        return values[0]
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[max(0, min(98, round(q) - 1))]


def timing(key: str, seconds: list[float], errors: int) -> Timing:
    ms = [s * 1000 for s in seconds] or [0.0]
    return Timing(
        key=key,
        samples=len(seconds),
        p50_ms=percentile(ms, 50),
        p95_ms=percentile(ms, 95),
        errors=errors,
    )


def save(path: Path, run: Run) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(msgspec.json.format(msgspec.json.encode(run)))


def load(path: Path) -> Run:
    return msgspec.json.decode(path.read_bytes(), type=Run)
