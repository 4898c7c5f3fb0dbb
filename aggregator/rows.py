"""From a stream event to a row of ClickHouse's `events` table.

The row's `date` is the event's day in its site's timezone, so that daily
rollups are the site's days; timezones come from the sites' Redis mirror.
Timestamps go to ClickHouse as integer milliseconds, which clickhouse-connect
writes to `DateTime64(3)` as they are: no datetime object per event. A row is a
tuple, not a list: a batch's rows live until it is acknowledged, and the garbage
collector stops scanning a tuple of plain values after its first pass (it keeps
scanning every list, in every later collection).
"""

from __future__ import annotations

import datetime as dt
import time
import zoneinfo
from collections.abc import Set

import redis.asyncio

from aggregator.enrich import Enriched, enrich
from footfall import keys
from footfall.sites import site_from_mirror
from footfall.wire import StreamEvent

# The event's own columns, then the enrichment's, in the order `enrich` returns them.
COLUMNS = [
    "site", "ts", "date", "type", "name", "visitor_id", "visit_start", "new_visit",
    "pageview_number", "duration_ms", "pageview_id", "article_id", "title", "referrer",
    "country", "screen_width", "engaged_ms", "scroll_depth", "props", "stream_id",
    *Enriched._fields,
]  # fmt: skip
_UTC = dt.UTC
SITES_REFRESH_SECONDS = 30.0


def to_row(stream_id: bytes, event: StreamEvent, date: dt.date) -> tuple:
    return (
        event.site,
        event.ts,
        date,
        event.type,
        event.name,
        event.visitor_id,
        event.visit_start,
        1 if event.new_visit else 0,
        min(event.pageview_number, 65_535),
        min(event.duration_ms, 4_294_967_295),
        event.pageview_id,
        event.article,
        event.title,
        event.referrer,
        event.country,
        min(event.screen_width, 65_535),
        min(event.engaged_ms, 4_294_967_295),
        event.scroll_depth,
        event.props,
        stream_id.decode(),
        *enrich(event),
    )


# Every timezone's offset is a whole number of quarter hours: within one quarter
# hour of UTC, all moments fall on the same local day.
_QUARTER_HOUR_MS = 900_000


class SiteDays:
    """The day of a moment in a site's timezone, from the mirror, refreshed now and then.

    `know` (async: it may read the mirror) comes first for a batch's sites, so that
    `date_of` can run for each event without awaiting anything.
    """

    def __init__(self, redis: redis.asyncio.Redis):
        self._redis = redis
        self._zones: dict[str, zoneinfo.ZoneInfo] = {}
        self._days: dict[tuple[str, int], dt.date] = {}
        self._loaded_at = -SITES_REFRESH_SECONDS

    async def know(self, sites: Set[str]) -> None:
        """Reload the mirror when it is stale, or when it lacks one of `sites` (once a second
        at most: a site just added gets its timezone, an unknown one is UTC)."""
        age = time.monotonic() - self._loaded_at
        if age > SITES_REFRESH_SECONDS or (age > 1.0 and not self._zones.keys() >= sites):
            await self._load()

    def date_of(self, site: str, ts_ms: int) -> dt.date:
        key = (site, ts_ms // _QUARTER_HOUR_MS)
        day = self._days.get(key)
        if day is None:
            zone = self._zones.get(site, _UTC)
            day = dt.datetime.fromtimestamp(ts_ms / 1000, _UTC).astimezone(zone).date()
            if len(self._days) > 100_000:
                self._days.clear()
            self._days[key] = day
        return day

    def timezone_of(self, site: str) -> str:
        return str(self._zones.get(site, _UTC))

    async def _load(self) -> None:
        mirror = await self._redis.hgetall(keys.SITES)
        self._zones = {
            domain.decode(): zoneinfo.ZoneInfo(site_from_mirror(raw).timezone)
            for domain, raw in mirror.items()
        }
        self._days.clear()
        self._loaded_at = time.monotonic()
