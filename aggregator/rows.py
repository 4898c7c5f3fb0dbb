"""From a stream entry to a row of ClickHouse's `events` table, and the sites' days.

A row is a tuple of `COLUMNS`, nothing else: what the aggregator needs of an
event after making its row (its site and stream id for the deduplication token
and the acknowledgement, its type, visit and article for the hot counters, its
date for the late days) it reads from the row's columns. The row's `date` is the
event's own, dated by the collector in its site's timezone; `SiteDays` gives the
sites' days where no event says them: closing, the late days, and the entries an
older collector wrote without a date. Timestamps and dates go to ClickHouse as
integers (ms, days), which clickhouse-connect writes to `DateTime64(3)` and
`Date` as they are: no datetime object per event. A row is a tuple, not a list:
a batch's rows live until it is acknowledged, and the garbage collector stops
scanning a tuple of plain values after its first pass (it keeps scanning every
list, in every later collection).

Each row of a visit's event carries the visit's entry properties (`visit_*`,
`footfall.visit_rows`): the event's own when it starts the visit, else those of the
entry event its stream entry carries (`ve`), enriched once per visit (`_visit_of`).
"""

from __future__ import annotations

import datetime as dt
import time
import zoneinfo
from collections.abc import Set
from functools import lru_cache

import redis.asyncio

from aggregator.enrich import Enriched, enrich
from footfall import keys, visit_rows
from footfall.sites import site_from_mirror
from footfall.wire import UNDATED, days_since_epoch, decode_entry, decode_event, visit_entry_of

Entry = tuple[bytes, dict[bytes, bytes]]
"""A stream entry as XREADGROUP returns it: its id, and its fields (`footfall.wire`)."""
Row = tuple
"""A row of ClickHouse's `events`, in the order of `COLUMNS`."""

# The event's own columns, then the enrichment's, in the order `enrich` returns them.
COLUMNS = [
    "site", "ts", "date", "type", "name", "visitor_id", "visit_start", "new_visit",
    "pageview_number", "duration_ms", "pageview_id", "article_id", "title", "referrer",
    "country", "screen_width", "engaged_ms", "scroll_depth", "props", "stream_id",
    *Enriched._fields, *(visit_rows.stamped(name) for name in visit_rows.STAMPED),
]  # fmt: skip
SITE, DATE, TYPE, NEW_VISIT, ARTICLE, STREAM_ID = (
    COLUMNS.index(name) for name in ("site", "date", "type", "new_visit", "article_id", "stream_id")
)
_UTC = dt.UTC
SITES_REFRESH_SECONDS = 30.0


def to_row(site: str, entry: Entry, days: SiteDays) -> Row:
    """The row of one entry of `site`'s stream; raises what its decoding or a column's
    bounds raise. The row's site is its stream's, which the batch acknowledges.

    `days` must know the site (`SiteDays.know`): an entry an older collector wrote is
    dated by the site's timezone.
    """
    stream_id, fields = entry
    event = decode_entry(fields)
    if event.date == UNDATED:
        event.date = days_since_epoch(days.date_of(site, event.ts))
    enriched = enrich(event)
    if event.new_visit:
        visit = _stamp(enriched, event.country)
    else:
        started = visit_entry_of(fields)
        visit = _visit_of(started) if started else _NO_VISIT
    return (
        site,
        event.ts,
        event.date,
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
        *enriched,
        *visit,
    )


def _stamp(entry: Enriched, country: str) -> tuple[str, ...]:
    """The `visit_*` values of a visit whose entry event was enriched as `entry`, in the
    order of `visit_rows.STAMPED`."""
    return (
        entry.source_name, entry.referrer_host, entry.utm_source, entry.utm_medium,
        entry.utm_campaign, entry.utm_content, entry.utm_term, country, entry.device,
        entry.browser, entry.browser_version, entry.os, entry.os_version, entry.path,
    )  # fmt: skip


_NO_VISIT = ("",) * len(visit_rows.STAMPED)
"""The `visit_*` values of an event outside any visit, or of a visit an older collector
started (its entry is not known)."""


@lru_cache(maxsize=16_384)
def _visit_of(started: bytes) -> tuple[str, ...]:
    """The `visit_*` values of the visit the encoded event `started` started: a visit's
    later events are often in one batch, so each visit is decoded and enriched once."""
    event = decode_event(started)
    return _stamp(enrich(event), event.country)


# Every timezone's offset is a whole number of quarter hours: within one quarter
# hour of UTC, all moments fall on the same local day.
_QUARTER_HOUR_MS = 900_000


class SiteDays:
    """The day of a moment in a site's timezone, from the mirror, refreshed now and then:
    for closing, the late days, and the entries an older collector wrote without a date.

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
