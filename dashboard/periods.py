"""Time periods of the Stats API: `period`, `date`, `interval`, `compare` -> site-local dates.

A period is a range of whole days in the site's timezone (Asia/Ho_Chi_Minh
for a Vietnamese portal), as Plausible's Stats API v1 defines them: `day`,
`7d` (the date and the 6 days before), `30d` (the date and the 30 days
before: 31 days, as Plausible), `month`, `6mo` and `12mo` (whole calendar
months ending with the date's), `custom` (`date=YYYY-MM-DD,YYYY-MM-DD`).
`date` defaults to today in the site's timezone, by the clock given.
The previous period (`compare=previous_period`) is as long as the period up to
today and ends the day before it starts: a period that starts after today has
none. A period, and the previous one, lie within `FIRST_DATE`..`LAST_DATE`.
Errors are Plausible's messages, and ours where Plausible has none.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from footfall.web import ApiError

PERIODS = ("day", "7d", "30d", "month", "6mo", "12mo", "custom")
INTERVALS = ("hour", "date", "month")
DEFAULT_PERIOD = "30d"
MAX_HOURLY_DAYS = 31
# Ten years: enough for any report, and a bound on a time series' buckets.
MAX_CUSTOM_DAYS = 3660
DOCS = "https://plausible.io/docs/stats-api#time-periods"
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# The days ClickHouse can name: `Date` columns span 1970-01-01..2149-06-06 and
# `DateTime` ones end on 2106-02-07, and arithmetic past either end wraps around
# silently (1970-01-01 - 1 is 2149-06-06). The queries read a day or two beyond a
# range, so the span keeps clear of both ends.
FIRST_DATE = dt.date(1971, 1, 1)
LAST_DATE = dt.date(2105, 12, 31)
OUT_OF_SPAN = f"Invalid `date` parameter: periods lie between {FIRST_DATE} and {LAST_DATE}."


@dataclass(frozen=True)
class DateRange:
    """Whole days `first`..`last` (inclusive) in `timezone`; none when `last` is the day
    before `first` (the previous period of a period after today)."""

    first: dt.date
    last: dt.date
    timezone: str

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def until(self, last: dt.date) -> DateRange:
        """The days from this range's first to `last`."""
        return DateRange(self.first, last, self.timezone)

    def utc_bounds_ms(self) -> tuple[int, int]:
        """[start, end) of the range in milliseconds since the epoch (UTC)."""
        zone = zoneinfo.ZoneInfo(self.timezone)
        start = dt.datetime.combine(self.first, dt.time(), zone)
        end = dt.datetime.combine(self.last + dt.timedelta(days=1), dt.time(), zone)
        return _ms(start), _ms(end)

    def whole_hour_offsets(self) -> bool:
        """The timezone's offset is whole hours over the range: UTC hours are local hours."""
        zone = zoneinfo.ZoneInfo(self.timezone)
        ends = (self.first, self.last + dt.timedelta(days=1))
        return all(_offset_seconds(day, zone) % 3600 == 0 for day in ends)

    def buckets(self, interval: str) -> Iterator[str]:
        """Every bucket label of the range, in order, as the time series names them."""
        if interval == "month":
            month = self.first.replace(day=1)
            while month <= self.last:
                yield month.isoformat()
                month = (month + dt.timedelta(days=32)).replace(day=1)
        elif interval == "date":
            for n in range(self.days):
                yield (self.first + dt.timedelta(days=n)).isoformat()
        else:
            yield from self._hours()

    def _hours(self) -> Iterator[str]:
        # Step through UTC hours and name them locally: a DST change repeats or skips one.
        zone = zoneinfo.ZoneInfo(self.timezone)
        start_ms, end_ms = self.utc_bounds_ms()
        seen = set()
        for ms in range(start_ms, end_ms, 3_600_000):
            local = dt.datetime.fromtimestamp(ms / 1000, zone)
            label = local.strftime("%Y-%m-%d %H:00:00")
            if label not in seen:
                seen.add(label)
                yield label


@dataclass(frozen=True)
class Period:
    name: str
    range: DateRange
    interval: str
    today: dt.date

    def previous(self) -> DateRange:
        """Plausible's previous period: as many days as this one up to today, just before it
        (none when this one starts after today)."""
        so_far = max((min(self.range.last, self.today) - self.range.first).days + 1, 0)
        first = self.range.first - dt.timedelta(days=so_far)
        if first < FIRST_DATE:
            raise ApiError(400, OUT_OF_SPAN)
        return DateRange(first, self.range.first - dt.timedelta(days=1), self.range.timezone)


