"""Every way an event or a request can be wrong, as a table: the status, the field, and
nothing stored."""

from __future__ import annotations

import orjson
import pytest

from tests.conftest import AUTH, BROWSER_UA
from tests.helpers import pageview, stream_events
from tests.live_server import LiveServer, raw_request

URL = "https://news.example/a.html"

CASES = [
    # (name, body, status, field)
    ("malformed JSON", b'{"n": "pageview", "u": ', 400, ""),
    ("empty body", b"", 400, ""),
    ("not an object", b"[1, 2]", 400, ""),
    ("missing URL", orjson.dumps({"n": "pageview"}), 400, "u"),
    ("missing name", orjson.dumps({"u": URL}), 400, "n"),
    ("URL of the wrong type", orjson.dumps({"n": "pageview", "u": 42}), 400, "u"),
    ("name of the wrong type", orjson.dumps({"n": ["pageview"], "u": URL}), 400, "n"),
    ("width of the wrong type", orjson.dumps(pageview(w="wide")), 400, "w"),
    ("negative engaged time", orjson.dumps(pageview(n="engagement", e=-5)), 400, "e"),
    ("data: URL", orjson.dumps(pageview("data:text/html,<b>hi</b>")), 400, "u"),
    ("javascript: URL", orjson.dumps(pageview("javascript:alert(1)")), 400, "u"),
    ("URL without a host", orjson.dumps(pageview("https:///path")), 400, "u"),
    ("URL over 2,000 characters", orjson.dumps(pageview(URL + "?q=" + "x" * 2000)), 400, "u"),
    ("referrer over 2,000 characters", orjson.dumps(pageview(r="https://a.b/" + "x" * 2000)), 400, "r"),
    ("31 props", orjson.dumps(pageview(p={f"k{i}": "v" for i in range(31)})), 400, "p"),
    ("a prop value over 300 characters", orjson.dumps(pageview(p={"k": "v" * 301})), 400, "p"),
    ("a nested prop", orjson.dumps(pageview(p={"k": {"deep": 1}})), 400, "p"),
    ("props JSON string that is not a map", orjson.dumps(pageview(p="[1]")), 400, "p"),
    ("scroll depth below 0", orjson.dumps(pageview(n="engagement", sd=-5)), 400, "sd"),
    ("scroll depth over 100", orjson.dumps(pageview(n="engagement", sd=1000)), 400, "sd"),
    ("scroll depth far over 100", orjson.dumps(pageview(n="engagement", sd=10**18)), 400, "sd"),
    ("a NUL in the URL", orjson.dumps(pageview(URL + "?q=\x00")), 400, "u"),
    ("a new line in the URL", orjson.dumps(pageview(URL + "\n")), 400, "u"),
    ("a DEL in the URL", orjson.dumps(pageview(URL + "\x7f")), 400, "u"),
    ("a control character in the referrer", orjson.dumps(pageview(r="https://a.b/\x07")), 400, "r"),
    ("a C1 control character in the referrer", orjson.dumps(pageview(r="https://a.b/\x85")), 400, "r"),
    ("empty domain list", orjson.dumps(pageview(d=" , ")), 400, "d"),
    ("unknown site", orjson.dumps(pageview("https://elsewhere.example/")), 404, "d"),
    ("body over 64 KiB", orjson.dumps(pageview(ti="t" * 1000, p={"k": "v"}) | {"x": "y" * 70_000}), 413, ""),
]  # fmt: skip


@pytest.fixture
async def site(add_site):
    return await add_site("news.example")


@pytest.mark.parametrize(("name", "body", "status", "field"), CASES, ids=[c[0] for c in CASES])
async def test_bad_events_get_a_clear_4xx_and_store_nothing(
    client, site, redis_db, name, body, status, field
):
    response = await client.post("/api/event", data=body)
    assert response.status == status
    error = await response.json()
    assert error["error"]
    assert error.get("field", "") == field
    assert stream_events(redis_db) == []


async def test_a_batch_over_1000_events_is_refused(client, site, redis_db):
    response = await client.post("/api/events", json=[pageview()] * 1001)
    assert response.status == 400
    assert stream_events(redis_db) == []


async def test_an_empty_batch_is_refused(client, site):
    response = await client.post("/api/events", json=[])
    assert response.status == 400


async def test_a_batch_event_with_a_bad_ip_names_its_index(client, site):
    response = await client.post(
        "/api/events", json=[pageview(), pageview(ip="not-an-ip")], headers=AUTH
    )
    assert response.status == 400
    assert (await response.json())["field"] == "[1].ip"


async def test_a_batch_event_with_a_control_character_in_its_url_names_its_index(client, site):
    response = await client.post("/api/events", json=[pageview(), pageview(URL + "\x00")])
    assert response.status == 400
    assert (await response.json())["field"] == "[1].u"


async def test_urls_with_unicode_that_is_not_a_control_character_are_stored(client, site, redis_db):
    # A server may send an IRI; no-break spaces and soft hyphens are not refused.
    url = URL + "?q=tin-t\u1ee9c\u00a0\u00ad"
    response = await client.post("/api/event", json=pageview(url))
    assert response.status == 202
    assert stream_events(redis_db)[0].url == url


