"""Site management for the CLI, by either road: a running server's Sites API, or direct.

Both answer with the Sites API's JSON shapes and raise `SitesError` with the
API's message and field, so the CLI reads the same whichever road it took.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

from app import runtime
from app.database import open_clickhouse
from app.server_api import ClientError, ServerApi
from dashboard.sites import SiteExists, SiteRegistry
from footfall.connections import AsyncClickHouse, async_redis
from footfall.settings import Settings
from footfall.sites import InvalidSite, changed, site_document, site_from_json

T = TypeVar("T")


class SitesError(ClientError):
    pass


class SitesClient(Protocol):
    def add(self, body: dict[str, Any]) -> dict[str, Any]: ...
    def update(self, domain: str, changes: dict[str, Any]) -> dict[str, Any]: ...
    def list(self) -> list[dict[str, Any]]: ...
    def delete(self, domain: str) -> None: ...


def sites_client(settings: Settings) -> SitesClient:
    """The running server's Sites API when one owns the data dir, else the stores directly."""
    url = runtime.running_server(settings)
    if url:
        return ApiSites(url, runtime.with_admin_token(settings).admin_token)
    return DirectSites(settings)


class ApiSites(ServerApi):
    """Through the Sites API of the server that owns the data dir."""

    error = SitesError

    def add(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", "/api/v1/sites", body)

    def update(self, domain: str, changes: dict[str, Any]) -> dict[str, Any]:
        return self._call("PUT", f"/api/v1/sites/{domain}", changes)

    def list(self) -> list[dict[str, Any]]:
        return self._call("GET", "/api/v1/sites")["sites"]

    def delete(self, domain: str) -> None:
        self._call("DELETE", f"/api/v1/sites/{domain}")


class DirectSites:
    """Straight to ClickHouse and Redis (the data dir's embedded Redis, started for the call)."""

    def __init__(self, settings: Settings):
        self._settings = settings

    def add(self, body: dict[str, Any]) -> dict[str, Any]:
        async def add(registry: SiteRegistry) -> dict[str, Any]:
            try:
                site = await registry.add(site_from_json(json.dumps(body)))
            except InvalidSite as e:
                raise SitesError(e.message, e.field) from None
            except SiteExists as e:
                raise SitesError(f"site {e} already exists", "domain") from None
            return site_document(site, self._settings.base_url)

        return self._run(add)

    def update(self, domain: str, changes: dict[str, Any]) -> dict[str, Any]:
        async def update(registry: SiteRegistry) -> dict[str, Any]:
            site = await registry.get(domain)
            if site is None:
                raise SitesError(f"no site {domain}", "domain")
            try:
                site = await registry.update(changed(site, changes))
            except InvalidSite as e:
                raise SitesError(e.message, e.field) from None
            return site_document(site, self._settings.base_url)

        return self._run(update)

    def list(self) -> list[dict[str, Any]]:
        async def list_sites(registry: SiteRegistry) -> list[dict[str, Any]]:
            return [site_document(s, self._settings.base_url) for s in await registry.list()]

        return self._run(list_sites)

    def delete(self, domain: str) -> None:
        async def delete(registry: SiteRegistry) -> None:
            site = await registry.get(domain)
            if site is None:
                raise SitesError(f"no site {domain}", "domain")
            await registry.delete(site)

        self._run(delete)

    def _run(self, action: Callable[[SiteRegistry], Awaitable[T]]) -> T:
        with runtime.redis_available(self._settings) as settings:
            store = open_clickhouse(settings)
            return asyncio.run(_with_registry(store, settings.redis_url, action))


async def _with_registry(
    store: AsyncClickHouse, redis_url: str, action: Callable[[SiteRegistry], Awaitable[T]]
) -> T:
    redis = async_redis(redis_url)
    try:
        return await action(SiteRegistry(store, redis))
    finally:
        await redis.aclose()
        store.close()
