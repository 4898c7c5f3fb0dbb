"""What an operator looks at first: the pipeline's state, from Redis and ClickHouse, at one time.

`gather(redis, clickhouse, now_ms)` reads: the streams' length and their oldest
waiting event (acknowledged events are deleted, so what is left is the
aggregators' backlog), the consumer group's lag and pending entries per
consumer (sums over the registered sites' streams), the dead letters, the
newest event in ClickHouse, and per site the events the collector stored this
minute and the last (its `accepted:<minute>` counters), the events inserted in
the last 60 s and the visitors online; and, given them, the state of `footfall
serve`'s embedded Redis (restarts, or why supervision gave up) and the free
space on the data dir's file system. A
store that does not answer is reported, not raised: a status screen is most
wanted when something is down. `footfall status` renders it (`status_screen`);
the dashboard serves it as JSON for the CLI when a server owns the data dir.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import shutil
from pathlib import Path

import msgspec
import redis.asyncio
import redis.exceptions

from footfall import keys
from footfall.connections import AsyncClickHouse
from footfall.sites import site_from_mirror

_REDIS_ERRORS = (redis.exceptions.RedisError, OSError)


class Consumer(msgspec.Struct):
    name: str
    pending: int
    idle_ms: int


class SiteStatus(msgspec.Struct):
    domain: str
    stored_this_minute: int = 0
    stored_last_minute: int = 0
    online: int = 0
    inserted_last_60s: int | None = None
    """None when ClickHouse was not asked or did not answer."""
    public_counters: bool = False
    """Whether anyone may read its counters (and so its online visitors)."""


LOW_DISK_BYTES = 256 << 20
"""Free space below which the data dir's disk is a problem (or below 5 % of a small one):
Redis and ClickHouse refuse writes when it runs out."""


class EmbeddedRedisStatus(msgspec.Struct):
    state: str
    """`running`, `restarting`, or `failed` (supervision gave up: `footfall serve` stops)."""
    restarts: int = 0
    problem: str | None = None
    """Why it last exited, or why supervision gave up."""


class Status(msgspec.Struct):
    at_ms: int
    stream_length: int | None = None
    oldest_waiting_ms: int | None = None
    """Arrival time of the oldest event not yet acknowledged (None: the stream is empty)."""
    group_lag: int | None = None
    """Entries not yet delivered to any aggregator (None: unknown, or no group yet)."""
    group_pending: int | None = None
    consumers: list[Consumer] = []
    dead_letters: int | None = None
    newest_in_clickhouse_ms: int | None = None
    """Arrival time of the newest event in ClickHouse in the last 7 days."""
    sites: list[SiteStatus] = []
    embedded_redis: EmbeddedRedisStatus | None = None
    """None: Redis is not the embedded one (or no server runs it)."""
    disk_free_bytes: int | None = None
    """Free space on the data dir's file system (None: not asked)."""
    problems: dict[str, str] = {}


async def gather(
    redis_client: redis.asyncio.Redis,
    clickhouse: AsyncClickHouse | None,
    now_ms: int,
    *,
    embedded_redis: EmbeddedRedisStatus | None = None,
    data_dir: Path | None = None,
) -> Status:
    status = Status(at_ms=now_ms, embedded_redis=embedded_redis)
    if embedded_redis and embedded_redis.state != "running":
        status.problems["embedded redis"] = f"{embedded_redis.state}: {embedded_redis.problem}"
    if data_dir is not None:
        with contextlib.suppress(OSError):
            disk = shutil.disk_usage(data_dir)
            status.disk_free_bytes = disk.free
            if disk.free < min(LOW_DISK_BYTES, disk.total // 20):
                status.problems["disk"] = f"{disk.free / 1e6:,.1f} MB free on the data dir's disk"
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
    rows = await clickhouse.query(
        "SELECT site, countIf(ts >= {now:DateTime64(3)} - INTERVAL 60 SECOND), max(ts) "
        "FROM events WHERE ts >= {now:DateTime64(3)} - INTERVAL 7 DAY GROUP BY site",
        {"now": now},
    )
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


def to_json(status: Status) -> bytes:
    return msgspec.json.encode(status)


def from_json(data: bytes) -> Status:
    return msgspec.json.decode(data, type=Status)