async def test_the_reason_of_a_refusal_is_in_a_header(client, site):
    response = await client.post("/api/event", json=pageview("https://elsewhere.example/"))
    assert response.headers["X-Footfall-Dropped"] == "unknown_site"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/api/event", 405), ("GET", "/no/such/page", 404), ("DELETE", "/api/counters", 405)],
)
async def test_unknown_routes_and_methods_answer_json(client, method, path, status):
    response = await client.request(method, path)
    assert response.status == status
    assert "error" in await response.json()


# ------------------------------------------------ requests as bytes, to a real server
# aiohttp's client refuses to send these, and its parser answers some before any
# middleware runs: a server on a socket sees them as they would arrive.


@pytest.fixture
def live(live_server: LiveServer) -> LiveServer:
    assert live_server.request("POST", "/api/v1/sites", {"domain": "news.example"}, AUTH)[0] == 201
    return live_server


EVENT = orjson.dumps(pageview())
NOT_UTF8 = b"\xff\xfe"
MALFORMED = [
    # (name, request, field); none may be echoed: ECHO is nowhere in the answer
    ("a header line of 10 KB", raw_request("GET", b"/health", [b"X-Long: ECHO" + b"x" * 10_000]), ""),
    ("a header name of 10 KB", raw_request("GET", b"/health", [b"X-ECHO" + b"x" * 10_000 + b": 1"]), ""),
    ("a request line of 10 KB", b"GET /ECHO" + b"x" * 10_000 + b" HTTP/1.1\r\nHost: a\r\n\r\n", ""),
    ("a request line that is not HTTP", b"ECHO\r\n\r\n", ""),
    ("an unknown method", b"ECHO / HTTP/1.1\r\nHost: a\r\n\r\n", ""),
    ("a path that is not UTF-8", raw_request("GET", b"/ECHO" + NOT_UTF8, []), ""),
    ("a negative Content-Length", b"POST /api/event HTTP/1.1\r\nHost: a\r\nContent-Length: -1ECHO\r\n\r\n", ""),
    ("a NUL in a header", raw_request("GET", b"/health", [b"X-Note: ECHO\x00"]), ""),
    ("a header without a colon", raw_request("GET", b"/health", [b"ECHO"]), ""),
    ("a chunked body that is not", b"POST /api/event HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nECHO\r\n\r\n", ""),
    ("a body not in its Content-Encoding", raw_request("POST", b"/api/event", [b"Content-Encoding: gzip"], b"ECHO, not gzip"), "Content-Encoding"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "request_", "field"), MALFORMED, ids=[c[0] for c in MALFORMED])
def test_a_malformed_request_gets_a_json_400_that_echoes_none_of_it(
    live, redis_db, name, request_, field
):
    answer = live.raw(request_)
    assert answer.status == 400, answer
    assert answer.headers["content-type"].startswith("application/json")
    error = orjson.loads(answer.body)
    assert error["error"]
    assert error.get("field", "") == field
    assert b"ECHO" not in answer.body and b"ECHO" not in str(answer.headers).encode()
    assert stream_events(redis_db) == []


HEADERS_NOT_UTF8 = [
    # (header, value, method, path); each route reads the header, or runs past it
    ("User-Agent", b"Mozilla/5.0 " + NOT_UTF8, "POST", b"/api/event"),
    ("User-Agent", b"Mozilla/5.0 " + NOT_UTF8, "POST", b"/api/events"),
    ("Origin", b"https://news.example" + NOT_UTF8, "POST", b"/api/event"),
    ("X-Forwarded-For", NOT_UTF8, "POST", b"/api/event"),
    ("Authorization", b"Bearer " + NOT_UTF8, "POST", b"/api/events"),
    ("Authorization", b"Bearer " + NOT_UTF8, "GET", b"/api/v1/sites"),
    (
        "Authorization",
        b"Bearer " + NOT_UTF8,
        "GET",
        b"/api/v1/stats/aggregate?site_id=news.example",
    ),
    ("Cookie", b"footfall_session=" + NOT_UTF8, "GET", b"/api/v1/sites"),
    ("Cookie", b"footfall_session=" + NOT_UTF8, "GET", b"/"),
    ("X-CSRF-Token", NOT_UTF8, "POST", b"/api/v1/sites"),
    ("X-CSRF-Token", NOT_UTF8, "POST", b"/login"),
    ("User-Agent", NOT_UTF8, "GET", b"/login"),
    ("X-Request-Id", NOT_UTF8, "GET", b"/health"),
]


@pytest.mark.parametrize(
    ("header", "value", "method", "path"),
    HEADERS_NOT_UTF8,
    ids=[f"{c[0]} on {c[3].decode()}" for c in HEADERS_NOT_UTF8],
)
def test_a_header_that_is_not_utf8_gets_400_naming_it(live, redis_db, header, value, method, path):
    body = b"[" + EVENT + b"]" if path == b"/api/events" else EVENT
    headers = [header.encode() + b": " + value]
    if header != "User-Agent":  # a browser's, so no route stops at it first
        headers.append(f"User-Agent: {BROWSER_UA}".encode())
    answer = live.raw(raw_request(method, path, headers, body))
    assert answer.status == 400, answer
    assert orjson.loads(answer.body) == {"error": "the header is not UTF-8", "field": header}
    assert stream_events(redis_db) == []
