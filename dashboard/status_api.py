"""GET /api/v1/status: the operator's status (`footfall.status`) as JSON, for admins.

`footfall status` reads it here when a server owns the embedded ClickHouse,
which no other process may open.
"""

from __future__ import annotations

from aiohttp import web

from dashboard import appkeys
from dashboard.auth import authorize_admin
from footfall import status
from footfall.clock import system_clock


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/status", get_status)


async def get_status(request: web.Request) -> web.Response:
    await authorize_admin(request)
    app = request.app
    now = app.get(appkeys.CLOCK, system_clock)()
    embedded = app.get(appkeys.EMBEDDED_REDIS)
    gathered = await status.gather(
        app[appkeys.REDIS],
        app[appkeys.CLICKHOUSE],
        now,
        embedded_redis=embedded() if embedded else None,
        data_dir=app[appkeys.SETTINGS].data_dir,
    )
    return web.Response(body=status.to_json(gathered), content_type="application/json")
