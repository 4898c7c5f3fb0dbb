"""Every way an event can be wrong, as a table: the status, the field, and nothing stored."""

from __future__ import annotations

import orjson
import pytest

from tests.conftest import AUTH
from tests.helpers import pageview, stream_events

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
