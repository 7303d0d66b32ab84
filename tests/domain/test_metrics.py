"""The dashboard's arithmetic: which tickets count where, hours of the day, medians."""

from datetime import UTC, datetime, timedelta

from app.domain.metrics import Group, day_start, hourly, median_seconds, tally


def test_views_count_active_tickets_and_status_counts_all() -> None:
    counted = tally(
        [
            Group("open", "me", "t1", "webchat", 2),
            Group("pending", None, None, "email", 3),
            Group("resolved", "me", "t1", "webchat", 5),
            Group("open", "bo", None, "webchat", 1),
        ],
        me="me",
    )
    assert dict(counted.views) == {"mine": 2, "unassigned": 3, "all": 6}
    assert counted.status["resolved"] == 5
    assert counted.status["closed"] == 0
    assert dict(counted.teams) == {"t1": 2, "": 4}
    assert dict(counted.channels) == {"webchat": 3, "email": 3}
    assert dict(counted.assignees) == {"me": 2, "bo": 1}


def test_hours_of_the_day_and_naive_store_times() -> None:
    now = datetime(2026, 3, 4, 15, 30, tzinfo=UTC)
    start = day_start(now)
    assert start == datetime(2026, 3, 4, tzinfo=UTC)
    times = [
        datetime(2026, 3, 4, 0, 0),  # naive, as the store gives them back
        datetime(2026, 3, 4, 15, 10, tzinfo=UTC),
        datetime(2026, 3, 4, 15, 59, tzinfo=UTC),
        datetime(2026, 3, 3, 23, 59, tzinfo=UTC),  # yesterday: not counted
    ]
    buckets = hourly(times, start)
    assert len(buckets) == 24
    assert buckets[0] == 1
    assert buckets[15] == 2
    assert sum(buckets) == 3


def test_median_first_response() -> None:
    t0 = datetime(2026, 3, 4, 9, tzinfo=UTC)
    pairs = [(t0, t0 + timedelta(seconds=s)) for s in (30, 600, 90)]
    assert median_seconds(pairs) == 90.0
    assert median_seconds([]) is None
