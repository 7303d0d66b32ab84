"""Tunables of the job queue, shared by every part that touches the same keys."""

from __future__ import annotations

import random
from dataclasses import dataclass

DAY = 86_400.0


@dataclass(frozen=True, kw_only=True)
class JobConfig:
    prefix: str = "tandem"
    max_attempts: int = 5  # runs of one job before it goes to the dead letters
    backoff_base: float = 1.0  # seconds before the first retry; doubles each attempt
    backoff_cap: float = 300.0
    # A job whose worker stopped refreshing its claim for this long is taken over by another.
    claim_idle: float = 30.0
    concurrency: int = 4  # handlers running at once in one consumer
    job_timeout: float = 600.0  # a handler still running after this counts as failed
    # How long "done", "dead" and "queued" markers of keyed jobs are kept.
    marker_ttl: float = 7 * DAY
    poll: float = 1.0  # longest wait of one stream read: bounds how late a stop is noticed
    pump_every: float = 0.25  # how often due retries and timers are moved into the stream
    drain: float = 10.0  # after a stop, running handlers get this long to finish

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.concurrency < 1:
            raise ValueError("max_attempts and concurrency must be at least 1")
        for name in ("claim_idle", "job_timeout", "marker_ttl", "poll", "pump_every"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")

    def retry_delay(self, attempt: int) -> float:
        """Seconds before retrying after failed run number `attempt`: exponential, with jitter
        so jobs that failed together (a provider outage) do not all come back together."""
        ceiling = min(self.backoff_cap, self.backoff_base * 2.0 ** (attempt - 1))
        return ceiling / 2 + random.uniform(0.0, ceiling / 2)
