"""Users, sessions and CSRF: logging in and out, the cookie, roles, and the users API."""

from __future__ import annotations

import re
import subprocess

import pytest
from aiohttp import web
from yarl import URL

from app.serve import all_in_one_app
from dashboard.auth import page_principal
from dashboard.bodies import MAX_BODY
from dashboard.redirects import safe_next
from footfall import keys
from footfall.clock import ManualClock
from footfall.connections import AsyncClickHouse
from tests import test_cli
from tests.conftest import AUTH, BROWSER_UA

PASSWORD = "correct horse battery"


@pytest.fixture
def add_user(client):
    """Add a user through the users API, with the admin token."""

    async def add(email: str, role: str = "editor", sites: tuple[str, ...] = ()) -> dict:
        body = {"email": email, "password": PASSWORD, "role": role, "sites": list(sites)}
        response = await client.post("/api/v1/users", json=body, headers=AUTH)
        assert response.status == 201, await response.text()
        return await response.json()

    return add


async def form_csrf(client, path: str = "/login") -> str:
    page = await client.get(path)
    assert page.status == 200
    return re.search(r'name="csrf_token" value="([^"]+)"', await page.text()).group(1)


async def log_in(client, email: str, password: str = PASSWORD, next_: str = "/"):
    csrf = await form_csrf(client)
    form = {"email": email, "password": password, "csrf_token": csrf, "next": next_}
    return await client.post("/login", data=form, allow_redirects=False)


async def session_csrf(client) -> str:
    """The CSRF token of the logged-in session, as the dashboard's scripts read it."""
    response = await client.get("/api/v1/session")
    assert response.status == 200, await response.text()
    return (await response.json())["csrf_token"]


async def test_the_login_page_is_a_form_with_a_csrf_token(client):
    page = await client.get("/login")
    html = await page.text()
    assert page.status == 200 and page.content_type == "text/html"
    assert '<form method="post" action="/login">' in html
    token = re.search(r'name="csrf_token" value="([\w-]{40,})"', html)[1]
    assert page.headers["Cache-Control"] == "no-store"
    # The token is the one of a cookie only this site's pages send back (double submit).
    cookie = page.cookies["footfall_login_csrf"]
    assert cookie.value == token
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/"
    again = await client.get("/login")  # another tab: the same token, no new cookie
    assert token in await again.text() and "footfall_login_csrf" not in again.cookies


async def test_a_right_password_logs_in_with_a_safe_cookie(client, add_user):
    await add_user("editor@news.example", sites=("news.example",))
    response = await log_in(client, "Editor@News.example", next_="/sites/news.example")
    assert response.status == 303
    assert response.headers["Location"] == "/sites/news.example"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("footfall_session=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # the public URL is http here
    me = await (await client.get("/api/v1/session")).json()
    assert (me["email"], me["admin"], me["sites"]) == (
        "editor@news.example",
        False,
        ["news.example"],
    )


async def test_the_cookie_is_secure_when_the_public_url_is_https(make_client):
    client = await make_client(public_url="https://stats.example")
    page = await client.get("/login")
    assert "Secure" in page.headers["Set-Cookie"]


async def test_logging_in_replaces_the_session_so_a_planted_one_is_useless(client, add_user):
    await add_user("editor@news.example")
    planted = "A" * 43  # set by someone else, who would like to use it once the victim logs in
    client.session.cookie_jar.update_cookies({"footfall_session": planted})
    assert (await log_in(client, "editor@news.example")).status == 303
    after = client.session.cookie_jar.filter_cookies(client.make_url("/"))["footfall_session"]
    assert after.value != planted
    replayed = await client.get("/api/v1/session", cookies={"footfall_session": planted})
    assert replayed.status == 401


async def test_the_login_form_stores_nothing_in_redis(client, add_user, redis_db):
    await add_user("editor@news.example")
    before = redis_db.dbsize()
    for _ in range(100):
        client.session.cookie_jar.clear()
        assert (await client.get("/login")).status == 200
    assert redis_db.dbsize() == before
    assert (await log_in(client, "editor@news.example")).status == 303


async def test_a_login_form_is_refused_without_the_cookie_its_token_came_with(client, add_user):
    """A page elsewhere may post the form, but the browser sends it no SameSite cookie."""
    await add_user("editor@news.example")
    csrf = await form_csrf(client)
    client.session.cookie_jar.clear()
    form = {"email": "editor@news.example", "password": PASSWORD, "csrf_token": csrf}
    response = await client.post("/login", data=form, allow_redirects=False)
    assert response.status == 403
    assert (await response.json())["field"] == "csrf_token"


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("editor@news.example", "wrong password"),
        ("nobody@news.example", PASSWORD),
        ("", ""),
    ],
)
async def test_a_wrong_email_or_password_is_refused(client, add_user, email, password):
    await add_user("editor@news.example")
    response = await log_in(client, email, password)
    assert response.status == 401
    assert "Wrong e-mail or password." in await response.text()
    assert (await client.get("/api/v1/session")).status == 401


