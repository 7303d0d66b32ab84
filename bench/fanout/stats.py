"""Percentiles and the per-run summary the load generator writes."""

from __future__ import annotations

import math

import msgspec


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest rank: the smallest value with at least p% of the values at or below it."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


class Latency(msgspec.Struct):
    p50_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float

    @classmethod
    def of(cls, seconds: list[float]) -> Latency:
        ms = sorted(s * 1000 for s in seconds)
        mean = sum(ms) / len(ms) if ms else math.nan
        return cls(percentile(ms, 50), percentile(ms, 99), ms[-1] if ms else math.nan, mean)


class RunResult(msgspec.Struct):
    mode: str
    servers: int
    sockets: int  # subscribed before the first change
    connect_failures: int
    changes: int
    latency: Latency  # write request start -> frame bytes received, over every delivery
    first_delivery: Latency  # per change, its earliest delivery: the pipeline without fan-out
    write: Latency  # how long the write request itself took
    deliveries: int
    expected: int
    missing: int  # never received, not even in the grace period after the last change
    late: int  # received after that change's wait had timed out (counted in latency too)
    duplicates: int
    unexpected: int  # change frames for no change the writer made
    deliveries_per_s: float  # deliveries / sum over changes of (last delivery - write start)
    frame_bytes: int  # median size of a change frame as received
    closed_by_server: dict[str, int]  # close code -> sockets, during the measured part
    open_seconds: float
    deflate_negotiated: int
    conflicts: int
    window: tuple[float, float]  # monotonic start of the first write, end of the last wait
    notes: list[str]
