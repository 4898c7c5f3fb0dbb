"""Property-based: no body, however strange, makes the collector answer 5xx or lose an event.

Every answer is a 202 (and then the events are in the stream) or a 4xx with a
JSON error.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from footfall import keys
from tests.conftest import AUTH

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
