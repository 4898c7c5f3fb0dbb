"""The collector's view of the site registry: Redis's mirror, cached in process.

Whoever changes a site writes ClickHouse, then the mirror (`ff:sites`), then
publishes the domain on `ff:sites:changed`; this cache listens and refreshes
that entry. A domain not in the cache is looked up in Redis once and, if absent,
remembered as unknown for a few seconds, so a flood of events for an unknown
domain costs no Redis round trip each.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

import redis.asyncio
import redis.exceptions

from footfall import keys
from footfall.connections import is_cluster
from footfall.single_flight import SingleFlight
from footfall.sites import Site, normalize_domain, site_from_mirror

log = logging.getLogger(__name__)
UNKNOWN_TTL = 5.0


class SiteCache:
    def __init__(self, redis: redis.asyncio.Redis):
        self._redis = redis
        self._sites: dict[str, Site] = {}
        self._unknown: dict[str, float] = {}
        self._lookups: SingleFlight[Site | None] = SingleFlight()
        self.subscribed = asyncio.Event()

    def cached(self, domain: str) -> Site | None:
        """The site if this process knows it already, without awaiting (the hot path)."""
        return self._sites.get(domain) or self._sites.get(normalize_domain(domain))

    async def lookup(self, domain: str) -> Site | None:
        domain = normalize_domain(domain)
        site = self._sites.get(domain)
        if site is not None:
            return site
        if self._unknown.get(domain, 0.0) > time.monotonic():
            return None
        return await self._lookups.run(domain, lambda: self._refresh(domain))

    async def listen(self, stop: asyncio.Event) -> None:
        """Follow change notices until `stop` is set; after a reconnect, forget everything.

        The loop also polls `stop` each second, because redis-py can swallow a
        task's cancellation while it waits on a subscription.
        """
        while not stop.is_set():
            try:
                if is_cluster(self._redis):  # its pub/sub needs the slots map made first
                    await self._redis.initialize()
                async with self._redis.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(keys.SITES_CHANNEL)
                    self.forget()
                    self.subscribed.set()
                    while not stop.is_set():
                        message = await pubsub.get_message(timeout=1.0)
                        if message is not None:
                            await self._refresh(message["data"].decode())
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError):
                log.warning("site notices: Redis unreachable, retrying")
                self.subscribed.clear()
                self.forget()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=1.0)

    def forget(self) -> None:
        self._sites.clear()
        self._unknown.clear()

    async def _refresh(self, domain: str) -> Site | None:
        raw = await self._redis.hget(keys.SITES, domain)
        if raw is None:
            self._sites.pop(domain, None)
            self._unknown[domain] = time.monotonic() + UNKNOWN_TTL
            if len(self._unknown) > 100_000:
                self._unknown.clear()
            return None
        site = site_from_mirror(raw)
        self._sites[domain] = site
        self._unknown.pop(domain, None)
        return site
