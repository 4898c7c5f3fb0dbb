"""Logging in and out: `GET/POST /login`, `POST /logout`, `GET /api/v1/session`.

The login form carries a CSRF token that the browser holds as a cookie
(`sessions.login_csrf`): showing the form stores nothing in Redis. A right
e-mail and password start the user's session, replacing any other, and the
browser goes on to `next` (a path on this site only: `dashboard.redirects`).
Failed logins are limited per client address and per account from an address
(`dashboard.login_throttle`): past a limit, a 429 with Retry-After.
`API` is the session's route, with its operation in the API's document.
"""

from __future__ import annotations

import msgspec
from aiohttp import web

from dashboard import appkeys, sessions
from dashboard.api_tokens import Scope
from dashboard.auth import ACCESS, SCHEMES, session_principal
from dashboard.bodies import read_form
from dashboard.login_throttle import TooManyFailures
from dashboard.redirects import safe_next, see_other
from dashboard.render import render
from footfall import openapi
from footfall.client_ip import client_ip
from footfall.openapi import Route, answer, errors, ref
from footfall.web import ApiError, json_response

BAD_LOGIN = "Wrong e-mail or password."
TOO_MANY = "Too many failed logins from here: try again in {} min."


def add_routes(app: web.Application) -> None:
    app.router.add_get("/login", login_page)
    app.router.add_post("/login", login)
    app.router.add_post("/logout", logout)
    openapi.mount(app, API)


async def login_page(request: web.Request) -> web.StreamResponse:
    target = safe_next(request.query.get("next", ""))
    if await session_principal(request) is not None:
        return see_other(target)
    response = _form(request, target, "", "")
    sessions.set_cookie(request, response)
    return response


async def login(request: web.Request) -> web.StreamResponse:
    form = await sessions.checked_login_form(request)
    email = _text(form.get("email")).strip()
    target = safe_next(_text(form.get("next")))
    throttle = request.app[appkeys.LOGIN_THROTTLE]
    try:
        attempt = await throttle.admit(email, _client_address(request))
    except TooManyFailures as e:
        response = _form(request, target, email, TOO_MANY.format(-(-e.retry_after // 60)), 429)
        response.headers["Retry-After"] = str(e.retry_after)
        return response
    user = await request.app[appkeys.USERS].verify(email, _text(form.get("password")))
    if user is None:
        return _form(request, target, email, BAD_LOGIN, status=401)
    await throttle.succeeded(attempt)
    await sessions.log_in(request, user.email)
    response = see_other(target)
    sessions.set_cookie(request, response)
    return response


async def logout(request: web.Request) -> web.StreamResponse:
    response = see_other("/login")
    if await sessions.current(request) is not None:
        form = await read_form(request)
        supplied = _text(form.get(sessions.CSRF_FIELD)) or request.headers.get(
            sessions.CSRF_HEADER, ""
        )
        sessions.check_csrf(request, supplied)
        await sessions.log_out(request)
    sessions.clear_cookie(request, response)
    return response


def _form(
    request: web.Request, target: str, email: str, error: str, status: int = 200
) -> web.Response:
    context = {"next": target, "email": email, "error": error}
    return render(request, "login.html", {**context, "csrf": sessions.login_csrf(request)}, status)


def _client_address(request: web.Request) -> str:
    trusted = request.app[appkeys.SETTINGS].trusted_proxies
    return client_ip(request.remote, request.headers.get("X-Forwarded-For"), trusted)


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


class Session(msgspec.Struct):
    email: str
    admin: bool
    scopes: list[Scope]
    sites: list[str] | None
    """None: every site."""
    csrf_token: str


async def session_info(request: web.Request) -> web.Response:
    """`GET /api/v1/session`: who is logged in, and the CSRF token for the page's scripts.

    Readable by the dashboard's own pages only: the API sends no CORS headers.
    """
    who = await session_principal(request)
    if who is None:
        raise ApiError(401, "not logged in")
    session = Session(
        email=who.email,
        admin=who.admin,
        scopes=sorted(who.scopes),
        sites=None if who.sites is None else sorted(who.sites),
        csrf_token=sessions.csrf_token(request),
    )
    return json_response(session, headers={"Cache-Control": "no-store"})


API = openapi.Part(
    ACCESS,
    (
        Route(
            "GET",
            "/api/v1/session",
            session_info,
            "Who is logged in",
            "The session cookie's user, and the CSRF token the dashboard's scripts send "
            "(`X-CSRF-Token`) with calls other than GET.",
            {"200": answer("The user.", ref("Session")), **errors(401)},
        ),
    ),
    lambda: openapi.answer_schemas(Session),
    security=[{"session": []}],
    security_schemes=SCHEMES,
)