@pytest.mark.parametrize("path", ["/login", "/logout"])
async def test_a_form_in_a_charset_that_does_not_exist_is_a_400(client, add_user, path):
    await add_user("editor@news.example")
    await log_in(client, "editor@news.example")  # /logout reads its form only in a session
    csrf = await form_csrf(client) if path == "/login" else await session_csrf(client)
    response = await client.post(
        path,
        data=f"email=a%40b.example&password=x&csrf_token={csrf}",
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=nope"},
        allow_redirects=False,
    )
    assert response.status == 400
    assert (await response.json())["field"] == "Content-Type"


async def test_logout_ends_the_session(client, add_user, redis_db):
    await add_user("admin@news.example", role="admin")
    await log_in(client, "admin@news.example")
    csrf = await session_csrf(client)
    cookie = client.session.cookie_jar.filter_cookies(client.make_url("/"))["footfall_session"]
    response = await client.post("/logout", data={"csrf_token": csrf}, allow_redirects=False)
    assert (response.status, response.headers["Location"]) == (303, "/login")
    assert (await client.get("/api/v1/sites")).status == 401
    # The old cookie, kept by someone, opens nothing either.
    replayed = await client.get("/api/v1/sites", cookies={"footfall_session": cookie.value})
    assert replayed.status == 401
    assert not redis_db.keys(keys.session("*"))


async def test_sessions_live_in_redis_under_a_hash_of_the_cookie(client, add_user, redis_db):
    await add_user("editor@news.example")
    await log_in(client, "editor@news.example")
    cookie = client.session.cookie_jar.filter_cookies(client.make_url("/"))["footfall_session"]
    [key] = redis_db.keys(keys.session("*"))
    assert cookie.value not in key.decode()
    assert 13 * 24 * 3600 < redis_db.ttl(key) <= 14 * 24 * 3600


async def test_a_login_form_without_its_csrf_token_is_refused(client, add_user):
    await add_user("editor@news.example")
    await client.get("/login")
    for token in (None, "forged"):
        form = {"email": "editor@news.example", "password": PASSWORD}
        if token:
            form["csrf_token"] = token
        response = await client.post("/login", data=form, allow_redirects=False)
        assert response.status == 403
        assert (await response.json())["field"] == "csrf_token"


async def test_logout_without_the_csrf_token_is_refused(client, add_user):
    await add_user("editor@news.example")
    await log_in(client, "editor@news.example")
    response = await client.post("/logout", allow_redirects=False)
    assert response.status == 403
    assert (await client.get("/api/v1/session")).status == 200


async def test_a_session_api_call_that_writes_needs_the_csrf_header(client, add_user):
    await add_user("admin@news.example", role="admin")
    await log_in(client, "admin@news.example")
    body = {"domain": "news.example"}
    refused = await client.post("/api/v1/sites", json=body)
    assert refused.status == 403
    assert "CSRF" in (await refused.json())["error"]
    forged = await client.post("/api/v1/sites", json=body, headers={"X-CSRF-Token": "forged"})
    assert forged.status == 403
    csrf = await session_csrf(client)
    created = await client.post("/api/v1/sites", json=body, headers={"X-CSRF-Token": csrf})
    assert created.status == 201
    assert (await client.get("/api/v1/sites/news.example")).status == 200  # reads need none


async def test_a_bearer_token_needs_no_csrf_even_with_a_session(client, add_user):
    await add_user("editor@news.example")
    await log_in(client, "editor@news.example")
    response = await client.post("/api/v1/sites", json={"domain": "news.example"}, headers=AUTH)
    assert response.status == 201


async def test_passwords_are_stored_as_argon2_hashes(client, add_user, ch):
    await add_user("editor@news.example")
    [(password_hash,)] = ch.query("SELECT password_hash FROM users FINAL").result_rows
    assert password_hash.startswith("$argon2id$")
    assert PASSWORD not in password_hash
    listed = await (await client.get("/api/v1/users", headers=AUTH)).json()
    assert listed == {"users": [{"email": "editor@news.example", "role": "editor", "sites": []}]}


