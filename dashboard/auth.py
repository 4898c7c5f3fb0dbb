"""Who may call the dashboard's routes: `authorize(request, scope, site)`.

Every API handler calls `authorize` with the scope it needs (`stats:read`,
`sites:write`, `events:write`) and, when it touches one site, that site's
domain. It answers the `Principal` or raises a 401 (nobody) / 403 (not
allowed). For now the one credential is the deployment's admin token
(FOOTFALL_ADMIN_TOKEN, or the one `footfall serve` generates under the data
dir), with every right.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from dashboard import appkeys
from footfall.tokens import bearer, is_admin
from footfall.web import ApiError

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="footfall"'}
SCOPES = ("stats:read", "sites:write", "events:write")


@dataclass(frozen=True)
class Principal:
    """Whoever made the request: the admin token, an API token, or a logged-in user."""

    name: str
    scopes: frozenset[str]
    sites: frozenset[str] | None  # None: every site

    def may(self, scope: str, site: str | None = None) -> bool:
        return scope in self.scopes and (site is None or self.sites is None or site in self.sites)


ADMIN = Principal("admin token", frozenset(SCOPES), None)


async def authorize(request: web.Request, scope: str, site: str | None = None) -> Principal:
    principal = _principal(request)
    if not principal.may(scope, site):
        raise ApiError(403, f"not allowed: needs {scope}" + (f" on {site}" if site else ""))
    return principal


def _principal(request: web.Request) -> Principal:
    token = bearer(request.headers.get("Authorization", ""))
    if not token:
        raise ApiError(401, "missing API token: send Authorization: Bearer TOKEN", "", CHALLENGE)
    if is_admin(token, request.app[appkeys.SETTINGS].admin_token):
        return ADMIN
    raise ApiError(401, "invalid API token", "", CHALLENGE)
