"""Composing components into runnable servers: all in one (`serve`), or the collector alone.

Each component exposes `setup(app,
...)`, and a server is an application with some of them mounted. Servers run with
`footfall.http_server.run_app`, which answers even the requests aiohttp refuses
itself as JSON errors.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
from collections.abc import Callable

from aiohttp import web

import aggregator.runner
import collector.app
import dashboard.app
import dashboard.appkeys
from app import status_api
from collector.events import MAX_BATCH_BODY
from footfall.clock import Clock, system_clock
from footfall.connections import AsyncClickHouse
from footfall.http_server import run_app
from footfall.settings import Settings
from footfall.status import EmbeddedRedisStatus


def all_in_one_app(
    settings: Settings,
    clickhouse_client: AsyncClickHouse,
    *,
    clock: Clock = system_clock,
    aggregate: bool = True,
    embedded_redis: Callable[[], EmbeddedRedisStatus] | None = None,
) -> web.Application:
    """Every component on one application (one port): what `footfall serve` runs.

    Without `aggregate` the aggregator is not started (tests drive one themselves).
    `embedded_redis` tells the state of the Redis this process runs, for the status.
    """
    # No middleware of its own: the request observer answers errors as JSON too.
    app = web.Application(client_max_size=MAX_BATCH_BODY)
    collector.app.setup(app, settings, clock=clock)
    dashboard.app.setup(app, settings, clickhouse_client)
    app[dashboard.appkeys.CLOCK] = clock
    status_api.add_routes(app)
    if embedded_redis:
        app[status_api.EMBEDDED_REDIS] = embedded_redis
    if aggregate:
        aggregator.runner.setup(app, settings, clickhouse_client, consumer="serve", clock=clock)
    return app


def run(app: web.Application, settings: Settings, port: int, *, banner: Callable[[], None]) -> None:
    run_app(app, host=settings.host, port=port, loop=new_event_loop(), started=banner)


def run_collectors(settings: Settings, port: int, workers: int) -> None:
    run_workers(lambda: collector.app.create_app(settings), settings.host, port, workers)


def run_workers(
    make_app: Callable[[], web.Application], host: str, port: int, workers: int
) -> None:
    """N processes serving `make_app()` on one port (SO_REUSEPORT): the kernel spreads the
    connections. With one worker, this process serves."""
    if workers == 1:
        run_app(
            make_app(),
            host=host,
            port=port,
            reuse_port=True,
            started=lambda: print(f"pid {os.getpid()} listening on port {port}", flush=True),
            loop=new_event_loop(),
        )
        return
    context = multiprocessing.get_context("fork")
    children = [
        context.Process(target=run_workers, args=(make_app, host, port, 1)) for _ in range(workers)
    ]
    for child in children:
        child.start()

    def stop(signum: int, _frame: object) -> None:
        for child in children:
            if child.pid:
                os.kill(child.pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for child in children:
        child.join()


def new_event_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()
