"""The editors' HTML pages: the sites list, a site's page, an article's page, the admin pages.

Each handler checks who is asking (`page_principal`: no session, go to /login),
then renders a template that carries the page data its script needs: the
language and its messages, the CSRF token, the site, and on a stats page the
period picker's choices (`PAGE_PERIODS`, so the list exists once). The numbers themselves
are fetched by the page's script from the JSON API, the same API other
services use. A site the user may not read answers 404, like one that does
not exist: a page does not reveal which sites exist.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from dashboard import appkeys, i18n, templating
from dashboard.auth import SCOPES, Principal, page_principal
from dashboard.periods import DEFAULT_PERIOD, PERIODS
from dashboard.render import render
from dashboard.sessions import csrf_token
from footfall.sites import Site, normalize_domain

PAGE_PERIODS = ("realtime", "day", "yesterday", *(p for p in PERIODS if p != "day"))
"""The period picker's choices: the Stats API's periods and two of the page's own, which it
asks the API for as `day` (`state.js`): `realtime` (today, reloaded often) and `yesterday`."""


def setup(app: web.Application) -> None:
    templating.install(app)
    app.router.add_get("/", home)
    app.router.add_get("/sites/{domain}", site_page)
    app.router.add_get("/sites/{domain}/articles/{article}", article_page)
    app.router.add_get("/admin/sites", admin_page("sites"))
    app.router.add_get("/admin/users", admin_page("users"))
    app.router.add_get("/admin/tokens", admin_page("tokens"))
    app.router.add_get("/lang/{code}", i18n.switch)
    app.router.add_get("/static/{name:.+}", app[appkeys.STATIC].handle)


async def home(request: web.Request) -> web.Response:
    who = await page_principal(request)
    sites = [s for s in await request.app[appkeys.SITES].list() if who.may("stats:read", s.domain)]
    data = {"sites": [_site_data(s) for s in sites]}
    return _page(request, who, "home.html", {"sites": sites}, data)


async def site_page(request: web.Request) -> web.Response:
    who = await page_principal(request)
    site = await _readable_site(request, who)
    if site is None:
        return _not_found(request, who)
    return _page(request, who, "site.html", {"site": site}, _stats_data(site))


async def article_page(request: web.Request) -> web.Response:
    who = await page_principal(request)
    site = await _readable_site(request, who)
    if site is None:
        return _not_found(request, who)
    article = request.match_info["article"]
    data = {**_stats_data(site), "article": article}
    return _page(request, who, "article.html", {"site": site, "article": article}, data)


def admin_page(name: str):  # type: ignore[no-untyped-def]
    """The handler of /admin/{name}: admins only (others get 404, as for a hidden site)."""

    async def handler(request: web.Request) -> web.Response:
        who = await page_principal(request)
        if not who.admin:
            return _not_found(request, who)
        sites = await request.app[appkeys.SITES].list()
        data = {"sites": [_site_data(s) for s in sites], "me": who.email, "scopes": SCOPES}
        return _page(request, who, "admin.html", {"name": name}, data)

    return handler


async def _readable_site(request: web.Request, who: Principal) -> Site | None:
    domain = normalize_domain(request.match_info["domain"])
    if not who.may("stats:read", domain):
        return None
    return await request.app[appkeys.SITES].mirrored(domain)


def _site_data(site: Site) -> dict[str, Any]:
    return {"domain": site.domain, "timezone": site.timezone, "online_window": site.online_window}


def _stats_data(site: Site) -> dict[str, Any]:
    """What a stats page's script needs besides the numbers: the site, the periods."""
    return {"site": _site_data(site), "periods": PAGE_PERIODS, "default_period": DEFAULT_PERIOD}


def _page(
    request: web.Request,
    who: Principal,
    template: str,
    context: dict[str, Any],
    data: dict[str, Any],
    status: int = 200,
) -> web.Response:
    lang = i18n.language(request)
    page_data = {
        "locale": i18n.LANGUAGES[lang],
        "messages": i18n.messages(lang),
        "csrf": csrf_token(request),
        **data,
    }
    return render(request, template, {**context, "who": who, "page_data": page_data}, status)


def _not_found(request: web.Request, who: Principal) -> web.Response:
    return _page(request, who, "not_found.html", {}, {}, status=404)