EDITOR_OF_A = "editor@a.example"


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("GET", "/api/v1/sites/a.example", None, 200),
        ("GET", "/api/v1/sites/b.example", None, 403),
        ("PUT", "/api/v1/sites/a.example", {"public_counters": True}, 403),
        ("POST", "/api/v1/sites", {"domain": "c.example"}, 403),
        ("DELETE", "/api/v1/sites/a.example", None, 403),
        ("GET", "/api/v1/users", None, 403),
        ("POST", "/api/v1/users", {"email": "x@a.example", "password": PASSWORD}, 403),
        ("PUT", f"/api/v1/users/{EDITOR_OF_A}", {"role": "admin"}, 403),
        ("DELETE", f"/api/v1/users/{EDITOR_OF_A}", None, 403),
        ("GET", "/api/v1/tokens", None, 403),
        ("POST", "/api/v1/tokens", {"name": "x", "scopes": ["stats:read"]}, 403),
        ("DELETE", "/api/v1/tokens/0123456789abcdef", None, 403),
    ],
)  # fmt: skip
async def test_an_editor_reads_their_sites_and_nothing_else(
    client, add_site, add_user, method, path, body, status
):
    await add_site("a.example")
    await add_site("b.example")
    await add_user(EDITOR_OF_A, sites=("a.example",))
    await log_in(client, EDITOR_OF_A)
    csrf = await session_csrf(client)
    response = await client.request(method, path, json=body, headers={"X-CSRF-Token": csrf})
    assert response.status == status, await response.text()
    if status == 403:
        assert (await response.json())["error"].startswith("not allowed")


async def test_an_editor_lists_only_their_sites(client, add_site, add_user):
    await add_site("a.example")
    await add_site("b.example")
    await add_user(EDITOR_OF_A, sites=("a.example",))
    await log_in(client, EDITOR_OF_A)
    listed = await (await client.get("/api/v1/sites")).json()
    assert [s["domain"] for s in listed["sites"]] == ["a.example"]


async def test_an_admin_user_manages_users_and_tokens(client, add_user):
    await add_user("admin@news.example", role="admin")
    await log_in(client, "admin@news.example")
    csrf = {"X-CSRF-Token": await session_csrf(client)}
    body = {"email": "new@news.example", "password": PASSWORD, "sites": ["news.example"]}
    assert (await client.post("/api/v1/users", json=body, headers=csrf)).status == 201
    token = await client.post(
        "/api/v1/tokens", json={"name": "ci", "scopes": ["stats:read"]}, headers=csrf
    )
    assert token.status == 201
    assert (await token.json())["created_by"] == "admin@news.example"


async def test_a_user_is_changed_and_deleted_through_the_api(client, add_user):
    await add_user("editor@news.example")
    changed = await client.put(
        "/api/v1/users/editor@news.example",
        json={"sites": ["www.News.example"], "password": "a new password"},
        headers=AUTH,
    )
    assert await changed.json() == {
        "email": "editor@news.example",
        "role": "editor",
        "sites": ["news.example"],
    }
    assert (await log_in(client, "editor@news.example")).status == 401  # the old password
    assert (await log_in(client, "editor@news.example", "a new password")).status == 303
    deleted = await client.delete("/api/v1/users/editor@news.example", headers=AUTH)
    assert await deleted.json() == {"deleted": True}
    # A deleted user's session opens nothing any more.
    assert (await client.get("/api/v1/sites")).status == 401


async def test_a_new_password_or_a_deletion_ends_the_users_sessions(client, add_user):
    await add_user("editor@news.example")
    await log_in(client, "editor@news.example")
    changed = await client.put(
        "/api/v1/users/editor@news.example", json={"password": "a new password"}, headers=AUTH
    )
    assert changed.status == 200
    assert (await client.get("/api/v1/session")).status == 401
    await log_in(client, "editor@news.example", "a new password")
    assert (await client.get("/api/v1/session")).status == 200
    await client.delete("/api/v1/users/editor@news.example", headers=AUTH)
    await add_user("editor@news.example")  # the same address, perhaps another person
    assert (await client.get("/api/v1/session")).status == 401


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "field"),
    [
        ("POST", "/api/v1/users", {"email": "not an address", "password": PASSWORD}, 400, "email"),
        ("POST", "/api/v1/users", {"email": "x@news.example", "password": "short"}, 400, "password"),
        ("POST", "/api/v1/users", {"email": "x@news.example", "password": PASSWORD, "role": "owner"}, 400, "role"),
        ("POST", "/api/v1/users", {"email": "x@news.example", "password": PASSWORD, "sites": ["not a domain"]}, 400, "sites"),
        ("POST", "/api/v1/users", {"email": "x@news.example"}, 400, "password"),
        ("POST", "/api/v1/users", {"email": "x@news.example", "password": PASSWORD, "admin": True}, 400, "admin"),
        ("POST", "/api/v1/users", {"email": "editor@news.example", "password": PASSWORD}, 409, "email"),
        ("POST", "/api/v1/users", [1], 400, ""),
        ("PUT", "/api/v1/users/editor@news.example", {"password": "short"}, 400, "password"),
        ("PUT", "/api/v1/users/editor@news.example", {"email": "other@news.example"}, 400, "email"),
        ("PUT", "/api/v1/users/nobody@news.example", {"role": "admin"}, 404, "email"),
        ("DELETE", "/api/v1/users/nobody@news.example", None, 404, "email"),
    ],
)  # fmt: skip
async def test_bad_user_requests_get_a_clear_4xx(
    client, add_user, method, path, body, status, field
):
    await add_user("editor@news.example")
    response = await client.request(method, path, json=body, headers=AUTH)
    assert response.status == status
    error = await response.json()
    assert error["error"]
    assert error.get("field", "") == field


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}])
async def test_the_users_api_needs_credentials(client, headers):
    response = await client.get("/api/v1/users", headers=headers)
    assert response.status == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def write_routes(app: web.Application) -> list[tuple[str, str]]:
    """Every (method, path) of the dashboard's API that changes something, placeholders filled."""
    found = set()
    for route in app.router.routes():
        path = route.resource.canonical if route.resource else ""
        if route.method in WRITE_METHODS and path.startswith("/api/v1/"):
            found.add((route.method, re.sub(r"\{[^}]+\}", "x.example", path)))
    return sorted(found)


