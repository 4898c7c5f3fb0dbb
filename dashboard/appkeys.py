"""The dashboard's typed application keys, in one place."""

from __future__ import annotations

import redis.asyncio
from aiohttp import web

from dashboard.sites import SiteRegistry
from footfall.connections import AsyncClickHouse
from footfall.settings import Settings

SETTINGS = web.AppKey("dashboard.settings", Settings)
CLICKHOUSE = web.AppKey("dashboard.clickhouse", AsyncClickHouse)
REDIS = web.AppKey("dashboard.redis", redis.asyncio.Redis)
SITES = web.AppKey("dashboard.sites", SiteRegistry)
