"""The pipeline's state, from Redis and ClickHouse, at one time: what an operator looks at first.

`gather(redis, clickhouse, now_ms)` reads: the streams' length and their oldest
waiting event (acknowledged events are deleted, so what is left is the
aggregators' backlog), the consumer group's lag and pending entries per
consumer (sums over the registered sites' streams), the dead letters, the
newest event in ClickHouse, and per site the events the collector stored this
minute and the last (its `accepted:<minute>` counters), the events inserted in
the last 60 s and the visitors online. A
store that does not answer is reported, not raised: a status screen is most
wanted when something is down. The report's shape is the kernel's
(`footfall.status`); `/metrics` renders it as gauges (`aggregator.gauges`), and
`footfall status` on a screen (`app.operator_status`).
"""

from __future__ import annotations

import datetime as dt

import redis.asyncio
import redis.exceptions

from aggregator import sql
from footfall import keys
from footfall.connections import AsyncClickHouse
from footfall.sites import site_from_mirror
from footfall.status import Consumer, SiteStatus, Status

_REDIS_ERRORS = (redis.exceptions.RedisError, OSError)


async def gather(
    redis_client: redis.asyncio.Redis,
    clickhouse: AsyncClickHouse | None,
    now_ms: int,
) -> Status:
    status = Status(at_ms=now_ms)
    try:
        await _from_redis(redis_client, status)
    except _REDIS_ERRORS as e:
        status.problems["redis"] = f"{type(e).__name__}: {e}"
    if clickhouse is None:
        status.problems["clickhouse"] = "not asked"
        return status
    try:
        await _from_clickhouse(clickhouse, status)
    except Exception as e:  # any driver's error: the screen shows it
        status.problems["clickhouse"] = f"{type(e).__name__}: {e}"
    return status


async def _from_redis(client: redis.asyncio.Redis, status: Status) -> None:
    async with client.pipeline(transaction=False) as pipe:
        pipe.xlen(keys.DEAD_LETTERS)
        pipe.hgetall(keys.SITES)
        dead, sites = await pipe.execute()
    status.dead_letters = dead
    mirrored = sorted((domain.decode(), site_from_mirror(raw)) for domain, raw in sites.items())
    minute = status.at_ms // 60_000
    async with client.pipeline(transaction=False) as pipe:
        for domain, site in mirrored:
            pipe.get(keys.accepted(domain, minute))
            pipe.get(keys.accepted(domain, minute - 1))
            pipe.zcount(keys.online(domain), status.at_ms - site.online_window * 1000, "+inf")
            pipe.xlen(keys.stream(domain))
            pipe.xrange(keys.stream(domain), count=1)
            pipe.exists(keys.stream(domain))
        counts = await pipe.execute()
    status.stream_length = 0
    streams: dict[str, int] = {}
    for i, (domain, site) in enumerate(mirrored):
        this, last, online, length, oldest, exists = counts[6 * i : 6 * i + 6]
        status.sites.append(
            SiteStatus(
                domain,
                int(this or 0),
                int(last or 0),
                online,
                public_counters=site.public_counters,
            )
        )
        status.stream_length += length
        if oldest:
            waiting = int(oldest[0][0].split(b"-")[0])
            status.oldest_waiting_ms = min(status.oldest_waiting_ms or waiting, waiting)
        if exists:
            streams[keys.stream(domain)] = length
    if streams:
        await _group(client, status, streams)


async def _group(client: redis.asyncio.Redis, status: Status, streams: dict[str, int]) -> None:
    """The group's lag, pending entries and consumers, summed over the streams (each
    stream's length given)."""
    async with client.pipeline(transaction=False) as pipe:
        for stream in streams:
            pipe.xinfo_groups(stream)
        groups = [
            next((g for g in found if _text(g["name"]) == keys.CONSUMER_GROUP), None)
            for found in await pipe.execute()
        ]
    grouped = [stream for stream, group in zip(streams, groups, strict=True) if group]
    if not grouped:
        status.problems["aggregators"] = "no consumer group yet: no aggregator has started"
        return
    status.group_lag = sum(
        _lag(group, streams[stream]) for stream, group in zip(streams, groups, strict=True) if group
    )
    status.group_pending = sum(g["pending"] for g in groups if g)
    async with client.pipeline(transaction=False) as pipe:
        for stream in grouped:
            pipe.xinfo_consumers(stream, keys.CONSUMER_GROUP)
        found = await pipe.execute()
    consumers: dict[str, Consumer] = {}
    for c in (c for stream_consumers in found for c in stream_consumers):
        name = _text(c["name"])
        seen = consumers.setdefault(name, Consumer(name, 0, c["idle"]))
        seen.pending += c["pending"]
        seen.idle_ms = min(seen.idle_ms, c["idle"])
    status.consumers = [consumers[name] for name in sorted(consumers)]


async def _from_clickhouse(clickhouse: AsyncClickHouse, status: Status) -> None:
    now = dt.datetime.fromtimestamp(status.at_ms / 1000, dt.UTC).replace(tzinfo=None)
    rows = await clickhouse.query(sql.INSERTED_BY_SITE, {"now": now})
    inserted = {site: count for site, count, _ in rows}
    newest = max((ts for _, _, ts in rows), default=None)
    if newest is not None:
        status.newest_in_clickhouse_ms = int(newest.replace(tzinfo=dt.UTC).timestamp() * 1000)
    known = {s.domain for s in status.sites}
    status.sites += [SiteStatus(site) for site in sorted(inserted) if site not in known]
    for site in status.sites:
        site.inserted_last_60s = inserted.get(site.domain, 0)


def _lag(group: dict, length: int) -> int:
    """Entries the group has not delivered yet. Redis 7 counts them (`lag`); before 7, and
    in 7 once entries were deleted past the group's position, it says nothing. Then the
    stream's length tells: every acknowledged entry is deleted with its acknowledgement,
    so what is left is either pending (delivered) or not delivered yet."""
    lag = group.get("lag")
    return lag if lag is not None else max(length - group["pending"], 0)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