async def test_every_write_api_asks_for_credentials_before_reading_the_body(client):
    routes = write_routes(client.app)
    assert ("POST", "/api/v1/sites") in routes and ("DELETE", "/api/v1/tokens/x.example") in routes
    for method, path in routes:
        for body in (b"{not json", b"[" * (MAX_BODY + 1)):
            response = await client.request(
                method, path, data=body, headers={"Content-Type": "application/json"}
            )
            assert response.status == 401, (method, path, len(body), await response.text())
            assert response.headers["WWW-Authenticate"].startswith("Bearer")


async def test_a_page_sends_a_browser_without_a_session_to_the_login(
    settings, ch, clock: ManualClock, aiohttp_client, add_user
):
    async def page(request: web.Request) -> web.Response:
        who = await page_principal(request)
        return web.Response(text=f"hello {who.email}")

    app = all_in_one_app(settings, AsyncClickHouse(ch), clock=clock, aggregate=False)
    app.router.add_get("/probe/{domain}", page)
    browser = await aiohttp_client(app, headers={"User-Agent": BROWSER_UA})
    response = await browser.get("/probe/a.example?period=7d", allow_redirects=False)
    assert response.status == 303
    location = URL(response.headers["Location"])
    assert (location.path, location.query["next"]) == ("/login", "/probe/a.example?period=7d")
    await add_user("editor@news.example")
    logged_in = await log_in(browser, "editor@news.example", next_=location.query["next"])
    landed = await browser.get(logged_in.headers["Location"])
    assert await landed.text() == "hello editor@news.example"


@pytest.mark.parametrize(
    ("target", "followed"),
    [
        ("/sites/a.example?period=7d", "/sites/a.example?period=7d"),
        ("", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example/", "/"),
        ("javascript:alert(1)", "/"),
        ("/a\r\nSet-Cookie: x=1", "/"),
    ],
)
def test_next_is_followed_only_within_the_site(target, followed):
    assert safe_next(target) == followed


async def test_the_first_admin_comes_from_the_settings(make_client):
    client = await make_client(admin_email="Boss@News.example", admin_password=PASSWORD)
    assert (await log_in(client, "boss@news.example")).status == 303
    assert (await (await client.get("/api/v1/session")).json())["admin"] is True
    # A later start with another password leaves the existing admin as it is.
    again = await make_client(admin_email="boss@news.example", admin_password="another one!")
    assert (await log_in(again, "boss@news.example")).status == 303


async def test_a_first_admin_without_a_password_stops_the_start_clearly(make_client):
    with pytest.raises(ValueError, match="FOOTFALL_ADMIN_PASSWORD"):
        await make_client(admin_email="boss@news.example")


env = test_cli.env  # the command run as a user runs it, on a fresh data dir


def footfall(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*test_cli.FOOTFALL, *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_user_is_added_from_the_command_line(env):
    added = footfall(env, "user", "add", "Boss@News.example", "--role", "admin",
                     "--password-stdin", stdin=PASSWORD + "\n")  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert "added admin boss@news.example" in added.stdout
    editor = footfall(env, "user", "add", "ed@news.example", "--site", "news.example",
                      "--password-stdin", stdin=PASSWORD + "\n")  # fmt: skip
    assert editor.returncode == 0, editor.stderr

    listed = footfall(env, "user", "list").stdout
    assert "boss@news.example" in listed and "ed@news.example" in listed
    assert "on news.example" in listed
    assert PASSWORD not in listed

    again = footfall(env, "user", "add", "boss@news.example", "--password-stdin", stdin=PASSWORD)
    assert again.returncode == 1 and "already exists (email)" in again.stderr
    short = footfall(env, "user", "add", "x@news.example", "--password-stdin", stdin="short\n")
    assert short.returncode == 1 and "(password)" in short.stderr
