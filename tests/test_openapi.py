"""The OpenAPI document matches the server: its routes, its shapes, and every answer it gives.

The document of an application is the parts mounted on it: it lists every
route under `/api/` and serves every operation it lists; the collector's
event schema is its `EventIn` type, limits and all; and schemathesis sends
each operation generated requests with the admin token, against a real
all-in-one server on a free port with a site that has aggregated traffic,
checking that no answer is a 5xx and that every status, content type and body
is the one the document describes.
"""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Iterator
from typing import cast

import hypothesis
import msgspec
import orjson
import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

import collector.app
import dashboard.app
from app.serve import all_in_one_app
from collector.events import MAX_BATCH_EVENTS, EventIn
from dashboard.periods import PERIODS
from dashboard.properties import PROPERTIES
from dashboard.stats_metrics import METRICS
from footfall import keys, openapi
from footfall.connections import AsyncClickHouse, ClickHouse, sync_redis
from footfall.settings import Settings
from footfall.tokens import SCOPES
from tests.conftest import ADMIN_TOKEN, AUTH, BROWSER_UA, empty_stores
from tests.live_server import LiveServer

SITE = "news.example"
EDITABLE = {
    "/api/v1/sites": {"domain": "edit.example"},
    "/api/v1/users": {"email": "editor@news.example", "password": "correct horse", "sites": [SITE]},
    "/api/v1/tokens": {"name": "to revoke", "scopes": ["stats:read"]},
}
PATH_VALUES = {"domain": "edit.example", "email": "editor@news.example"}
"""Path parameters set to a resource that exists (a generated one would 404); the token's id
is known once it is made."""
MAX_EXAMPLES = 15
"""Per operation: with the explicit examples and the coverage phase, enough to reach every
parameter's branches, and the whole run stays well under a minute."""
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
CONFIG = schemathesis.Config.from_dict(
    {
        "generation": {"deterministic": True},
        "phases": {"stateful": {"enabled": False}},
    }
)
MOBILE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)


# -- the document and the routers -------------------------------------------------------------


# Building an application connects to nothing (its contexts run when it starts), so the
# route tests need no Redis and no ClickHouse.
UNSTARTED = Settings(redis_url="redis://127.0.0.1:1", admin_token=ADMIN_TOKEN)
NO_CLICKHOUSE = AsyncClickHouse(cast(ClickHouse, None))  # never queried
ALL_IN_ONE = all_in_one_app(UNSTARTED, NO_CLICKHOUSE, aggregate=False)
DOCUMENT = openapi.document_for(ALL_IN_ONE)
"""Every operation footfall's servers have: all in one serves them all."""


@pytest.mark.parametrize(
    "make_app",
    [
        lambda: ALL_IN_ONE,
        lambda: dashboard.app.create_app(UNSTARTED, NO_CLICKHOUSE),
        lambda: collector.app.create_app(UNSTARTED),
    ],
    ids=["all in one", "dashboard", "collector"],
)
def test_every_api_route_is_documented_and_every_documented_operation_is_served(
    make_app,  # type: ignore[no-untyped-def]
) -> None:
    app = make_app()
    served = openapi.routes(app)
    documented = openapi.operations(openapi.document_for(app))
    api = {(method, path) for method, path in served if path.startswith("/api/")}
    assert api - documented == set(), "served under /api/ but not documented"
    assert documented - served == set(), "documented but not served"


def test_the_dashboard_alone_documents_only_what_it_serves() -> None:
    doc = openapi.document_for(dashboard.app.create_app(UNSTARTED, NO_CLICKHOUSE))
    assert "/api/v1/stats/aggregate" in doc["paths"]
    assert "/health" in doc["paths"]
    assert "/api/event" not in doc["paths"]
    assert "Event" not in doc["components"]["schemas"]


async def test_the_collector_alone_serves_its_own_part(aiohttp_client, settings) -> None:  # type: ignore[no-untyped-def]
    client = await aiohttp_client(collector.app.create_app(settings))
    response = await client.get("/api/v1/openapi.json")
    assert response.status == 200
    doc = await response.json()
    assert {"/api/event", "/api/events", "/api/counters", "/snippet.js", "/health"} <= set(
        doc["paths"]
    )
    assert not [path for path in doc["paths"] if path.startswith(("/api/v1/stats", "/api/docs"))]
    assert "Event" in doc["components"]["schemas"]


def test_the_event_schema_is_the_collectors_type_limits_and_all() -> None:
    _, generated = msgspec.json.schema_components([EventIn], ref_template=openapi.REF)
    event = DOCUMENT["components"]["schemas"]["Event"]
    assert event["properties"].keys() == generated["EventIn"]["properties"].keys()
    for name, schema in generated["EventIn"]["properties"].items():
        assert {k: v for k, v in event["properties"][name].items() if k != "description"} == schema
    batch = DOCUMENT["components"]["schemas"]["EventBatch"]
    assert (batch["minItems"], batch["maxItems"]) == (1, MAX_BATCH_EVENTS)


def test_enumerations_come_from_the_registries() -> None:
    doc = DOCUMENT
    params = {
        p["name"]: p["schema"] for p in doc["paths"]["/api/v1/stats/breakdown"]["get"]["parameters"]
    }
    assert params["period"]["enum"] == list(PERIODS)
    assert params["property"]["enum"] == list(PROPERTIES)
    assert all(m in params["metrics"]["pattern"] for m in METRICS)
    scopes = doc["components"]["schemas"]["NewToken"]["properties"]["scopes"]["items"]
    assert scopes["enum"] == list(SCOPES)


