"""Stats API periods: Plausible's periods as site-local days, the previous period, buckets."""

from __future__ import annotations

import datetime as dt

import pytest

from dashboard.periods import DateRange, parse_period
from footfall.clock import ManualClock

NOW = ManualClock().now_ms  # 2023-11-15 12:00 UTC: 19:00 in Hà Nội, 04:00 in Los Angeles
D = dt.date.fromisoformat

CASES = [
    ({"period": "day"}, "Asia/Ho_Chi_Minh", "2023-11-15", "2023-11-15", "hour"),
    ({"period": "day"}, "America/Los_Angeles", "2023-11-15", "2023-11-15", "hour"),
    ({"period": "day"}, "Pacific/Kiritimati", "2023-11-16", "2023-11-16", "hour"),  # UTC+14
    ({"period": "7d"}, "UTC", "2023-11-09", "2023-11-15", "date"),
    ({"period": "30d"}, "UTC", "2023-10-16", "2023-11-15", "date"),
    ({}, "UTC", "2023-10-16", "2023-11-15", "date"),
    ({"period": "month", "date": "2024-02-10"}, "UTC", "2024-02-01", "2024-02-29", "date"),
    ({"period": "6mo"}, "UTC", "2023-06-01", "2023-11-30", "month"),
    ({"period": "12mo", "date": "2023-01-05"}, "UTC", "2022-02-01", "2023-01-31", "month"),
    ({"period": "custom", "date": "2023-01-01, 2023-01-03"}, "UTC", "2023-01-01", "2023-01-03", "date"),
    ({"period": "7d", "interval": "day"}, "UTC", "2023-11-09", "2023-11-15", "date"),
]  # fmt: skip


@pytest.mark.parametrize(("params", "tz", "first", "last", "interval"), CASES)
def test_periods_are_days_of_the_sites_timezone(params, tz, first, last, interval):
    period = parse_period(params, tz, NOW)
    assert (period.range.first, period.range.last, period.interval) == (D(first), D(last), interval)


def test_a_day_in_ho_chi_minh_starts_at_17_utc_the_day_before():
    day = DateRange(D("2023-11-16"), D("2023-11-16"), "Asia/Ho_Chi_Minh")
    start, end = day.utc_bounds_ms()
    assert dt.datetime.fromtimestamp(start / 1000, dt.UTC) == dt.datetime(
        2023, 11, 15, 17, tzinfo=dt.UTC
    )
    assert end - start == 86_400_000


@pytest.mark.parametrize(
    ("params", "first", "last"),
    [
        ({"period": "day"}, "2023-11-14", "2023-11-14"),
        ({"period": "7d"}, "2023-11-02", "2023-11-08"),
        ({"period": "month"}, "2023-10-17", "2023-10-31"),  # this month so far: 15 days
        ({"period": "month", "date": "2023-10-01"}, "2023-08-31", "2023-09-30"),  # 31 days
        ({"period": "7d", "date": "2023-11-25"}, "2023-11-19", "2023-11-18"),  # after today: none
    ],
)
def test_the_previous_period_is_as_long_as_this_one_so_far(params, first, last):
    previous = parse_period(params, "UTC", NOW).previous()
    assert (previous.first, previous.last) == (D(first), D(last))


def test_hours_follow_daylight_saving_time():
    spring = DateRange(D("2024-03-31"), D("2024-03-31"), "Europe/Berlin")
    hours = list(spring.buckets("hour"))
    assert len(hours) == 23 and "2024-03-31 02:00:00" not in hours
    autumn = DateRange(D("2024-10-27"), D("2024-10-27"), "Europe/Berlin")
    assert len(list(autumn.buckets("hour"))) == 24  # 02:00 twice, named once


def test_whole_hour_timezones_can_use_utc_hours():
    assert DateRange(D("2023-11-15"), D("2023-11-15"), "Asia/Ho_Chi_Minh").whole_hour_offsets()
    assert not DateRange(D("2023-11-15"), D("2023-11-15"), "Asia/Kolkata").whole_hour_offsets()


def test_month_buckets_start_on_the_first():
    months = DateRange(D("2023-11-20"), D("2024-02-10"), "UTC").buckets("month")
    assert list(months) == ["2023-11-01", "2023-12-01", "2024-01-01", "2024-02-01"]
