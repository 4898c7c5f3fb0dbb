"""The daily salts and the keyed hashes made with them: counting clients without storing them.

Salts live in Redis, one per calendar date, created by whichever process needs it
first and expiring after three days, so no visitor can be followed across days
and every process computes the same hash. A site takes the salt of its own local
date, and the collector dates its events by that day. The collector hashes visitors
(`collector.visitors`) and rate-limited clients with them, the dashboard the
addresses that fail to log in.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import ipaddress
import secrets
import zoneinfo
from typing import NamedTuple

import redis.asyncio

from footfall import keys
from footfall.single_flight import SingleFlight
from footfall.wire import days_since_epoch

# A date's salt is first asked for where it starts (UTC+14) and last where it ends
# (UTC-12): 50 hours apart.
SALT_TTL_SECONDS = 3 * 86_400


class Day(NamedTuple):
    """One local date: its salt, and its number as ClickHouse counts a `Date`."""

    salt: bytes
    number: int
    """Days since 1970-01-01 (`wire.days_since_epoch`)."""


def local_day(timezone: str, ts_ms: int) -> tuple[str, int, int]:
    """The date (YYYY-MM-DD) at `ts_ms` in `timezone`, with its start and end (ms)."""
    zone = zoneinfo.ZoneInfo(timezone)
    day = dt.datetime.fromtimestamp(ts_ms / 1000, zone).date()
    start = dt.datetime.combine(day, dt.time(), zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), zone)
    return day.isoformat(), int(start.timestamp() * 1000), int(end.timestamp() * 1000)


@functools.lru_cache(maxsize=4)
def keyed_hash(salt: bytes) -> hashlib.blake2b:
    """BLAKE2b (8 bytes) keyed with `salt`, nothing hashed yet: copy it, then update the copy.

    Keying costs a block of its own; copying a keyed hash is a third cheaper than keying
    anew, and the collector hashes twice per event (visitor id, rate-limit key).
    """
    return hashlib.blake2b(key=salt, digest_size=8)


def client_key(salt: bytes, site: str, ip: str) -> str:
    """A keyed hash of the client's address under the day's salt: the IP is never stored.

    An IPv6 client is its /64, the block one subscriber gets: otherwise a single
    machine could take a fresh address for every request.
    """
    if ":" in ip:
        with contextlib.suppress(ValueError):
            ip = str(ipaddress.IPv6Network(f"{ip}/64", strict=False).network_address)
    hashed = keyed_hash(salt).copy()
    hashed.update(f"{site}\x00{ip}".encode(errors="surrogatepass"))
    return hashed.hexdigest()


class Salts:
    """The daily salts, fetched from Redis once a day per process and timezone."""

    def __init__(self, redis: redis.asyncio.Redis):
        self._redis = redis
        self._by_day: dict[str, bytes] = {}
        # timezone -> (start ms, end ms, day) of the day last asked for: the hot path's answer
        self._today: dict[str, tuple[int, int, Day | None]] = {}
        self._fetches: SingleFlight[bytes] = SingleFlight()

    def cached(self, timezone: str, ts_ms: int) -> Day | None:
        """`ts_ms`'s day in `timezone` if it is the day last asked for there, without
        awaiting."""
        start, end, day = self._today.get(timezone, (0, 0, None))
        return day if start <= ts_ms < end else None

    async def for_time(self, timezone: str, ts_ms: int) -> Day:
        day, start, end = local_day(timezone, ts_ms)
        salt = self._by_day.get(day)
        if salt is None:
            salt = await self._fetches.run(day, lambda: self._fetch(day))
            self._by_day = {d: s for d, s in self._by_day.items() if d >= _days_before(day, 2)}
            self._by_day[day] = salt
        today = Day(salt, days_since_epoch(dt.date.fromisoformat(day)))
        self._today[timezone] = (start, end, today)
        return today

    async def _fetch(self, day: str) -> bytes:
        key = keys.salt(day)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(key, secrets.token_bytes(16), nx=True, ex=SALT_TTL_SECONDS)
            pipe.get(key)
            _, salt = await pipe.execute()
        return salt


def _days_before(day: str, days: int) -> str:
    return (dt.date.fromisoformat(day) - dt.timedelta(days=days)).isoformat()
