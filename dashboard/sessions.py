"""The session of a request: the `footfall_session` cookie, logging in and out, CSRF tokens.

The cookie is HttpOnly, SameSite=Lax, and Secure when the public URL is https.
Every session has a CSRF token: forms send it as the hidden field `csrf_token`,
scripts calling the API with the cookie send it as the `X-CSRF-Token` header
(calls with a Bearer token need none: a browser never adds one by itself).
Logging in replaces the session, so a session fixed before login is useless.

Form handlers read their form with `checked_form`. Handlers that start or end
a session set the cookie on their response with `set_cookie` / `clear_cookie`;
the session is loaded once per request.
"""

from __future__ import annotations

import hmac

from aiohttp import web
from multidict import MultiDictProxy

from dashboard import appkeys
from dashboard.session_store import Session
from footfall.web import ApiError

COOKIE = "footfall_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
_LOADED = web.RequestKey("dashboard.session", Session | None)
_NEW = web.RequestKey("dashboard.session_new", Session)


async def current(request: web.Request) -> Session | None:
    """The request's session (logged in or not), or None."""
    if _LOADED not in request:
        store = request.app[appkeys.SESSIONS]
        request[_LOADED] = await store.load(request.cookies.get(COOKIE, ""))
    return request[_LOADED]


async def ensure(request: web.Request) -> Session:
    """The request's session, or a new anonymous one (for a form's CSRF token)."""
    session = await current(request)
    if session is None:
        session = await request.app[appkeys.SESSIONS].create()
        request[_LOADED] = request[_NEW] = session
    return session


async def log_in(request: web.Request, email: str) -> Session:
    """End the request's session and start a new one for `email`."""
    store = request.app[appkeys.SESSIONS]
    old = await current(request)
    if old is not None:
        await store.end(old.cookie)
    session = await store.create(email)
    request[_LOADED] = request[_NEW] = session
    return session


async def log_out(request: web.Request) -> None:
    session = await current(request)
    if session is not None:
        await request.app[appkeys.SESSIONS].end(session.cookie)
    request[_LOADED] = None


def csrf_token(request: web.Request) -> str:
    """The CSRF token to put in a form (or a page's meta tag for scripts).

    The session must have been loaded first (`page_principal`, `ensure`, `current`).
    """
    session = request.get(_LOADED)
    if session is None:
        raise RuntimeError("csrf_token() needs the request's session: await ensure() first")
    return session.csrf


async def checked_form(request: web.Request) -> MultiDictProxy[str | bytes | web.FileField]:
    """The posted form, refused (403) unless it carries the session's CSRF token."""
    form = await request.post()
    await current(request)
    supplied = form.get(CSRF_FIELD)
    check_csrf(request, supplied if isinstance(supplied, str) else None)
    return form


def check_csrf(request: web.Request, supplied: str | None) -> None:
    """Refuse (403) unless `supplied` is the loaded session's CSRF token."""
    session = request.get(_LOADED)
    if (
        session is None
        or not supplied
        or not hmac.compare_digest(supplied.encode(), session.csrf.encode())
    ):
        raise ApiError(
            403,
            f"missing or wrong CSRF token: send the form field {CSRF_FIELD} "
            f"or the header {CSRF_HEADER}",
            CSRF_FIELD,
        )


def set_cookie(request: web.Request, response: web.StreamResponse) -> None:
    """Give the browser the session started during this request, if one was."""
    session = request.get(_NEW)
    if session is None:
        return
    response.set_cookie(
        COOKIE,
        session.cookie,
        max_age=request.app[appkeys.SESSIONS].ttl,
        path="/",
        httponly=True,
        samesite="Lax",
        secure=_secure(request),
    )


def clear_cookie(request: web.Request, response: web.StreamResponse) -> None:
    response.del_cookie(COOKIE, path="/", secure=_secure(request), httponly=True, samesite="Lax")


def _secure(request: web.Request) -> bool:
    return request.app[appkeys.SETTINGS].base_url.startswith("https://")
