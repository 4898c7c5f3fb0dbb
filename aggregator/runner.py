"""Running the aggregator: mounted on an application (`footfall serve`) or alone.

A cleanup context owns the aggregator's Redis client and its task; `/ready`
reports ClickHouse insert failures.
"""

from __future__ import annotations

import asyncio
import signal
import socket
from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web

from aggregator.consumer import Aggregator
from footfall.clock import Clock, system_clock
from footfall.connections import AsyncClickHouse, async_redis
from footfall.healthcheck import HEARTBEAT_EVERY, beat, heartbeat_path
from footfall.settings import Settings
from footfall.web import READY_CHECKS, setup_operations

AGGREGATOR = web.AppKey("aggregator", Aggregator)


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
    setup_operations(app)

    async def context(app: web.Application) -> AsyncIterator[None]:
        redis = async_redis(settings.redis_url)
        aggregator = Aggregator(settings, redis, clickhouse, consumer=consumer, clock=clock)
        app[AGGREGATOR] = aggregator
        task = asyncio.create_task(aggregator.run(), name="aggregator")
        yield
        aggregator.stop()
        await task
        await redis.aclose()

    async def ready() -> str | None:
        return app[AGGREGATOR].health.problem()

    app.cleanup_ctx.append(context)
    app[READY_CHECKS].append(("aggregator", ready))


async def run_alone(settings: Settings, clickhouse: AsyncClickHouse, consumer: str) -> None:
    """The aggregator with no HTTP server, until SIGTERM or SIGINT.

    On the signal the batch in hand is finished (inserted and acknowledged), or,
    while ClickHouse fails, abandoned unacknowledged to be redelivered.
    """
    redis = async_redis(settings.redis_url)
    aggregator = Aggregator(settings, redis, clickhouse, consumer=consumer)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, aggregator.stop)
    beating = asyncio.create_task(_heartbeat(aggregator, heartbeat_path(settings)))
    try:
        await aggregator.run()
    finally:
        beating.cancel()
        await redis.aclose()
        clickhouse.close()


async def _heartbeat(aggregator: Aggregator, path: Path) -> None:
    """Touch `path` while the loop runs and inserts succeed: the container's health check."""
    while True:
        if aggregator.health.problem() is None:
            beat(path)
        await asyncio.sleep(HEARTBEAT_EVERY)
