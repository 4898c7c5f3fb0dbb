"""The Sites API: `/api/v1/sites` and `/api/v1/sites/{domain}`, behind a Bearer token.

A site is answered as its settings plus the `snippet` tag to paste into its
pages (`SiteDocument`). PUT changes the fields it is given and keeps the others.
`API` is the routes, each with its operation in the API's document.
"""

from __future__ import annotations

import msgspec
from aiohttp import web

from dashboard import appkeys
from dashboard.auth import SCHEMES, SIGNED_IN, authorize, require
from dashboard.bodies import DELETED, Deleted, read_body
from dashboard.site_registry import SiteExists
from footfall import openapi
from footfall.openapi import Route, answer, errors, path_param, ref
from footfall.sites import InvalidSite, Site, SiteDocument, changed, site_document, site_from_json
from footfall.web import ApiError, json_response


class SiteList(msgspec.Struct):
    sites: list[SiteDocument]


def add_routes(app: web.Application) -> None:
    openapi.mount(app, API)


async def list_sites(request: web.Request) -> web.Response:
    principal = await authorize(request, "stats:read")
    sites = await request.app[appkeys.SITES].list()
    sites = [s for s in sites if principal.may("stats:read", s.domain)]
    return json_response(SiteList([_public(request, s) for s in sites]))


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
    return json_response(DELETED)


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


def _public(request: web.Request, site: Site) -> SiteDocument:
    return site_document(site, request.app[appkeys.SETTINGS].base_url)


# -- the routes, as the document shows them ----------------------------------------------------

SITES = openapi.Tag("Sites API", "The sites footfall counts.", order=20)
DOMAIN = path_param("domain", "The site's domain.")
EXAMPLE = {"domain": "news.example", "timezone": "Asia/Ho_Chi_Minh", "public_counters": True}


def _schemas() -> dict[str, openapi.Schema]:
    schemas = {
        **openapi.struct_schemas(Site),
        **openapi.answer_schemas(SiteDocument, SiteList, Deleted),
    }
    schemas["SiteChanges"] = {
        "type": "object",
        "description": "The fields to change; the others are kept. `domain`, if sent, must be "
        "the site's own.",
        "properties": schemas["Site"]["properties"],
        "additionalProperties": False,
    }
    return schemas


API = openapi.Part(
    SITES,
    (
        Route(
            "GET",
            "/api/v1/sites",
            list_sites,
            "List sites",
            "The sites the caller may read (`stats:read`).",
            {"200": answer("The sites.", ref("SiteList")), **errors(401, 403)},
        ),
        Route(
            "POST",
            "/api/v1/sites",
            create_site,
            "Add a site",
            "Needs `sites:write` on the new site's domain.",
            {
                "201": answer("The site.", ref("SiteDocument")),
                **errors(400, 401, 403, 409, 413),
            },
            body=openapi.body(ref("Site"), example=EXAMPLE),
        ),
        Route(
            "GET",
            "/api/v1/sites/{domain}",
            get_site,
            "One site",
            "Needs `stats:read` on it.",
            {"200": answer("The site.", ref("SiteDocument")), **errors(401, 403, 404)},
            (DOMAIN,),
        ),
        Route(
            "PUT",
            "/api/v1/sites/{domain}",
            update_site,
            "Change a site",
            "Changes the fields given, keeps the others. Needs `sites:write` on it.",
            {
                "200": answer("The site.", ref("SiteDocument")),
                **errors(400, 401, 403, 404, 413),
            },
            (DOMAIN,),
            body=openapi.body(ref("SiteChanges")),
        ),
        Route(
            "DELETE",
            "/api/v1/sites/{domain}",
            delete_site,
            "Delete a site",
            "Its events stay in ClickHouse. Needs `sites:write` on it.",
            {"200": answer("Deleted.", ref("Deleted")), **errors(401, 403, 404)},
            (DOMAIN,),
        ),
    ),
    _schemas,
    security=SIGNED_IN,
    security_schemes=SCHEMES,
)
