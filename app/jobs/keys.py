"""Redis key names of the job queue.

Every key carries the hash tag `{jobs}`, so the Lua scripts and transactions that touch
several of them stay in one Redis Cluster slot:

    <prefix>:{jobs}:stream          stream of jobs to run, field "j" = the encoded Job
    <prefix>:{jobs}:dead            stream of jobs that failed for good, field "j"
    <prefix>:{jobs}:retry           sorted set: job id -> when its next attempt is due (ms)
    <prefix>:{jobs}:retry:jobs      hash: job id -> the encoded Job of that attempt
    <prefix>:{jobs}:timers          sorted set: timer key -> due time (ms)
    <prefix>:{jobs}:timers:jobs     hash: timer key -> the encoded Job it fires
    <prefix>:{jobs}:timers:marks    hash: timer key -> idempotency key of that firing
    <prefix>:{jobs}:key:<key>       marker of an idempotency key: queued, done or dead
    <prefix>:{jobs}:guard:<name>    SET NX PX guard (one periodic enqueue per period)
"""

from __future__ import annotations

from dataclasses import dataclass

GROUP = "workers"


@dataclass(frozen=True)
class DueSetKeys:
    due: str
    jobs: str
    marks: str


@dataclass(frozen=True)
class JobKeys:
    prefix: str

    @property
    def base(self) -> str:
        return f"{self.prefix}:{{jobs}}"

    @property
    def stream(self) -> str:
        return f"{self.base}:stream"

    @property
    def dead(self) -> str:
        return f"{self.base}:dead"

    @property
    def marker_prefix(self) -> str:
        return f"{self.base}:key:"

    def marker(self, key: str) -> str:
        return self.marker_prefix + key

    def guard(self, name: str) -> str:
        return f"{self.base}:guard:{name}"

    def due_set(self, name: str) -> DueSetKeys:
        return DueSetKeys(
            due=f"{self.base}:{name}",
            jobs=f"{self.base}:{name}:jobs",
            marks=f"{self.base}:{name}:marks",
        )

    @property
    def retries(self) -> DueSetKeys:
        return self.due_set("retry")

    @property
    def timers(self) -> DueSetKeys:
        return self.due_set("timers")
