"""The CLI's two roads to the stores: a running server's API, or straight to the stores.

The chdb folder opens in one process only, so while `footfall serve` owns the
data dir a command goes through that server's API (`server_api.ServerApi`);
else `Direct` opens ClickHouse (and Redis: the data dir's embedded one, started
for the call) and answers the API's JSON shapes, raising the API's message and
field, so a command reads the same whichever road it took. `sites_client` and
`accounts_client` are the two clients built on them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import msgspec
import redis.asyncio

from app import runtime
from app.database import open_clickhouse
from app.server_api import ClientError
from dashboard.accounts import InvalidUser, UserStore
from dashboard.api_tokens import InvalidToken, TokenStore
from dashboard.site_registry import SiteRegistry
from footfall.connections import AsyncClickHouse, async_redis
from footfall.settings import Settings
from footfall.sites import InvalidSite

T = TypeVar("T")
Api = TypeVar("Api")
Stored = TypeVar("Stored")
INVALID = (InvalidSite, InvalidUser, InvalidToken)
"""What the stores refuse, each with the message and field the API answers."""


def road(
    settings: Settings, api: Callable[[str, str], Api], direct: Callable[[Settings], Stored]
) -> Api | Stored:
    """The running server's API when one owns the data dir, else the stores directly."""
    url = runtime.running_server(settings)
    if url:
        return api(url, runtime.with_admin_token(settings).admin_token)
    return direct(settings)


@dataclass(frozen=True)
class Stores:
    """The stores a direct call opened; Redis only when it asked for it."""

    clickhouse: AsyncClickHouse
    redis: redis.asyncio.Redis | None

    @property
    def sites(self) -> SiteRegistry:
        assert self.redis is not None
        return SiteRegistry(self.clickhouse, self.redis)

    @property
    def users(self) -> UserStore:
        return UserStore(self.clickhouse)

    @property
    def tokens(self) -> TokenStore:
        assert self.redis is not None
        return TokenStore(self.clickhouse, self.redis)


class Direct:
    """Straight to the stores: each call opens them, runs, and closes them."""

    def __init__(self, settings: Settings):
        self._settings = settings

    def _run(self, action: Callable[[Stores], Awaitable[T]], *, redis: bool = True) -> T:
        """`action`'s answer; what the stores refuse raised as the API's error."""
        try:
            if not redis:
                return asyncio.run(_with_stores(self._settings, None, action))
            with runtime.redis_available(self._settings) as settings:
                return asyncio.run(_with_stores(settings, settings.redis_url, action))
        except INVALID as e:
            raise ClientError(e.message, e.field) from None


async def _with_stores(
    settings: Settings, redis_url: str | None, action: Callable[[Stores], Awaitable[T]]
) -> T:
    clickhouse = open_clickhouse(settings)
    client = async_redis(redis_url) if redis_url else None
    try:
        return await action(Stores(clickhouse, client))
    finally:
        if client is not None:
            await client.aclose()
        clickhouse.close()


def answered(document: msgspec.Struct) -> dict[str, Any]:
    """An answer as the API's JSON would decode."""
    return msgspec.to_builtins(document)
