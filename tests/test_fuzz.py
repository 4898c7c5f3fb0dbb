"""Property-based: no body, however strange, makes the collector answer 5xx or lose an event,
and no header's bytes make any route answer 5xx.

Every answer is a 202 (and then the events are in the stream) or a 4xx with a
JSON error.
"""

from __future__ import annotations

import json

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from footfall import keys
from tests.conftest import ADMIN_TOKEN, AUTH, BROWSER_UA
from tests.live_server import LiveServer, raw_request

FIELDS = ["n", "name", "u", "url", "d", "domain", "r", "referrer", "p", "props", "m", "meta",
          "h", "hashMode", "e", "sd", "w", "a", "ti", "pv", "ip", "ua"]  # fmt: skip

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=50),
    st.sampled_from(
        ["pageview", "engagement", "https://news.example/a.html", "news.example",
         "data:,x", "https://", "8.8.8.8", "::1", "", "www.news.example,other.example"]
    ),
)  # fmt: skip
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
events = st.fixed_dictionaries(
    {"u": st.sampled_from(["https://news.example/a.html", "https://www.news.example/"])},
    optional={field: json_values for field in FIELDS if field != "u"},
)


def dumps(value: object) -> bytes:
    # The standard library writes integers past 64 bits and infinities, as a sloppy sender might.
    return json.dumps(value).encode()


bodies = st.one_of(
    st.binary(max_size=300),
    json_values.map(dumps),
    events.map(dumps),
    st.lists(events, max_size=5).map(dumps),
)
FUZZ = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
async def site(add_site):
    return await add_site("news.example", public_counters=True)


@FUZZ
@given(body=bodies, path=st.sampled_from(["/api/event", "/api/events"]), token=st.booleans())
async def test_no_body_makes_the_collector_answer_5xx(client, site, redis_db, body, path, token):
    before = redis_db.xlen(keys.stream("news.example"))
    response = await client.post(path, data=body, headers=AUTH if token else {})
    stored = redis_db.xlen(keys.stream("news.example")) - before
    assert response.status < 500, await response.text()
    if response.status == 202:
        if path == "/api/events":
            assert stored == (await response.json())["accepted"]
        else:
            assert stored >= 1
    else:
        assert 400 <= response.status < 500
        assert (await response.json())["error"]
        assert stored == 0


@FUZZ
@given(
    query=st.dictionaries(st.sampled_from(["d", "a", "u", "x"]), st.text(max_size=300), max_size=3)
)
async def test_no_query_makes_the_counters_answer_5xx(client, site, query):
    response = await client.get("/api/counters", params=query)
    assert response.status in (200, 400, 404), await response.text()


# Headers some handler reads, and some none does. Host and the body's framing headers
# are the parser's (test_validation sends those malformed).
HEADERS = ["User-Agent", "Origin", "Cookie", "Authorization", "X-CSRF-Token", "X-Forwarded-For",
           "X-Request-Id", "Referer", "Accept", "Accept-Language", "Content-Type", "X-Other"]  # fmt: skip
ROUTES = [("POST", b"/api/event"), ("POST", b"/api/events"), ("OPTIONS", b"/api/event"),
          ("GET", b"/api/counters?d=news.example"), ("GET", b"/snippet.js"), ("GET", b"/health"),
          ("GET", b"/api/v1/sites"), ("POST", b"/api/v1/sites"),
          ("GET", b"/api/v1/stats/aggregate?site_id=news.example"), ("GET", b"/"),
          ("GET", b"/login"), ("POST", b"/login"), ("POST", b"/logout")]  # fmt: skip
# Any byte a header value may hold (not CR, LF, NUL or other controls, which the parser refuses).
header_values = st.lists(
    st.integers(0x20, 0xFF).filter(lambda b: b != 0x7F), min_size=1, max_size=40
).map(bytes)


def is_utf8(value: bytes) -> bool:
    try:
        value.decode()
    except UnicodeDecodeError:
        return False
    return True


@pytest.fixture
def live(live_server: LiveServer) -> LiveServer:
    site = {"domain": "news.example", "public_counters": True}
    assert live_server.request("POST", "/api/v1/sites", site, AUTH)[0] == 201
    return live_server


@FUZZ
@given(
    header=st.sampled_from(HEADERS),
    value=header_values,
    prefix=st.sampled_from([b"", b"Bearer ", b"footfall_session=", b"https://news.example/"]),
    route=st.sampled_from(ROUTES),
    token=st.booleans(),
)
def test_no_header_bytes_make_a_5xx_and_bytes_not_utf8_get_400_naming_the_header(
    live, header, value, prefix, route, token
):
    method, path = route
    headers = [f"User-Agent: {BROWSER_UA}".encode(), b"Content-Type: application/json"]
    if token:  # past the token check, into the handler
        headers.append(f"Authorization: Bearer {ADMIN_TOKEN}".encode())
    headers = [h for h in headers if not h.lower().startswith(header.lower().encode() + b":")]
    headers.append(header.encode() + b": " + prefix + value)
    body = b'{"n":"pageview","u":"https://news.example/"}'
    answer = live.raw(
        raw_request(method, path, headers, b"[" + body + b"]" if path == b"/api/events" else body)
    )
    assert answer.status < 500, answer
    if not is_utf8(value.strip()):
        assert answer.status == 400, answer
        assert orjson.loads(answer.body) == {"error": "the header is not UTF-8", "field": header}
    elif answer.status >= 400:
        assert orjson.loads(answer.body)["error"]
