"""GET /api/v1/status on `footfall serve`: the operator's status (`operator_status`) as JSON,
for admins.

`footfall status` reads it here when a server owns the embedded ClickHouse,
which no other process may open.
"""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from app.operator_status import operator_status
from dashboard import appkeys
from dashboard.auth import authorize_admin
from footfall.clock import system_clock
from footfall.status import EmbeddedRedisStatus, to_json

EMBEDDED_REDIS = web.AppKey("app.embedded_redis", Callable[[], EmbeddedRedisStatus])
"""The state of the Redis this process runs, when it runs one."""


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/status", get_status)


async def get_status(request: web.Request) -> web.Response:
    await authorize_admin(request)
    app = request.app
    embedded = app.get(EMBEDDED_REDIS)
    status = await operator_status(
        app[appkeys.REDIS],
        app[appkeys.CLICKHOUSE],
        app.get(appkeys.CLOCK, system_clock)(),
        embedded_redis=embedded() if embedded else None,
        data_dir=app[appkeys.SETTINGS].data_dir,
    )
    return web.Response(body=to_json(status), content_type="application/json")
