"""The hot counters in Redis, reseeded from ClickHouse's all-time totals.

Between reseeds the aggregator adds each batch's deltas (see `ack.lua`); a
reseed replaces every site's totals and article page views with ClickHouse's
sums and sets the `ff:counters:seeded` marker that lets deltas apply again.
Every aggregator reseeds when it starts, so an upgrade that renames a key (as
`ff:{site}:views` became `ff:{site}:pageviews`) needs no step of its own.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import redis.asyncio

from aggregator import sql
from footfall import keys
from footfall.connections import AsyncClickHouse, is_cluster

CHUNK = 10_000

_REPLACED = ("totals", "pageviews", keys.LEGACY_ARTICLE_PAGEVIEWS)


async def reseed(redis: redis.asyncio.Redis, clickhouse: AsyncClickHouse) -> None:
    sites = await clickhouse.query(sql.SITE_TOTALS)
    articles = await clickhouse.query(sql.ARTICLE_TOTALS)
    stale = [key for last in _REPLACED async for key in _site_keys(redis, last)]
    # One transaction on a single Redis; on a Redis Cluster the sites' keys are in many
    # slots, which no transaction spans: the commands go in one pipeline.
    async with redis.pipeline(transaction=not is_cluster(redis)) as pipe:
        if stale:
            pipe.delete(*stale)
        for site, pageviews, visits in sites:
            pipe.hset(keys.totals(site), mapping={"pageviews": pageviews, "visits": visits})
        for start in range(0, len(articles), CHUNK):
            by_site: dict[str, dict[str, int]] = {}
            for site, article, pageviews in articles[start : start + CHUNK]:
                by_site.setdefault(site, {})[article] = pageviews
            for site, article_pageviews in by_site.items():
                pipe.hset(keys.article_pageviews(site), mapping=article_pageviews)
        pipe.set(keys.COUNTERS_SEEDED, "1")
        await pipe.execute()


async def _site_keys(redis: redis.asyncio.Redis, last: str) -> AsyncIterator[bytes | str]:
    """Every site's `ff:{site}:<last>`, and no other key: the glob alone would also match
    an article's readers key (`ff:{site}:readers:<last>`), were an article so named."""
    exact = re.compile(rb"ff:\{[^}]*\}:" + re.escape(last.encode()))
    async for key in redis.scan_iter(match=f"ff:{{*}}:{last}", count=1000):
        if exact.fullmatch(key if isinstance(key, bytes) else key.encode()):
            yield key