def parse_period(params: Mapping[str, str], timezone: str, now_ms: int) -> Period:
    """The period the query parameters ask for, in the site's timezone."""
    zone = zoneinfo.ZoneInfo(timezone)
    today = dt.datetime.fromtimestamp(now_ms / 1000, zone).date()
    name = params.get("period", DEFAULT_PERIOD)
    if name not in PERIODS:
        raise ApiError(
            400,
            f"Error parsing `period` parameter: invalid period `{name}`. "
            f"Please find accepted values in our docs: {DOCS}",
        )
    if name == "custom":
        first, last = _custom_dates(params)
    else:
        first, last = _named_range(name, _single_date(params, today))
    if first < FIRST_DATE or last > LAST_DATE:
        raise ApiError(400, OUT_OF_SPAN)
    date_range = DateRange(first, last, timezone)
    return Period(name, date_range, _interval(params, name, date_range), today)


def _named_range(name: str, date: dt.date) -> tuple[dt.date, dt.date]:
    if name == "day":
        return date, date
    if name == "7d":
        return date - dt.timedelta(days=6), date
    if name == "30d":
        return date - dt.timedelta(days=30), date
    if name == "month":
        return date.replace(day=1), _end_of_month(date)
    months = 6 if name == "6mo" else 12
    return _add_months(date.replace(day=1), 1 - months), _end_of_month(date)


def _single_date(params: Mapping[str, str], today: dt.date) -> dt.date:
    text = params.get("date")
    if text is None:
        return today
    date, problem = _iso_date(text)
    if date is None:
        raise ApiError(
            400,
            f"Error parsing `date` parameter: {problem}. "
            "Please specify a valid date in ISO-8601 format.",
        )
    return date


def _custom_dates(params: Mapping[str, str]) -> tuple[dt.date, dt.date]:
    text = params.get("date")
    if text is None:
        raise ApiError(
            400, f"The `date` parameter is required when using a custom period. See {DOCS}"
        )
    parts = text.split(",")
    dates = [_iso_date(part.strip())[0] for part in parts] if len(parts) == 2 else [None]
    if any(date is None for date in dates):
        raise ApiError(
            400,
            "Invalid format for `date` parameter. When using a custom period, please include "
            f"two ISO-8601 formatted dates joined by a comma. See {DOCS}",
        )
    first, last = dates
    assert first is not None and last is not None
    if first > last:
        raise ApiError(400, "Invalid `date` parameter: the first date is after the second.")
    if (last - first).days + 1 > MAX_CUSTOM_DAYS:
        raise ApiError(
            400, f"Invalid `date` parameter: a custom period spans at most {MAX_CUSTOM_DAYS} days."
        )
    return first, last


def _interval(params: Mapping[str, str], name: str, date_range: DateRange) -> str:
    interval = params.get("interval")
    if interval is None:
        return {"day": "hour", "6mo": "month", "12mo": "month"}.get(name, "date")
    interval = "date" if interval == "day" else interval  # Plausible's newer name for `date`
    if interval not in INTERVALS:
        raise ApiError(
            400,
            f"Error parsing `interval` parameter: invalid interval `{params['interval']}`. "
            "Valid intervals are `hour`, `date`, `month`",
        )
    if interval == "hour" and date_range.days > MAX_HOURLY_DAYS:
        raise ApiError(
            400,
            "Error parsing `interval` parameter: `hour` is available for periods of "
            f"up to {MAX_HOURLY_DAYS} days.",
        )
    return interval


def _iso_date(text: str) -> tuple[dt.date | None, str]:
    if not _ISO_DATE.match(text):
        return None, "invalid_format"
    try:
        date = dt.date.fromisoformat(text)
    except ValueError:
        return None, "invalid_date"
    # Refused here too, before a period's arithmetic runs past Python's years 1 and 9999.
    if not FIRST_DATE <= date <= LAST_DATE:
        return None, "invalid_date"
    return date, ""


def _end_of_month(date: dt.date) -> dt.date:
    return _add_months(date.replace(day=1), 1) - dt.timedelta(days=1)


def _add_months(first_of_month: dt.date, months: int) -> dt.date:
    index = first_of_month.year * 12 + first_of_month.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _offset_seconds(day: dt.date, zone: zoneinfo.ZoneInfo) -> int:
    offset = dt.datetime.combine(day, dt.time(), zone).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def _ms(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)
