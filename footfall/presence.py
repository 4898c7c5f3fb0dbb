"""Who is here now: a site's visitors online and an article's readers, read from Redis.

The collector's ingest script keeps one sorted set per site (`keys.online`) and
per article (`keys.readers`): visitor id -> last seen (ms). Online now is the
number of members seen within the site's online window before `now`. The
public counter (collector) and the Stats API (dashboard) both count through
here, so they answer the same number.
"""

from __future__ import annotations

from typing import Any

from footfall import keys
from footfall.sites import Site


def since(site: Site, now_ms: int) -> str:
    """The ZCOUNT lower bound of the online window: strictly after `now - window`."""
    return f"({now_ms - site.online_window * 1000}"


def count_online(pipe: Any, site: Site, now_ms: int) -> None:
    """Queue on a Redis pipeline: the number of the site's visitors online now."""
    pipe.zcount(keys.online(site.domain), since(site, now_ms), "+inf")


def count_readers(pipe: Any, site: Site, article: str, now_ms: int) -> None:
    """Queue on a Redis pipeline: the number of the article's readers now."""
    pipe.zcount(keys.readers(site.domain, article), since(site, now_ms), "+inf")


async def online_now(redis: Any, site: Site, now_ms: int) -> int:
    async with redis.pipeline(transaction=False) as pipe:
        count_online(pipe, site, now_ms)
        (online,) = await pipe.execute()
    return int(online)


async def readers_now(redis: Any, site: Site, articles: list[str], now_ms: int) -> list[int]:
    """Readers now of each article, in the order given."""
    if not articles:
        return []
    async with redis.pipeline(transaction=False) as pipe:
        for article in articles:
            count_readers(pipe, site, article, now_ms)
        return [int(n) for n in await pipe.execute()]
