"""The cookieless visitor id: a keyed hash of (daily salt, site, IP, user agent).

Salts live in Redis, one per UTC day, created by whichever collector needs it
first and expiring after two days, so no visitor can be followed across days
and every collector computes the same id.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import secrets

import redis.asyncio

from collector.single_flight import SingleFlight
from footfall import keys

SALT_TTL_SECONDS = 2 * 86_400


def utc_day(ts_ms: int) -> str:
    return dt.datetime.fromtimestamp(ts_ms / 1000, dt.UTC).strftime("%Y-%m-%d")


def visitor_id(salt: bytes, site: str, ip: str, user_agent: str) -> int:
    hashed = keyed_hash(salt).copy()
    hashed.update(f"{site}\x00{ip}\x00{user_agent}".encode(errors="surrogatepass"))
    return int.from_bytes(hashed.digest(), "big")


@functools.lru_cache(maxsize=4)
def keyed_hash(salt: bytes) -> hashlib.blake2b:
    """BLAKE2b (8 bytes) keyed with `salt`, nothing hashed yet: copy it, then update the copy.

    Keying costs a block of its own; copying a keyed hash is a third cheaper than keying
    anew, and the collector hashes twice per event (visitor id, rate-limit key).
    """
    return hashlib.blake2b(key=salt, digest_size=8)


class Salts:
    """The daily salts, fetched from Redis once a day per process."""

    def __init__(self, redis: redis.asyncio.Redis):
        self._redis = redis
        self._by_day: dict[str, bytes] = {}
        self._today = (0, 0, b"")  # start ms, end ms, salt: the hot path's answer
        self._fetches: SingleFlight[bytes] = SingleFlight()

    def cached(self, ts_ms: int) -> bytes | None:
        """The salt of `ts_ms`'s day if it is the day last asked for, without awaiting."""
        start, end, salt = self._today
        return salt if start <= ts_ms < end else None

    async def for_time(self, ts_ms: int) -> bytes:
        day = utc_day(ts_ms)
        salt = self._by_day.get(day)
        if salt is None:
            salt = await self._fetches.run(day, lambda: self._fetch(day))
            self._by_day = {d: s for d, s in self._by_day.items() if d >= _previous(day)}
            self._by_day[day] = salt
        start = ts_ms - ts_ms % 86_400_000
        self._today = (start, start + 86_400_000, salt)
        return salt

    async def _fetch(self, day: str) -> bytes:
        key = keys.salt(day)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(key, secrets.token_bytes(16), nx=True, ex=SALT_TTL_SECONDS)
            pipe.get(key)
            _, salt = await pipe.execute()
        return salt


def _previous(day: str) -> str:
    return (dt.date.fromisoformat(day) - dt.timedelta(days=1)).isoformat()
