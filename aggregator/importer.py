"""Backfill: historical page views from a CSV file, through the stream and the aggregator.

The file has a header row; columns (any order, unknown ones ignored):

| column | required | meaning |
| --- | --- | --- |
| `timestamp` | yes | ISO 8601 (`2020-05-13T10:25:00+07:00`; no offset means UTC) or Unix seconds |
| `url` | yes | the page's http(s) URL |
| `site` | unless `--site` | the site's domain (else the URL's host) |
| `visitor` | no | any text naming a visitor (a session id, a hashed IP...) |
| `referrer`, `title`, `article`, `country` (ISO code), `user_agent` | no | as in the Events API |

Rows should come in time order, as logs do: visits are decided as the rows
come, by the same 30-minute rule the collector applies. Without a `visitor`
column each row is its own visitor and visit. A visitor's id changes at the site's
midnight, as the collector's does: one name on two days is a visitor on each. The
events are added to the stream in chunks and inserted by the aggregator like live
ones, so the rollups and hot counters include them. A row stamped after now is
refused, as the collector stamps events when received.

Redis keeps how far each file's import went, by the file's SHA-256 (`keys.IMPORTS`):
a file imported before, whole or in part, is refused, since its rows would count
twice, unless the import is asked for `again`.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import hashlib
import itertools
import json
import zoneinfo
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import redis.asyncio

from footfall import keys
from footfall.clock import Clock, system_clock
from footfall.sites import Site, normalize_domain, site_from_mirror
from footfall.wire import StreamEvent, days_since_epoch, encode_event, stream_entry

REQUIRED = ("timestamp", "url")


class BadRow(ValueError):
    """A row the importer cannot read; says which line and column."""


class ImportedBefore(ValueError):
    """The file was imported before, whole or in part; says when and how much."""


@dataclass
class Visit:
    start: int
    last: int
    pageviews: int
    entry: bytes
    """Its first page view, encoded: its later events carry it (`wire.stream_entry`)."""


class Visits:
    """The collector's visit rule, applied to rows in time order."""

    def __init__(self, gap_ms: int):
        self._gap = gap_ms
        self._current: dict[tuple[str, int], Visit] = {}

    def entry(self, event: StreamEvent) -> dict[str, bytes | int]:
        """The stream entry of a page view, with its visit (`wire.stream_entry`)."""
        key = (event.site, event.visitor_id)
        visit = self._current.get(key)
        if visit is None or event.ts - visit.last >= self._gap:
            self._current[key] = Visit(event.ts, event.ts, 1, encode_event(event))
            return stream_entry(event, True, event.ts, 1, 0)
        added = max(event.ts - visit.last, 0)
        visit.last = max(visit.last, event.ts)
        visit.pageviews += 1
        return stream_entry(event, False, visit.start, visit.pageviews, added, visit.entry)


