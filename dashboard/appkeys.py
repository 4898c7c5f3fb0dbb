"""The dashboard's typed application keys, in one place."""

from __future__ import annotations

import redis.asyncio
from aiohttp import web

from dashboard.accounts import UserStore
from dashboard.api_tokens import TokenStore
from dashboard.login_throttle import LoginThrottle
from dashboard.session_store import SessionStore
from dashboard.site_registry import SiteRegistry
from dashboard.static_files import StaticFiles
from footfall.clock import Clock
from footfall.connections import AsyncClickHouse
from footfall.settings import Settings

SETTINGS = web.AppKey("dashboard.settings", Settings)
CLICKHOUSE = web.AppKey("dashboard.clickhouse", AsyncClickHouse)
REDIS = web.AppKey("dashboard.redis", redis.asyncio.Redis)
SITES = web.AppKey("dashboard.site_registry", SiteRegistry)
USERS = web.AppKey("dashboard.users", UserStore)
TOKENS = web.AppKey("dashboard.tokens", TokenStore)
SESSIONS = web.AppKey("dashboard.sessions", SessionStore)
LOGIN_THROTTLE = web.AppKey("dashboard.login_throttle", LoginThrottle)
STATIC = web.AppKey("dashboard.static", StaticFiles)
CLOCK = web.AppKey("dashboard.clock", Clock)
"""Set by whoever composes the app (app.serve); the Stats API's today. Absent: system clock."""
