"""The session of a request: the `footfall_session` cookie, logging in and out, CSRF tokens.

The cookie is HttpOnly, SameSite=Lax, and Secure when the public URL is https.
Every session has a CSRF token: forms send it as the hidden field `csrf_token`,
scripts calling the API with the cookie send it as the `X-CSRF-Token` header
(calls with a Bearer token need none: a browser never adds one by itself).
Logging in replaces the session, so a session fixed before login is useless.

Before login there is no session: the login form's CSRF token is a double-submit
cookie (`footfall_login_csrf`, a random value the form repeats), so showing the
form stores nothing on the server. A page elsewhere may post the form, but the
browser sends it no SameSite cookie, and a page cannot read the cookie to copy it.

The login handler reads its form with `checked_login_form`; others check the
session's token with `check_csrf`. Handlers that start or end a session set the
cookies on their response with `set_cookie` / `clear_cookie`; the session is
loaded once per request.
"""

from __future__ import annotations

import hmac
import re
import secrets

from aiohttp import web
from multidict import MultiDictProxy

from dashboard import appkeys
from dashboard.bodies import read_form
from dashboard.session_store import Session
from footfall.web import ApiError

COOKIE = "footfall_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
LOGIN_CSRF_COOKIE = "footfall_login_csrf"
LOGIN_CSRF_MAX_AGE = 3600
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(32)
_LOADED = web.RequestKey("dashboard.session", Session | None)
_NEW = web.RequestKey("dashboard.session_new", Session)
_NEW_LOGIN_CSRF = web.RequestKey("dashboard.login_csrf_new", str)


async def current(request: web.Request) -> Session | None:
    """The request's session (a logged-in user's), or None."""
    if _LOADED not in request:
        store = request.app[appkeys.SESSIONS]
        request[_LOADED] = await store.load(request.cookies.get(COOKIE, ""))
    return request[_LOADED]


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
    """The session's CSRF token, to put in a form (or a page's data for scripts).

    The session must have been loaded first (`page_principal`, `current`).
    """
    session = request.get(_LOADED)
    if session is None:
        raise RuntimeError("csrf_token() needs the request's session: await current() first")
    return session.csrf


def login_csrf(request: web.Request) -> str:
    """The login form's CSRF token: the browser's login cookie, else a new one that
    `set_cookie` gives it."""
    token = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not _TOKEN.fullmatch(token):
        token = request.setdefault(_NEW_LOGIN_CSRF, secrets.token_urlsafe(32))
    return token


async def checked_login_form(request: web.Request) -> MultiDictProxy[str | bytes | web.FileField]:
    """The posted login form, refused (403) unless its CSRF token is the login cookie's."""
    form = await read_form(request)
    supplied = form.get(CSRF_FIELD)
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not _TOKEN.fullmatch(expected):
        expected = ""
    _check(supplied if isinstance(supplied, str) else None, expected)
    return form


def check_csrf(request: web.Request, supplied: str | None) -> None:
    """Refuse (403) unless `supplied` is the loaded session's CSRF token."""
    session = request.get(_LOADED)
    _check(supplied, session.csrf if session is not None else "")


def _check(supplied: str | None, expected: str) -> None:
    """Refuse (403) unless `supplied` is `expected` ("": nothing is)."""
    if not (expected and supplied and hmac.compare_digest(supplied.encode(), expected.encode())):
        raise ApiError(
            403,
            f"missing or wrong CSRF token: send the form field {CSRF_FIELD} "
            f"or the header {CSRF_HEADER}",
            CSRF_FIELD,
        )


def set_cookie(request: web.Request, response: web.StreamResponse) -> None:
    """Give the browser the session started during this request, if one was (and drop
    its login cookie, which has done its work), or the login cookie made for its form."""
    session = request.get(_NEW)
    if session is not None:
        _set(request, response, COOKIE, session.cookie, request.app[appkeys.SESSIONS].ttl)
        if LOGIN_CSRF_COOKIE in request.cookies:
            _delete(request, response, LOGIN_CSRF_COOKIE)
    elif _NEW_LOGIN_CSRF in request:
        _set(request, response, LOGIN_CSRF_COOKIE, request[_NEW_LOGIN_CSRF], LOGIN_CSRF_MAX_AGE)


def clear_cookie(request: web.Request, response: web.StreamResponse) -> None:
    _delete(request, response, COOKIE)


def _set(
    request: web.Request, response: web.StreamResponse, name: str, value: str, max_age: int
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="Lax",
        secure=_secure(request),
    )


def _delete(request: web.Request, response: web.StreamResponse, name: str) -> None:
    response.del_cookie(name, path="/", secure=_secure(request), httponly=True, samesite="Lax")


def _secure(request: web.Request) -> bool:
    return request.app[appkeys.SETTINGS].base_url.startswith("https://")