def read_rows(lines: Iterable[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) pairs of a CSV file, checked for the required columns."""
    reader = csv.DictReader(lines)
    missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
    if missing:
        raise BadRow(f"line 1: missing column(s) {', '.join(missing)}")
    for row in reader:
        yield reader.line_num, row


def stream_entries(
    rows: Iterable[tuple[int, dict[str, str]]],
    sites: dict[str, Site],
    *,
    default_site: str | None,
    visit_gap_ms: int,
    now_ms: int,
) -> Iterator[tuple[str, dict[str, bytes | int]]]:
    """(site, stream entry) of each row, the entry as the collector would have written it."""
    visits = Visits(visit_gap_ms)
    for line, row in rows:
        url = row["url"].strip()
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise BadRow(f"line {line}: url must be an http(s) URL, not {url!r}")
        domain = normalize_domain(row.get("site") or default_site or parts.hostname)
        site = sites.get(domain)
        if site is None:
            raise BadRow(f"line {line}: no site is registered for {domain}")
        ts = _timestamp(row["timestamp"], line)
        if ts > now_ms:
            raise BadRow(f"line {line}: timestamp {row['timestamp'].strip()!r} is in the future")
        day = dt.datetime.fromtimestamp(ts / 1000, zoneinfo.ZoneInfo(site.timezone)).date()
        visitor = _visitor(f"{row.get('visitor') or f'{domain}:{line}'}\x00{day}")
        event = StreamEvent(
            ts=ts,
            site=domain,
            date=days_since_epoch(day),
            type="pageview",
            name="pageview",
            url=url,
            visitor_id=visitor,
            referrer=row.get("referrer") or "",
            article=row.get("article") or site.article_of(url),
            title=row.get("title") or "",
            country=(row.get("country") or "").upper()[:2],
            user_agent=row.get("user_agent") or "",
        )
        yield domain, visits.entry(event)


def _timestamp(text: str, line: int) -> int:
    text = text.strip()
    try:
        if text.replace(".", "", 1).isdigit():
            return round(float(text) * 1000)
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise BadRow(f"line {line}: timestamp {text!r} is not ISO 8601 or Unix seconds") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return round(moment.timestamp() * 1000)


def _visitor(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


CHUNK = 5_000
MAX_IN_FLIGHT = 50_000


async def import_file(
    path: str,
    redis: redis.asyncio.Redis,
    *,
    default_site: str | None,
    visit_gap_ms: int,
    drain: Callable[[], Awaitable[object]] | None,
    on_progress: Callable[[int, int], None] = lambda done, total: None,
    clock: Clock = system_clock,
    again: bool = False,
) -> int:
    """Import a CSV file; returns the number of page views added.

    The whole file is checked before anything is added, so a bad row adds
    nothing; a file imported before is refused (`ImportedBefore`) unless `again`.
    `drain` inserts what was added (no server running); without it, a running
    server's aggregator does, and the import waits for it to keep up.
    """
    now_ms = clock()
    digest = _digest(path)
    if not again:  # before reading the whole file, which may be long
        await _refuse_if_imported(redis, digest)
    sites = {
        domain.decode(): site_from_mirror(raw)
        for domain, raw in (await redis.hgetall(keys.SITES)).items()
    }

    def entries() -> Iterator[tuple[str, dict[str, bytes | int]]]:
        with open(path, encoding="utf-8-sig", newline="") as f:
            yield from stream_entries(
                read_rows(f),
                sites,
                default_site=default_site,
                visit_gap_ms=visit_gap_ms,
                now_ms=now_ms,
            )

    total = sum(1 for _ in entries())
    done = 0
    on_progress(done, total)
    record = {"rows": total, "added": done, "started": now_ms}
    if again:
        await redis.hset(keys.IMPORTS, digest, json.dumps(record))
    elif not await redis.hsetnx(keys.IMPORTS, digest, json.dumps(record)):
        await _refuse_if_imported(redis, digest)  # the same file, started meanwhile
    rows = entries()
    while chunk := list(itertools.islice(rows, CHUNK)):
        record["added"] = done + len(chunk)
        async with redis.pipeline(transaction=False) as pipe:
            for site, entry in chunk:
                pipe.xadd(keys.stream(site), entry)
            # In the chunk's round trip, after its rows: a stop between the two leaves
            # the record short, never long.
            pipe.hset(keys.IMPORTS, digest, json.dumps(record))
            await pipe.execute()
        if drain is not None:
            await drain()
        else:
            streams = {keys.stream(site) for site, _ in chunk}
            while await _in_flight(redis, streams) > MAX_IN_FLIGHT:
                await asyncio.sleep(0.2)
        done += len(chunk)
        on_progress(done, total)
    return done


def _digest(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


async def _refuse_if_imported(redis: redis.asyncio.Redis, digest: str) -> None:
    before = await redis.hget(keys.IMPORTS, digest)
    if before is not None:
        raise ImportedBefore(_imported_before(json.loads(before)))


def _imported_before(record: dict[str, int]) -> str:
    started = dt.datetime.fromtimestamp(record["started"] / 1000, dt.UTC)
    when = f"{started:%Y-%m-%d %H:%M} UTC"
    if record["added"] >= record["rows"]:
        done = f"was imported on {when} ({record['rows']} page views)"
    else:
        done = (
            f"was imported in part on {when}: at least {record['added']} of its "
            f"{record['rows']} page views were added before that import stopped"
        )
    return (
        f"this file {done}; importing it again would count them twice. "
        "Use --again to import it all the same."
    )


async def _in_flight(redis: redis.asyncio.Redis, streams: set[str]) -> int:
    async with redis.pipeline(transaction=False) as pipe:
        for stream in streams:
            pipe.xlen(stream)
        return sum(await pipe.execute())
