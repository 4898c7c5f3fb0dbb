"""The public counters: total visits (or page views), online now, an article's numbers.

Served from Redis with an in-process cache of one second per (site, article), so
a page served a million times a day costs Redis a handful of reads a second.
The answer's fields are public names that pages already use: `views` is the
article's page views, `readers` its readers now. Answers carry `Cache-Control`,
an `ETag` and open CORS, for any page to embed.
"""

from __future__ import annotations

import hashlib
from typing import Annotated
from urllib.parse import urlsplit

import msgspec
import redis.exceptions
from aiohttp import web

from collector import appkeys
from collector.events import MAX_ARTICLE, MAX_URL
from footfall import keys, presence
from footfall.sites import Site
from footfall.web import ANY_ORIGIN, ApiError

CACHE_MS = 1000
CACHE_CONTROL = "public, max-age=5"
MAX_CACHED = 50_000
UNAVAILABLE = {**ANY_ORIGIN, "Retry-After": "5"}


class Counters(msgspec.Struct):
    total: Annotated[
        int,
        msgspec.Meta(
            description="Visits (or page views, by the site's `counter_measure`) since "
            "counting began, plus the site's `counter_offset`."
        ),
    ]
    online: Annotated[int, msgspec.Meta(description="Visitors online now.")]
    views: (
        Annotated[int, msgspec.Meta(description="The article's page views.")] | msgspec.UnsetType
    ) = msgspec.UNSET
    readers: (
        Annotated[int, msgspec.Meta(description="The article's readers now.")] | msgspec.UnsetType
    ) = msgspec.UNSET


async def read_counters(redis, site: Site, article: str, now: int) -> Counters:  # type: ignore[no-untyped-def]
    """The counters of one site (and article) at `now`, straight from Redis."""
    async with redis.pipeline(transaction=False) as pipe:
        pipe.hget(keys.totals(site.domain), site.counter_measure)
        presence.count_online(pipe, site, now)
        if article:
            pipe.hget(keys.article_pageviews(site.domain), article)
            presence.count_readers(pipe, site, article, now)
        replies = await pipe.execute()
    counters = Counters(total=int(replies[0] or 0) + site.counter_offset, online=replies[1])
    if article:
        counters.views = int(replies[2] or 0)
        counters.readers = replies[3]
    return counters


async def get_counters(request: web.Request) -> web.Response:
    """GET /api/counters?d=DOMAIN[&a=ARTICLE | &u=PAGE_URL]"""
    query = request.query
    domain = query.get("d", "").strip()
    if not domain:
        raise ApiError(400, "missing the site's domain (d)", "d", ANY_ORIGIN)
    try:
        site = await request.app[appkeys.SITES].lookup(domain)
        if site is None or not site.public_counters:
            raise ApiError(404, f"no public counters for {domain}", "d", ANY_ORIGIN)
        article = _article(site, query.get("a", ""), query.get("u", ""))
        now = request.app[appkeys.CLOCK]()
        body = await _cached_body(request.app, site, article, now)
    except (redis.exceptions.RedisError, OSError):
        raise ApiError(503, "counters unavailable, retry later", "", UNAVAILABLE) from None
    etag = f'"{hashlib.blake2b(body, digest_size=8).hexdigest()}"'
    headers = {**ANY_ORIGIN, "Cache-Control": CACHE_CONTROL, "ETag": etag}
    if etag in request.headers.get("If-None-Match", ""):
        return web.Response(status=304, headers=headers)
    return web.Response(body=body, content_type="application/json", headers=headers)


def _article(site: Site, article: str, url: str) -> str:
    if len(article) > MAX_ARTICLE:
        raise ApiError(400, f"article id longer than {MAX_ARTICLE} characters", "a", ANY_ORIGIN)
    if article or not url:
        return article
    parts = urlsplit(url)
    if len(url) > MAX_URL or parts.scheme not in ("http", "https"):
        raise ApiError(400, "u must be an http(s) URL of the page", "u", ANY_ORIGIN)
    return site.article_of(url)


async def _cached_body(app: web.Application, site: Site, article: str, now: int) -> bytes:
    cache = app[appkeys.COUNTER_CACHE]
    key = (site, article)
    hit = cache.get(key)
    if hit is not None and now - hit[0] < CACHE_MS:
        return hit[1]
    body = _encode(await read_counters(app[appkeys.REDIS], site, article, now))
    if len(cache) >= MAX_CACHED:
        cache.clear()
    cache[key] = (now, body)
    return body


_encode = msgspec.json.Encoder().encode  # integers only: the same bytes as any encoder
