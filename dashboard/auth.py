"""Who may call the dashboard's routes: `authorize(request, scope, site)` and its kin.

Every API handler calls `authorize` with the scope it needs (`stats:read`,
`sites:write`, `events:write`) and, when it touches one site, that site's
domain. It answers the `Principal` or raises a 401 (nobody) / 403 (not
allowed), and comes first: nobody's body is read before their credentials
are checked. The admin-only routes (users, tokens) call `authorize_admin`; HTML
pages call `page_principal`, which sends a browser without a session to
`/login`.

A principal comes from, in order:

* `Authorization: Bearer TOKEN`: the deployment's admin token
  (FOOTFALL_ADMIN_TOKEN, or the one `footfall serve` generates under the data
  dir), with every right; or an API token, with its scopes on its sites.
* the session cookie: an admin user has every scope on every site, an editor
  `stats:read` on their sites. A call other than GET/HEAD/OPTIONS made with
  the cookie must carry the session's CSRF token (`X-CSRF-Token`).

In the API's document, `SIGNED_IN` says so of an operation (`SCHEMES` are the
token's and the cookie's), and `ACCESS` is the tag of the routes of users and tokens.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from aiohttp import web

from dashboard import appkeys, sessions
from dashboard.accounts import User
from dashboard.redirects import safe_next
from footfall import openapi
from footfall.tokens import SCOPES, Grant, bearer, is_admin
from footfall.web import ApiError

__all__ = [
    "SCOPES",
    "Principal",
    "authorize",
    "authorize_admin",
    "page_principal",
    "principal",
    "require",
    "session_principal",
]

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="footfall"'}
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SIGNED_IN: openapi.Security = [{"bearer": []}, {"session": []}]
SCHEMES = {**openapi.BEARER, "session": {"type": "apiKey", "in": "cookie", "name": sessions.COOKIE}}
ACCESS = openapi.Tag("Users and tokens", "Who may do what.", order=30)


@dataclass(frozen=True)
class Principal:
    """Whoever made the request: the admin token, an API token, or a logged-in user."""

    name: str
    scopes: frozenset[str]
    sites: frozenset[str] | None  # None: every site
    admin: bool = False  # may manage users and tokens
    email: str = ""  # the logged-in user's, for a session

    def may(self, scope: str, site: str | None = None) -> bool:
        return scope in self.scopes and (site is None or self.sites is None or site in self.sites)


ADMIN = Principal("admin token", frozenset(SCOPES), None, admin=True)


async def authorize(request: web.Request, scope: str, site: str | None = None) -> Principal:
    return require(await principal(request), scope, site)


def require(who: Principal, scope: str, site: str | None = None) -> Principal:
    """`who` if it may use `scope` (on `site`), else 403: for a site named only in the body,
    checked after `authorize(request, scope)` has refused the anonymous before the body is read."""
    if not who.may(scope, site):
        raise ApiError(403, f"not allowed: needs {scope}" + (f" on {site}" if site else ""))
    return who


async def authorize_admin(request: web.Request) -> Principal:
    """The principal if it is the admin token or an admin user, else 401/403."""
    who = await principal(request)
    if not who.admin:
        raise ApiError(403, "not allowed: only an admin may do this")
    return who


async def page_principal(request: web.Request) -> Principal:
    """For HTML pages: the logged-in user, else a redirect to the login page and back."""
    who = await session_principal(request)
    if who is None:
        raise web.HTTPSeeOther(safe_next(f"/login?next={quote(request.path_qs, safe='')}"))
    return who


async def principal(request: web.Request) -> Principal:
    """Whoever made the request, by Bearer token or session cookie; 401 when nobody."""
    authorization = request.headers.get("Authorization")
    if authorization:
        return await _token_principal(request, authorization)
    who = await session_principal(request)
    if who is None:
        raise ApiError(
            401, "missing API token: send Authorization: Bearer TOKEN, or log in", "", CHALLENGE
        )
    if request.method not in SAFE_METHODS:
        sessions.check_csrf(request, request.headers.get(sessions.CSRF_HEADER))
    return who


async def _token_principal(request: web.Request, authorization: str) -> Principal:
    token = bearer(authorization)
    if not token:
        raise ApiError(401, "missing API token: send Authorization: Bearer TOKEN", "", CHALLENGE)
    if is_admin(token, request.app[appkeys.SETTINGS].admin_token):
        return ADMIN
    grant = await request.app[appkeys.TOKENS].grant(token)
    if grant is None:
        raise ApiError(401, "invalid API token", "", CHALLENGE)
    return token_principal(grant)


async def session_principal(request: web.Request) -> Principal | None:
    """The logged-in user of the request's session cookie, if any (no CSRF check)."""
    session = await sessions.current(request)
    if session is None or not session.email:
        return None
    user = await request.app[appkeys.USERS].get(session.email)
    return user_principal(user) if user is not None else None


def token_principal(grant: Grant) -> Principal:
    return Principal(f"token {grant.id}", frozenset(grant.scopes), frozenset(grant.sites) or None)


def user_principal(user: User) -> Principal:
    if user.role == "admin":
        return Principal(user.email, frozenset(SCOPES), None, admin=True, email=user.email)
    return Principal(user.email, frozenset({"stats:read"}), frozenset(user.sites), email=user.email)
