"""The hot counters in Redis, reseeded from ClickHouse's all-time totals.

Between reseeds the aggregator adds each batch's deltas (see `ack.lua`); a
reseed replaces every site's totals and article views with ClickHouse's sums
and sets the `ff:counters:seeded` marker that lets deltas apply again.
"""

from __future__ import annotations

import redis.asyncio

from aggregator import sql
from footfall import keys
from footfall.connections import AsyncClickHouse, is_cluster

CHUNK = 10_000


async def reseed(redis: redis.asyncio.Redis, clickhouse: AsyncClickHouse) -> None:
    sites = await clickhouse.query(sql.SITE_TOTALS)
    articles = await clickhouse.query(sql.ARTICLE_TOTALS)
    stale = [k async for k in redis.scan_iter(match="ff:{*}:totals", count=1000)]
    stale += [k async for k in redis.scan_iter(match="ff:{*}:views", count=1000)]
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
            for site, views in by_site.items():
                pipe.hset(keys.article_views(site), mapping=views)
        pipe.set(keys.COUNTERS_SEEDED, "1")
        await pipe.execute()
