"""A token bucket on an explicit clock: pure, so flooding is tested without sleeping."""

from __future__ import annotations


class TokenBucket:
    """Allows `burst` frames at once and `rate` frames a second after that.

    `now` is any monotonic time in seconds; the bucket starts full at its first use."""

    # Every socket holds three of these (frames, resumes, strikes).
    __slots__ = ("_at", "_tokens", "burst", "rate")

    def __init__(self, rate: float, burst: float) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("a bucket needs a positive rate and room for one frame")
        self.rate = rate
        self.burst = burst
        self._tokens = burst
        self._at: float | None = None

    def take(self, now: float, cost: float = 1.0) -> bool:
        self._refill(now)
        # The epsilon forgives float error in summed clock deltas (0.05 + 0.05 < 0.1).
        if self._tokens + 1e-9 < cost:
            return False
        self._tokens -= cost
        return True

    def available(self, now: float) -> float:
        self._refill(now)
        return self._tokens

    def _refill(self, now: float) -> None:
        if self._at is not None and now > self._at:
            self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        # A clock that steps back must not mint tokens later when it catches up again.
        if self._at is None or now > self._at:
            self._at = now
