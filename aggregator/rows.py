"""From a stream event to a row of ClickHouse's `events` table.

The row's `date` is the event's day in its site's timezone, so that daily
rollups are the site's days; timezones come from the sites' Redis mirror.
"""

from __future__ import annotations

import datetime as dt
import time
import zoneinfo

import redis.asyncio

from aggregator.enrich import enrich
from footfall import keys
from footfall.sites import site_from_json
from footfall.wire import StreamEvent

COLUMNS = [
    "site", "ts", "date", "type", "name", "visitor_id", "visit_start", "new_visit",
    "pageview_number", "duration_ms", "pageview_id", "hostname", "path", "article_id", "title",
    "referrer", "referrer_host", "source", "source_name", "utm_source", "utm_medium",
    "utm_campaign", "utm_content", "utm_term", "country", "browser", "browser_version", "os",
    "os_version", "device", "screen_width", "engaged_ms", "scroll_depth", "props", "stream_id",
]  # fmt: skip
_UTC = dt.UTC
SITES_REFRESH_SECONDS = 30.0


def to_row(stream_id: bytes, event: StreamEvent, date: dt.date) -> list:
    e = enrich(event)
    return [
        event.site,
        _time(event.ts),
        date,
        event.type,
        event.name,
        event.visitor_id,
        _time(event.visit_start),
        1 if event.new_visit else 0,
        min(event.pageview_number, 65_535),
        min(event.duration_ms, 4_294_967_295),
        event.pageview_id,
        e.hostname,
        e.path,
        event.article,
        event.title,
        event.referrer,
        e.referrer_host,
        e.source,
        e.source_name,
        e.utm_source,
        e.utm_medium,
        e.utm_campaign,
        e.utm_content,
        e.utm_term,
        event.country,
        e.browser,
        e.browser_version,
        e.os,
        e.os_version,
        e.device,
        min(event.screen_width, 65_535),
        min(event.engaged_ms, 4_294_967_295),
        event.scroll_depth,
        event.props,
        stream_id.decode(),
    ]


def _time(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, _UTC)


# Every timezone's offset is a whole number of quarter hours: within one quarter
# hour of UTC, all moments fall on the same local day.
_QUARTER_HOUR_MS = 900_000


class SiteDays:
    """The day of a moment in a site's timezone, from the mirror, refreshed now and then."""

    def __init__(self, redis: redis.asyncio.Redis):
        self._redis = redis
        self._zones: dict[str, zoneinfo.ZoneInfo] = {}
        self._days: dict[tuple[str, int], dt.date] = {}
        self._loaded_at = 0.0

    async def date_of(self, site: str, ts_ms: int) -> dt.date:
        if time.monotonic() - self._loaded_at > SITES_REFRESH_SECONDS:
            await self._load()
        key = (site, ts_ms // _QUARTER_HOUR_MS)
        day = self._days.get(key)
        if day is None:
            zone = self._zones.get(site)
            if zone is None and time.monotonic() - self._loaded_at > 1.0:
                await self._load()
                zone = self._zones.get(site)
            day = _time(ts_ms).astimezone(zone or _UTC).date()
            if len(self._days) > 100_000:
                self._days.clear()
            self._days[key] = day
        return day

    async def _load(self) -> None:
        mirror = await self._redis.hgetall(keys.SITES)
        self._zones = {
            domain.decode(): zoneinfo.ZoneInfo(site_from_json(raw).timezone)
            for domain, raw in mirror.items()
        }
        self._days.clear()
        self._loaded_at = time.monotonic()
