"""Small readers of what the collector stored and what the dashboard asked, for assertions."""

from __future__ import annotations

import redis

from aggregator.importer import stream_entries
from footfall import keys
from footfall.connections import AsyncClickHouse
from footfall.sites import Site, site_from_mirror, site_to_json
from footfall.wire import StreamEvent, decode_entry


def stream_events(redis_db: redis.Redis) -> list[StreamEvent]:
    """The events in every site's stream, in order of arrival."""
    streams = redis_db.scan_iter(match=keys.stream("*"), _type="stream")
    entries = [entry for stream in streams for entry in redis_db.xrange(stream)]
    entries.sort(key=lambda entry: tuple(int(n) for n in entry[0].split(b"-")))
    return [decode_entry(fields) for _, fields in entries]


def register(redis_db: redis.Redis, domain: str) -> None:
    """A site in the Redis mirror only, for tests that fill its stream themselves."""
    redis_db.hset(keys.SITES, domain, site_to_json(Site(domain=domain)))


def add_page_views(
    redis_db: redis.Redis,
    domain: str,
    rows: list[tuple[str, str, str]],
    now_ms: int,
    titles: dict[str, str] | None = None,
) -> None:
    """(local time, path, visitor) page views into the site's stream, as an import adds
    them (the times in Hà Nội, +07:00), titled by path from `titles` (else untitled)."""
    site = site_from_mirror(redis_db.hget(keys.SITES, domain))
    titles = titles or {}
    lines = [
        (
            n + 2,
            {
                "timestamp": f"{t}+07:00",
                "url": f"https://{domain}{path}",
                "visitor": visitor,
                "title": titles.get(path, ""),
            },
        )
        for n, (t, path, visitor) in enumerate(rows)
    ]
    entries = stream_entries(
        lines, {domain: site}, default_site=domain, visit_gap_ms=1_800_000, now_ms=now_ms
    )
    for _, entry in entries:
        redis_db.xadd(keys.stream(domain), entry)


def pageview(url: str = "https://news.example/news/story-1.html", **fields) -> dict:
    return {"n": "pageview", "u": url, **fields}


class Recording(AsyncClickHouse):
    """The test's ClickHouse, noting every query it is sent, with its parameters."""

    def __init__(self, client) -> None:  # type: ignore[no-untyped-def]
        super().__init__(client)
        self.calls: list[tuple[str, dict]] = []

    @property
    def statements(self) -> list[str]:
        return [sql for sql, _ in self.calls]

    async def query(self, sql, parameters=None):  # type: ignore[no-untyped-def]
        self.calls.append((sql, dict(parameters or {})))
        return await super().query(sql, parameters)
