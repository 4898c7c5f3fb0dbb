"""The Sites API: `/api/v1/sites` and `/api/v1/sites/{domain}`, behind a Bearer token.

A site is answered as its settings plus the `snippet` tag to paste into its
pages. PUT changes the fields it is given and keeps the others.
"""

from __future__ import annotations

import msgspec
from aiohttp import web

from dashboard import appkeys
from dashboard.auth import authorize, require
from dashboard.bodies import read_body
from dashboard.sites import SiteExists
from footfall.sites import InvalidSite, Site, changed, site_document, site_from_json
from footfall.web import ApiError, json_response


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/sites", list_sites)
    app.router.add_post("/api/v1/sites", create_site)
    app.router.add_get("/api/v1/sites/{domain}", get_site)
    app.router.add_put("/api/v1/sites/{domain}", update_site)
    app.router.add_delete("/api/v1/sites/{domain}", delete_site)


async def list_sites(request: web.Request) -> web.Response:
    principal = await authorize(request, "stats:read")
    sites = await request.app[appkeys.SITES].list()
    sites = [s for s in sites if principal.may("stats:read", s.domain)]
    return json_response({"sites": [_public(request, s) for s in sites]})


async def create_site(request: web.Request) -> web.Response:
    who = await authorize(request, "sites:write")
    site = _decode(await read_body(request))
    require(who, "sites:write", site.domain)
    try:
        site = await request.app[appkeys.SITES].add(site)
    except SiteExists:
        raise ApiError(409, f"site {site.domain} already exists", "domain") from None
    return json_response(_public(request, site), 201)


async def get_site(request: web.Request) -> web.Response:
    await authorize(request, "stats:read", request.match_info["domain"])
    return json_response(_public(request, await _existing(request)))


async def update_site(request: web.Request) -> web.Response:
    await authorize(request, "sites:write", request.match_info["domain"])
    site = await _existing(request)
    try:
        merged = changed(site, msgspec.json.decode(await read_body(request)))
    except msgspec.DecodeError as e:
        raise ApiError(400, f"malformed JSON: {e}") from None
    except InvalidSite as e:
        raise ApiError(400, e.message, e.field) from None
    site = await request.app[appkeys.SITES].update(merged)
    return json_response(_public(request, site))


async def delete_site(request: web.Request) -> web.Response:
    await authorize(request, "sites:write", request.match_info["domain"])
    await request.app[appkeys.SITES].delete(await _existing(request))
    return json_response({"deleted": True})


async def _existing(request: web.Request) -> Site:
    domain = request.match_info["domain"]
    site = await request.app[appkeys.SITES].get(domain)
    if site is None:
        raise ApiError(404, f"no site {domain}", "domain")
    return site


def _decode(body: bytes) -> Site:
    try:
        return site_from_json(body)
    except InvalidSite as e:
        raise ApiError(400, e.message, e.field) from None


def _public(request: web.Request, site: Site) -> dict[str, object]:
    return site_document(site, request.app[appkeys.SETTINGS].base_url)
