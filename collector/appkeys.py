"""The collector's typed application keys, in one place."""

from __future__ import annotations

import redis.asyncio
from aiohttp import web

from collector.committer import Committer
from collector.pipeline import Pipeline
from collector.site_cache import SiteCache
from collector.snippet import Snippet
from footfall.clock import Clock
from footfall.settings import Settings
from footfall.tokens import TokenLookup

SETTINGS = web.AppKey("collector.settings", Settings)
CLOCK = web.AppKey("collector.clock", Clock)
REDIS = web.AppKey("collector.redis", redis.asyncio.Redis)
SITES = web.AppKey("collector.sites", SiteCache)
PIPELINE = web.AppKey("collector.pipeline", Pipeline)
COMMITTER = web.AppKey("collector.committer", Committer)
SNIPPET = web.AppKey("collector.snippet", Snippet)
COUNTER_CACHE = web.AppKey("collector.counter_cache", dict)
TOKENS = web.AppKey("collector.tokens", TokenLookup)
