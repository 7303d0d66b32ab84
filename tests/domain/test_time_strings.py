"""Moments as the API writes them sort as the moments do, so a thread is in order even when
a message was stored on a whole second."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from app.schemas.common import iso


def test_api_times_sort_like_the_moments_they_name() -> None:
    base = datetime(2026, 11, 30, 12, 0, 0, tzinfo=UTC)
    moments = [base + timedelta(microseconds=us) for us in (0, 1000, 999_000, 1_000_000)]
    strings = [iso(m) for m in moments]
    assert strings == sorted(strings)  # type: ignore[type-var]
    assert strings[0] == "2026-11-30T12:00:00.000Z"
    lisbon_summer = timezone(timedelta(hours=1))
    assert iso(datetime(2026, 7, 1, 13, 0, tzinfo=lisbon_summer)) == "2026-07-01T12:00:00.000Z"
    assert iso(None) is None
