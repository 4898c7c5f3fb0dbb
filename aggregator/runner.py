"""Running the aggregator: mounted on an application (`footfall serve`) or alone.

A cleanup context owns the aggregator's Redis client and its task. Either way
the application serves the aggregator's operations: `/ready` reports ClickHouse
insert failures and an unreachable Redis, and `/metrics` reads the stream's
gauges (`aggregator/gauges.py`) at scrape time: every site's online visitors
behind setting `metrics_token`, else only those of sites with public counters.
Alone, the aggregator serves only those, on setting `aggregator_port` (0: none),
and touches a heartbeat file for deployments that check that instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import redis.asyncio
from aiohttp import web

from aggregator import gauges
from aggregator.consumer import Aggregator
from footfall.clock import Clock, system_clock
from footfall.connections import AsyncClickHouse, async_redis
from footfall.healthcheck import HEARTBEAT_EVERY, beat, heartbeat_path
from footfall.http_server import AppRunner
from footfall.settings import Settings
from footfall.web import METRICS_TOKEN, READY_CHECKS, SCRAPE_HOOKS, setup_operations

log = logging.getLogger(__name__)

AGGREGATOR = web.AppKey("aggregator", Aggregator)
REDIS = web.AppKey("aggregator.redis", redis.asyncio.Redis)


def default_consumer() -> str:
    """A name that stays the same across restarts on one host, so pending work is resumed."""
    return socket.gethostname()


def setup(
    app: web.Application,
    settings: Settings,
    clickhouse: AsyncClickHouse,
    *,
    consumer: str,
    clock: Clock = system_clock,
) -> None:
    async def context(app: web.Application) -> AsyncIterator[None]:
        redis = async_redis(settings.redis_url)
        aggregator = Aggregator(settings, redis, clickhouse, consumer=consumer, clock=clock)
        app[AGGREGATOR] = aggregator
        app[REDIS] = redis
        task = asyncio.create_task(aggregator.run(), name="aggregator")
        yield
        aggregator.stop()
        await task
        await redis.aclose()

    app.cleanup_ctx.append(context)
    _operations(app, clock, settings.metrics_token)


def operations_app(
    aggregator: Aggregator,
    redis: redis.asyncio.Redis,
    *,
    metrics_token: str,
    clock: Clock = system_clock,
) -> web.Application:
    """/health, /ready and /metrics of an aggregator that runs alone (it owns both)."""
    app = web.Application()  # errors are answered as JSON by the request observer
    app[AGGREGATOR] = aggregator
    app[REDIS] = redis
    _operations(app, clock, metrics_token)
    return app


def _operations(app: web.Application, clock: Clock, metrics_token: str) -> None:
    setup_operations(app, metrics_token=metrics_token)

    async def inserting() -> str | None:
        return app[AGGREGATOR].health.problem()

    async def redis_answers() -> str | None:
        await app[REDIS].ping()
        return None

    async def stream_gauges() -> None:
        # A scrape that showed the token may see every site; an open one, the public ones.
        await gauges.refresh(app[REDIS], clock(), every_site=bool(app[METRICS_TOKEN]))

    app[READY_CHECKS] += [("aggregator", inserting), ("redis", redis_answers)]
    app[SCRAPE_HOOKS].append(stream_gauges)


async def run_alone(settings: Settings, clickhouse: AsyncClickHouse, consumer: str) -> None:
    """The aggregator and its operations server, until SIGTERM or SIGINT.

    On the signal the batch in hand is finished (inserted and acknowledged), or,
    while ClickHouse fails, abandoned unacknowledged to be redelivered; the
    server answers until then (/ready tells why it takes long), and closes last.
    A port already taken stops the start with an OSError.
    """
    redis = async_redis(settings.redis_url)
    aggregator = Aggregator(settings, redis, clickhouse, consumer=consumer)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, aggregator.stop)
    beating = asyncio.create_task(_heartbeat(aggregator, heartbeat_path(settings)))
    try:
        operations = operations_app(aggregator, redis, metrics_token=settings.metrics_token)
        async with _served(operations, settings):
            await aggregator.run()
    finally:
        beating.cancel()
        await redis.aclose()
        clickhouse.close()


@contextlib.asynccontextmanager
async def _served(app: web.Application, settings: Settings) -> AsyncIterator[None]:
    if not settings.aggregator_port:
        yield
        return
    runner = AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    try:
        await web.TCPSite(runner, settings.host, settings.aggregator_port).start()
        log.info("aggregator operations on http://%s:%d", settings.host, settings.aggregator_port)
        yield
    finally:
        await runner.cleanup()


async def _heartbeat(aggregator: Aggregator, path: Path) -> None:
    """Touch `path` while the loop runs and inserts succeed: the container's health check."""
    while True:
        if aggregator.health.problem() is None:
            beat(path)
        await asyncio.sleep(HEARTBEAT_EVERY)
