"""The collector's application factory.

`setup(app, settings)` mounts the collector on any application (so `footfall
serve` can put every component on one port); `create_app(settings)` builds a
collector alone. A cleanup context owns the Redis client and the two background
tasks: the group committer and the site-change listener.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

from collector import appkeys, routes
from collector.committer import Committer
from collector.events import MAX_BATCH_BODY
from collector.pipeline import Pipeline
from collector.rate_limits import RateLimits
from collector.site_cache import SiteCache
from collector.snippet import Snippet
from footfall import openapi
from footfall.clock import Clock, system_clock
from footfall.connections import async_redis
from footfall.observe import QUIET_ROUTES
from footfall.salts import Salts
from footfall.settings import Settings
from footfall.tokens import TokenLookup
from footfall.web import READY_CHECKS, setup_operations


def create_app(settings: Settings, *, clock: Clock = system_clock) -> web.Application:
    # No middleware of its own: the request observer answers errors as JSON too.
    app = web.Application(client_max_size=MAX_BATCH_BODY)
    setup(app, settings, clock=clock)
    return app


def setup(app: web.Application, settings: Settings, *, clock: Clock = system_clock) -> None:
    if not settings.redis_url:
        raise ValueError("the collector needs a Redis URL (settings.redis_url)")
    app[appkeys.SETTINGS] = settings
    app[appkeys.CLOCK] = clock
    app[appkeys.SNIPPET] = Snippet.load()
    app[appkeys.COUNTER_CACHE] = {}
    setup_operations(app, metrics_token=settings.metrics_token)
    app[READY_CHECKS].append(("redis", _redis_ready(app)))
    app.cleanup_ctx.append(_redis_context)
    openapi.mount(app, routes.API)
    # Thousands a second per core: access-logged only when sampled or failing.
    app[QUIET_ROUTES].update(route.path for route in routes.ROUTES)


SUBSCRIBE_WAIT = 2.0


async def _redis_context(app: web.Application) -> AsyncIterator[None]:
    settings = app[appkeys.SETTINGS]
    redis = async_redis(settings.redis_url)
    sites = SiteCache(redis)
    committer = Committer(redis, settings.visit_gap * 1000, RateLimits.of(settings))
    app[appkeys.REDIS] = redis
    app[appkeys.SITES] = sites
    app[appkeys.COMMITTER] = committer
    app[appkeys.TOKENS] = TokenLookup(redis)
    app[appkeys.PIPELINE] = Pipeline(sites, Salts(redis))
    stop_listening = asyncio.Event()
    writer = asyncio.create_task(committer.run(), name="collector-committer")
    listener = asyncio.create_task(sites.listen(stop_listening), name="collector-site-notices")
    # Serve once subscribed, so that no change made from now on is missed; but a
    # Redis down at start must not keep the collector from answering (503s, /ready).
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(sites.subscribed.wait(), SUBSCRIBE_WAIT)
    yield
    stop_listening.set()
    listener.cancel()
    await committer.close()
    await writer
    with contextlib.suppress(asyncio.CancelledError):
        await listener
    await redis.aclose()


def _redis_ready(app: web.Application):  # type: ignore[no-untyped-def]
    async def check() -> str | None:
        await app[appkeys.REDIS].ping()
        return None

    return check
