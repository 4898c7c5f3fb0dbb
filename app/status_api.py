"""GET /api/v1/status on `footfall serve`: the operator's status (`operator_status`) as JSON,
for admins.

`footfall status` reads it here when a server owns the embedded ClickHouse,
which no other process may open. `API` is the route, with its operation in the
API's document (under the dashboard's users and tokens).
"""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from app.operator_status import operator_status
from dashboard import appkeys
from dashboard.auth import ACCESS, SCHEMES, SIGNED_IN, authorize_admin
from footfall import openapi
from footfall.clock import system_clock
from footfall.openapi import Route, answer, errors, ref
from footfall.status import EmbeddedRedisStatus, Status, to_json

EMBEDDED_REDIS = web.AppKey("app.embedded_redis", Callable[[], EmbeddedRedisStatus])
"""The state of the Redis this process runs, when it runs one."""


def add_routes(app: web.Application) -> None:
    openapi.mount(app, API)


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


API = openapi.Part(
    ACCESS,
    (
        Route(
            "GET",
            "/api/v1/status",
            get_status,
            "Operator's status",
            "Admins only: the stream, the aggregators, ClickHouse's newest event, the sites' "
            "traffic. A store that does not answer is listed under `problems`.",
            {"200": answer("The status.", ref("Status")), **errors(401, 403)},
        ),
    ),
    lambda: openapi.answer_schemas(Status),
    security=SIGNED_IN,
    security_schemes=SCHEMES,
)
