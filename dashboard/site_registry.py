"""The site registry: ClickHouse's `sites` table is the record, Redis's `ff:sites` its mirror.

Every change writes ClickHouse first, then the mirror, then publishes the
domain on `ff:sites:changed` so collectors refresh their cache. `sync_mirror()`
rebuilds the mirror from ClickHouse (at start, or after Redis lost it).
"""

from __future__ import annotations

import datetime as dt
import time

import msgspec
import redis.asyncio
import redis.exceptions

from dashboard.sql import records
from footfall import keys, tables
from footfall.connections import AsyncClickHouse
from footfall.sites import (
    InvalidSite,
    Site,
    check_site,
    normalize_domain,
    site_from_mirror,
    site_to_json,
)


class SiteExists(Exception):
    pass


class SiteRegistry:
    def __init__(self, clickhouse: AsyncClickHouse, redis: redis.asyncio.Redis):
        self._clickhouse = clickhouse
        self._redis = redis

    async def list(self) -> list[Site]:
        rows = await self._clickhouse.query(records.SITES)
        return [_site(row) for row in rows]

    async def get(self, domain: str) -> Site | None:
        rows = await self._clickhouse.query(records.SITE, {"domain": normalize_domain(domain)})
        return _site(rows[0]) if rows else None

    async def mirrored(self, domain: str) -> Site | None:
        """`get`, read from the Redis mirror: every stats call names its site, and this
        asks ClickHouse, whose one connection the call's queries wait for, only when the
        mirror does not have it (an unknown site, a mirror not rebuilt yet, Redis down)."""
        try:
            found = await self._redis.hget(keys.SITES, normalize_domain(domain))
            if found is not None:
                return site_from_mirror(found)
        except (redis.exceptions.RedisError, InvalidSite):
            pass
        return await self.get(domain)

    async def add(self, site: Site) -> Site:
        site = check_site(site)
        if await self.get(site.domain) is not None:
            raise SiteExists(site.domain)
        await self._write(site, deleted=False)
        return site

    async def update(self, site: Site) -> Site:
        site = check_site(site)
        await self._write(site, deleted=False)
        return site

    async def delete(self, site: Site) -> None:
        await self._write(site, deleted=True)

    async def sync_mirror(self) -> int:
        """Make the Redis mirror equal ClickHouse; returns the number of sites."""
        sites = await self.list()
        mirrored = {d.decode() for d in await self._redis.hkeys(keys.SITES)}
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(keys.SITES)
            if sites:
                pipe.hset(keys.SITES, mapping={s.domain: site_to_json(s) for s in sites})
            await pipe.execute()
        for domain in mirrored | {s.domain for s in sites}:
            await self._redis.publish(keys.SITES_CHANNEL, domain)
        return len(sites)

    async def _write(self, site: Site, *, deleted: bool) -> None:
        now_ns = time.time_ns()
        updated_at = dt.datetime.fromtimestamp(now_ns / 1e9, dt.UTC)
        row = [*msgspec.structs.astuple(site), updated_at, deleted, now_ns]
        await self._clickhouse.insert(tables.SITES, [row], records.SITE_COLUMNS)
        if deleted:
            await self._redis.hdel(keys.SITES, site.domain)
        else:
            await self._redis.hset(keys.SITES, site.domain, site_to_json(site))
        # Not in a pipeline: a Redis Cluster's pipeline cannot carry PUBLISH.
        await self._redis.publish(keys.SITES_CHANNEL, site.domain)


def _site(row: tuple) -> Site:
    fields = dict(zip(records.SITE_FIELDS, row, strict=True))
    # ClickHouse answers arrays as lists; a Site holds tuples (it is frozen and hashable).
    fields["excluded_ips"] = tuple(fields["excluded_ips"])
    fields["excluded_paths"] = tuple(fields["excluded_paths"])
    return Site(**fields)
