"""The dashboard's application factory: the stats, sites, users and tokens APIs,
login, the editors' pages and the API's documentation.

`setup(app, settings, clickhouse)` mounts it on any application (each module adds
its own routes); the ClickHouse
client is given, not made, because in the embedded default one process owns the
chdb folder and every component of that process shares its client. At start
the Redis mirrors of the sites and the API tokens are rebuilt from ClickHouse,
and the first admin user (settings admin_email/admin_password) is made if absent.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from dashboard import (
    api_docs,
    appkeys,
    login,
    pages,
    sites_api,
    sql,
    stats_api,
    tokens_api,
    users_api,
)
from dashboard.accounts import UserStore
from dashboard.api_tokens import TokenStore
from dashboard.login_throttle import LoginThrottle
from dashboard.session_store import SessionStore
from dashboard.site_registry import SiteRegistry
from footfall.clock import system_clock
from footfall.connections import MIB, AsyncClickHouse, async_redis
from footfall.settings import Settings
from footfall.web import READY_CHECKS, setup_operations


def create_app(settings: Settings, clickhouse: AsyncClickHouse) -> web.Application:
    app = web.Application()  # errors are answered as JSON by the request observer
    setup(app, settings, clickhouse)
    return app


def setup(app: web.Application, settings: Settings, clickhouse: AsyncClickHouse) -> None:
    if not settings.redis_url:
        raise ValueError("the dashboard needs a Redis URL (settings.redis_url)")
    app[appkeys.SETTINGS] = settings
    if settings.query_memory_mb:
        # Every query a client can ask for runs under a budget; ClickHouse refuses one over
        # it (answered 503 with the reason), where it would otherwise grow the process.
        clickhouse = clickhouse.with_query_settings(max_memory_usage=settings.query_memory_mb * MIB)
    app[appkeys.CLICKHOUSE] = clickhouse
    setup_operations(app, metrics_token=settings.metrics_token)
    app[READY_CHECKS].append(("clickhouse", _clickhouse_ready(clickhouse)))
    app.cleanup_ctx.append(_context)
    for api in (sites_api, login, users_api, tokens_api, stats_api):
        api.add_routes(app)
    api_docs.setup(app)
    pages.setup(app)


async def _context(app: web.Application) -> AsyncIterator[None]:
    redis = async_redis(app[appkeys.SETTINGS].redis_url)
    app[appkeys.REDIS] = redis
    app[appkeys.SITES] = SiteRegistry(app[appkeys.CLICKHOUSE], redis)
    await app[appkeys.SITES].sync_mirror()
    settings = app[appkeys.SETTINGS]
    app[appkeys.USERS] = UserStore(app[appkeys.CLICKHOUSE])
    app[appkeys.TOKENS] = TokenStore(app[appkeys.CLICKHOUSE], redis)
    app[appkeys.SESSIONS] = SessionStore(redis)
    app[appkeys.LOGIN_THROTTLE] = LoginThrottle(redis, app.get(appkeys.CLOCK, system_clock))
    await app[appkeys.TOKENS].sync_mirror()
    await app[appkeys.USERS].ensure_admin(settings.admin_email, settings.admin_password)
    yield
    await redis.aclose()


def _clickhouse_ready(clickhouse: AsyncClickHouse):  # type: ignore[no-untyped-def]
    async def check() -> str | None:
        await clickhouse.query(sql.PING)
        return None

    return check
