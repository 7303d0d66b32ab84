from __future__ import annotations

import pytest

from realtime.ratelimit import TokenBucket


def test_a_burst_is_allowed_then_frames_pass_at_the_rate() -> None:
    bucket = TokenBucket(rate=10, burst=5)

    assert [bucket.take(100.0) for _ in range(6)] == [True] * 5 + [False]
    assert bucket.take(100.05) is False  # half a token so far
    assert bucket.take(100.1) is True
    assert bucket.take(100.1) is False


def test_an_idle_bucket_refills_only_up_to_the_burst() -> None:
    bucket = TokenBucket(rate=10, burst=3)
    for _ in range(3):
        bucket.take(0.0)

    assert bucket.available(3600.0) == 3
    assert [bucket.take(3600.0) for _ in range(4)] == [True, True, True, False]


def test_a_clock_stepping_back_mints_no_tokens() -> None:
    bucket = TokenBucket(rate=1, burst=1)
    assert bucket.take(50.0)

    assert bucket.take(10.0) is False  # stepped back 40 s
    assert bucket.take(50.5) is False  # only half a second after the last real take
    assert bucket.take(51.0) is True


def test_a_bucket_that_could_never_pass_a_frame_is_refused() -> None:
    with pytest.raises(ValueError, match="positive rate"):
        TokenBucket(rate=0, burst=5)
    with pytest.raises(ValueError, match="room for one frame"):
        TokenBucket(rate=1, burst=0.5)
