"""Site management for the CLI, by either road (`app.roads`): a running server's Sites API,
or straight to the stores."""

from __future__ import annotations

import json
from typing import Any

from app.roads import Direct, Stores, answered, road
from app.server_api import ClientError, ServerApi
from dashboard.site_registry import SiteExists
from footfall.settings import Settings
from footfall.sites import changed, site_document, site_from_json


def sites_client(settings: Settings) -> ApiSites | DirectSites:
    return road(settings, ApiSites, DirectSites)


class ApiSites(ServerApi):
    """Through the Sites API of the server that owns the data dir."""

    def add(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", "/api/v1/sites", body)

    def update(self, domain: str, changes: dict[str, Any]) -> dict[str, Any]:
        return self._call("PUT", f"/api/v1/sites/{domain}", changes)

    def list(self) -> list[dict[str, Any]]:
        return self._call("GET", "/api/v1/sites")["sites"]

    def delete(self, domain: str) -> None:
        self._call("DELETE", f"/api/v1/sites/{domain}")


class DirectSites(Direct):
    """Straight to ClickHouse and Redis."""

    def add(self, body: dict[str, Any]) -> dict[str, Any]:
        async def add(stores: Stores) -> dict[str, Any]:
            try:
                site = await stores.sites.add(site_from_json(json.dumps(body)))
            except SiteExists as e:
                raise ClientError(f"site {e} already exists", "domain") from None
            return self._document(site)

        return self._run(add)

    def update(self, domain: str, changes: dict[str, Any]) -> dict[str, Any]:
        async def update(stores: Stores) -> dict[str, Any]:
            registry = stores.sites
            site = await registry.get(domain)
            if site is None:
                raise ClientError(f"no site {domain}", "domain")
            return self._document(await registry.update(changed(site, changes)))

        return self._run(update)

    def list(self) -> list[dict[str, Any]]:
        async def list_sites(stores: Stores) -> list[dict[str, Any]]:
            return [self._document(s) for s in await stores.sites.list()]

        return self._run(list_sites)

    def delete(self, domain: str) -> None:
        async def delete(stores: Stores) -> None:
            registry = stores.sites
            site = await registry.get(domain)
            if site is None:
                raise ClientError(f"no site {domain}", "domain")
            await registry.delete(site)

        self._run(delete)

    def _document(self, site) -> dict[str, Any]:  # type: ignore[no-untyped-def]
        return answered(site_document(site, self._settings.base_url))
