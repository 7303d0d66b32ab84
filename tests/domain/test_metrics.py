"""The dashboard's arithmetic: which tickets count where, hours of the day, medians."""

from datetime import UTC, datetime, timedelta

import pytest

from app.domain.errors import Invalid
from app.domain.metrics import Group, hour_spans, hourly, local_day, median_seconds, tally, zone


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
    day = local_day(now, zone("UTC"))
    assert (day.start, day.end) == (
        datetime(2026, 3, 4, tzinfo=UTC),
        datetime(2026, 3, 5, tzinfo=UTC),
    )
    times = [
        datetime(2026, 3, 4, 0, 0),  # naive, as the store gives them back
        datetime(2026, 3, 4, 15, 10, tzinfo=UTC),
        datetime(2026, 3, 4, 15, 59, tzinfo=UTC),
        datetime(2026, 3, 3, 23, 59, tzinfo=UTC),  # yesterday: not counted
    ]
    buckets = hourly(times, day)
    assert len(buckets) == 24
    assert buckets[0] == 1
    assert buckets[15] == 2
    assert sum(buckets) == 3


def test_today_begins_at_the_workspaces_midnight() -> None:
    tokyo = zone("Asia/Tokyo")  # UTC+9
    day = local_day(datetime(2026, 3, 4, 20, 0, tzinfo=UTC), tokyo)  # already the 5th there
    assert day.start == datetime(2026, 3, 4, 15, 0, tzinfo=UTC)
    assert hourly([datetime(2026, 3, 4, 16, 30, tzinfo=UTC)], day)[1] == 1  # 01:30 in Tokyo


def test_a_clocks_back_day_has_25_hours_and_counts_them_all() -> None:
    lisbon = zone("Europe/Lisbon")  # clocks go back at 02:00 local on 2026-10-25
    day = local_day(datetime(2026, 10, 25, 12, 0, tzinfo=UTC), lisbon)
    assert day.end - day.start == timedelta(hours=25)
    both_one_oclocks = [
        datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
        datetime(2026, 10, 25, 1, 30, tzinfo=UTC),
    ]
    assert hourly(both_one_oclocks, day)[1] == 2


def test_unknown_time_zones_are_refused_by_name() -> None:
    with pytest.raises(Invalid, match="Mars/Olympus"):
        zone("Mars/Olympus")


def test_median_first_response() -> None:
    t0 = datetime(2026, 3, 4, 9, tzinfo=UTC)
    pairs = [(t0, t0 + timedelta(seconds=s)) for s in (30, 600, 90)]
    assert median_seconds(pairs) == 90.0
    assert median_seconds([]) is None


def test_hour_spans_follow_the_local_clock() -> None:
    utc = local_day(datetime(2026, 3, 4, 12, 0, tzinfo=UTC), zone("UTC"))
    spans = hour_spans(utc)
    assert [h for h, _, _ in spans] == list(range(24))
    assert spans[0][1] == utc.start
    assert spans[-1][2] == utc.end
    # Half an hour off UTC: each local hour still starts on its own :00.
    kolkata = local_day(datetime(2026, 3, 4, 12, 0, tzinfo=UTC), zone("Asia/Kolkata"))
    assert all(start.astimezone(kolkata.tz).minute == 0 for _, start, _ in hour_spans(kolkata))
    # The clocks go back in Lisbon: 25 hours, the repeated 1 o'clock twice.
    lisbon = local_day(datetime(2026, 10, 25, 12, 0, tzinfo=UTC), zone("Europe/Lisbon"))
    hours = [h for h, _, _ in hour_spans(lisbon)]
    assert len(hours) == 25
    assert hours.count(1) == 2