# -- a live server with traffic ---------------------------------------------------------------


def _traffic() -> list[dict]:
    """A few visits: articles, a search referrer, UTM tags, a custom event, engagement."""
    visitors = [
        {"ip": "8.8.8.8", "ua": BROWSER_UA},
        {"ip": "14.160.0.1", "ua": MOBILE_UA},
        {"ip": "81.2.69.160", "ua": BROWSER_UA},
    ]
    events = []
    for i, visitor in enumerate(visitors):
        url = f"https://{SITE}/tin-tuc/bai-{i}.html"
        events += [
            {
                "n": "pageview",
                "u": url,
                "r": "https://www.google.com/",
                "ti": f"Bài {i}",
                **visitor,
            },
            {"n": "engagement", "u": url, "e": 15_000, **visitor},
            {"n": "pageview", "u": f"https://{SITE}/?utm_source=newsletter", **visitor},
        ]
    events.append({"n": "Signup", "u": f"https://{SITE}/dang-ky", **visitors[0]})
    return events


def _wait_for_aggregation(redis_db) -> None:  # type: ignore[no-untyped-def]
    """Until the aggregator has inserted every entry: it deletes each from the stream after."""
    deadline = time.monotonic() + 60
    while redis_db.xlen(keys.stream(SITE)) > 0:
        assert time.monotonic() < deadline, "the aggregator left entries in the stream"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def live(
    redis_server, clickhouse_session, clickhouse_dsn, tmp_path_factory
) -> Iterator[LiveServer]:  # type: ignore[no-untyped-def]
    redis_db = sync_redis(redis_server.url)
    empty_stores(redis_db, clickhouse_session)
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("openapi"),
        redis_url=redis_server.url,
        clickhouse_dsn=clickhouse_dsn,
        admin_token=ADMIN_TOKEN,
    )
    clickhouse = AsyncClickHouse(clickhouse_session)
    with LiveServer(lambda: all_in_one_app(settings, clickhouse, aggregate=True)) as server:
        site = {"domain": SITE, "timezone": "Asia/Ho_Chi_Minh", "public_counters": True}
        status, answer = server.request("POST", "/api/v1/sites", site, AUTH)
        assert status == 201, answer
        status, answer = server.request("POST", "/api/events", _traffic(), AUTH)
        assert status == 202 and answer["accepted"] == 10, answer
        _wait_for_aggregation(redis_db)
        # Something for PUT and DELETE to change, other than the site the stats read.
        for path, resource in EDITABLE.items():
            status, answer = server.request("POST", path, resource, AUTH)
            assert status == 201, answer
            if path == "/api/v1/tokens":
                PATH_VALUES["id"] = answer["id"]
        yield server
    redis_db.close()


def test_the_document_is_served_without_a_token(live: LiveServer) -> None:
    status, served = live.request("GET", "/api/v1/openapi.json")
    assert status == 200
    # All in one serves every operation: the whole document, which schemathesis tests below.
    assert served == orjson.loads(orjson.dumps(DOCUMENT))


def test_the_docs_page_shows_every_operation_without_a_token(live: LiveServer) -> None:
    with urllib.request.urlopen(f"{live.url}/api/docs", timeout=10) as response:
        assert response.headers["Content-Type"].startswith("text/html")
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        html = response.read().decode()
    for path in DOCUMENT["paths"]:
        assert f"<code>{path}</code>" in html
    assert 'href="#schema-SiteDocument"' in html
    assert "<script" not in html.split("</head>", 1)[1], "a page without scripts"


@pytest.mark.parametrize(
    "query",
    [
        "period=month&date=9999-12-31",
        "period=7d&date=0001-01-01",
        "period=day&date=2500-01-01&compare=previous_period",
        "period=custom&date=0001-01-01,2024-01-01",
    ],
)
def test_dates_beyond_what_clickhouse_stores_are_refused_not_a_server_error(
    live: LiveServer, query: str
) -> None:
    # Found while writing the document (schemathesis rarely draws these): they answered 500.
    status, answer = live.request(
        "GET", f"/api/v1/stats/aggregate?site_id={SITE}&{query}", headers=AUTH
    )
    assert status == 400, answer
    assert "`date`" in answer["error"]


# The document as built; the test above checks that the server serves this very one.
schema = schemathesis.openapi.from_dict(DOCUMENT, config=CONFIG)


@schema.parametrize()
@hypothesis.settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(hypothesis.HealthCheck),
)
def test_every_operation_answers_as_documented(case, live: LiveServer) -> None:  # type: ignore[no-untyped-def]
    # Always an existing site, user or token: an unknown one answers 404 before anything
    # else is read. The first DELETE of each removes it; later ones answer 404.
    if isinstance(case.query, dict):
        for name in ("site_id", "d"):
            if name in case.query:
                case.query[name] = SITE
    if isinstance(case.path_parameters, dict):
        for name, value in PATH_VALUES.items():
            if name in case.path_parameters:
                case.path_parameters[name] = value
    case.call_and_validate(base_url=live.url, headers=AUTH, checks=CHECKS)
