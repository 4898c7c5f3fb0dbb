"""What an operator sees: /metrics after the thing happened, request ids, JSON logs, /ready.

Metrics are one process-wide registry, so each test reads /metrics before and
after what it does and checks the difference. The aggregator's operations
server is tested in-process (the test owns the chdb folder, so it can make
ClickHouse fail) and as the real `footfall aggregator` process.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

import collector.app
from aggregator.consumer import Aggregator
from aggregator.runner import operations_app
from app.redis_server import free_port
from footfall import keys
from footfall.connections import AsyncClickHouse, async_redis
from footfall.logs import ACCESS_LOG, AccessLogPolicy, JsonFormatter
from footfall.observe import observe_requests
from footfall.settings import Settings
from footfall.sites import Site, site_to_json
from footfall.web import ApiError, setup_operations
from tests.conftest import AUTH, BROWSER_UA
from tests.helpers import pageview
from tests.processes import Component, clean_environ, get, wait_for
from tests.test_aggregator import acl  # noqa: F401 - the fixture

SITE = "news.example"
METRICS_TOKEN = "test-metrics-token"
SCRAPER = {"Authorization": f"Bearer {METRICS_TOKEN}"}
BOT_UA = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
GENERATED_ID = re.compile(r"[0-9a-f]{16}")


class Metrics:
    """One scrape of /metrics: `metrics(name, **labels)` is a sample's value (0 when absent)."""

    def __init__(self, text: str):
        self.values = {
            (sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        }

    def __call__(self, name: str, **labels: str) -> float:
        return self.values.get((name, frozenset(labels.items())), 0.0)

    def labels_of(self, name: str, label: str) -> set[str]:
        return {dict(labels)[label] for n, labels in self.values if n == name}


async def scrape(client, headers: dict[str, str] = SCRAPER) -> Metrics:  # type: ignore[no-untyped-def]
    """The Bearer token of `operations` is sent by default (an open /metrics ignores it)."""
    response = await client.get("/metrics", headers=headers)
    assert response.status == 200
    return Metrics(await response.text())


@contextmanager
def json_log_lines(caplog: pytest.LogCaptureFixture) -> Iterator[list[dict]]:
    """The lines logged inside, as `FOOTFALL_LOG_FORMAT=json` writes them, parsed."""
    caplog.set_level(logging.INFO)
    written = io.StringIO()
    handler = logging.StreamHandler(written)
    handler.setFormatter(JsonFormatter())
    logging.getLogger().addHandler(handler)
    lines: list[dict] = []
    try:
        yield lines
    finally:
        logging.getLogger().removeHandler(handler)
        lines += [json.loads(line) for line in written.getvalue().splitlines()]


def browser(n: int) -> dict[str, str]:
    """A distinct visitor: the visitor id hashes the user agent."""
    return {"User-Agent": BROWSER_UA.replace("131.0.0.0", f"131.0.0.{n}")}


@pytest.fixture
async def site(add_site):
    return await add_site(SITE)


# --- events accepted and refused ---------------------------------------------------------------


async def test_accepted_and_refused_events_are_counted_by_reason(client, site):
    before = await scrape(client)
    assert (await client.post("/api/event", json=pageview())).status == 202
    bot = await client.post("/api/event", json=pageview(), headers={"User-Agent": BOT_UA})
    assert bot.headers["X-Footfall-Dropped"] == "bot"
    unknown = await client.post("/api/event", json=pageview("https://elsewhere.example/"))
    assert unknown.status == 404
    assert (await client.post("/api/event", data=b"{not json")).status == 400
    after = await scrape(client)

    def grew(name: str, **labels: str) -> float:
        return after(name, **labels) - before(name, **labels)

    assert grew("footfall_events_accepted_total") == 1
    for reason in ("bot", "unknown_site", "invalid"):
        assert grew("footfall_events_refused_total", reason=reason) == 1, reason
    assert grew("footfall_commit_batch_events_count") == 1


async def test_a_batch_refused_whole_counts_each_of_its_events(client, site):
    before = await scrape(client)
    # `ip` needs an API token: the whole batch of three is refused.
    batch = [pageview(ip="203.0.113.7"), pageview(), pageview()]
    assert (await client.post("/api/events", json=batch)).status == 401
    after = await scrape(client)
    refused = "footfall_events_refused_total"
    assert after(refused, reason="unauthorized") - before(refused, reason="unauthorized") == 3


async def test_the_collector_counts_redis_failures_as_store_errors(
    make_client,
    acl,  # noqa: F811
):
    client = await make_client(redis_url=acl.url)
    await client.post("/api/v1/sites", json={"domain": SITE}, headers=AUTH)
    before = await scrape(client)
    acl.forbid_scripts()  # the group commit's script call fails
    try:
        assert (await client.post("/api/event", json=pageview())).status == 503
    finally:
        acl.allow_scripts()
    after = await scrape(client)
    errors = "footfall_store_errors_total"
    assert after(errors, store="redis") - before(errors, store="redis") == 1
    refused = "footfall_events_refused_total"
    assert after(refused, reason="unavailable") - before(refused, reason="unavailable") == 1


async def test_the_dashboard_answers_a_redis_failure_503_and_counts_it_as_a_store_error(
    make_client,
    acl,  # noqa: F811
):
    client = await make_client(redis_url=acl.url)
    await client.post("/api/v1/sites", json={"domain": SITE}, headers=AUTH)
    online = f"/api/v1/stats/realtime/visitors?site_id={SITE}"
    assert (await client.get(online, headers=AUTH)).status == 200
    before = await scrape(client)
    acl.forbid("zcount")  # online now's read fails
    try:
        answer = await client.get(online, headers=AUTH)
    finally:
        acl.allow("zcount")
    assert answer.status == 503
    assert answer.headers["Retry-After"] == "5"
    assert await answer.json() == {"error": "redis unavailable"}
    after = await scrape(client)
    errors = "footfall_store_errors_total"
    assert after(errors, store="redis") - before(errors, store="redis") == 1
    assert (await client.get(online, headers=AUTH)).status == 200


# --- request latency ----------------------------------------------------------------------------


async def test_request_latency_is_labelled_by_the_route_pattern_never_the_raw_path(client, site):
    count = "footfall_http_request_seconds_count"
    by_pattern = {"method": "GET", "route": "/api/v1/sites/{domain}", "status": "200"}
    unmatched = {"method": "GET", "route": "unmatched", "status": "404"}
    redirected = {"method": "GET", "route": "/sites/{domain}", "status": "303"}
    before = await scrape(client)
    assert (await client.get(f"/api/v1/sites/{SITE}", headers=AUTH)).status == 200
    assert (await client.get("/no/such/page-12345")).status == 404
    login = await client.get(f"/sites/{SITE}", allow_redirects=False)  # raised HTTPSeeOther
    assert login.status == 303
    after = await scrape(client)

    for labels in (by_pattern, unmatched, redirected):
        assert after(count, **labels) - before(count, **labels) == 1, labels
    routes = after.labels_of(count, "route")
    assert not any(SITE in route or "12345" in route for route in routes), routes
    assert after("footfall_http_request_seconds_sum", **by_pattern) > before(
        "footfall_http_request_seconds_sum", **by_pattern
    )


# --- request ids and logs -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("req-42.a:b_C", True),
        (None, False),
        ("two words", False),
        ("x" * 129, False),
        ("id\u00e9", False),
    ],
    ids=["sane", "none", "space", "too-long", "non-ascii"],
)
async def test_a_sane_request_id_is_kept_and_any_other_replaced(client, sent, kept):
    headers = {"X-Request-Id": sent} if sent is not None else {}
    for path in ("/api/v1/sites", "/no/such/page"):
        response = await client.get(path, headers=headers)
        returned = response.headers["X-Request-Id"]
        assert returned == sent if kept else GENERATED_ID.fullmatch(returned), (path, returned)


async def test_requests_are_access_logged_in_json_with_their_id_but_hot_ones_not_by_default(
    client, site, caplog
):
    with json_log_lines(caplog) as logged:
        event = await client.post("/api/event", json=pageview(), headers={"X-Request-Id": "ev-1"})
        listed = await client.get("/api/v1/sites", headers={**AUTH, "X-Request-Id": "list-1"})
        generated = await client.get("/api/v1/sites", headers=AUTH)
    assert event.status == 202 and event.headers["X-Request-Id"] == "ev-1"  # kept, not made
    unnamed = await client.post("/api/event", json=pageview())
    assert unnamed.status == 202 and "X-Request-Id" not in unnamed.headers
    assert listed.status == 200 and generated.status == 200

    access = [line for line in logged if line["logger"] == "footfall.access"]
    assert [line["request_id"] for line in access] == [
        "list-1",
        generated.headers["X-Request-Id"],
    ]
    assert {k: access[0][k] for k in ("method", "route", "path", "status", "level")} == {
        "method": "GET",
        "route": "/api/v1/sites",
        "path": "/api/v1/sites",
        "status": 200,
        "level": "info",
    }
    assert isinstance(access[0]["duration_ms"], float)
    assert not [line for line in access if line["request_id"] == "ev-1"]


async def test_an_unhandled_error_is_logged_with_the_request_id(aiohttp_client, caplog):
    async def boom(request: web.Request) -> web.Response:
        raise RuntimeError("broken on purpose")

    app = web.Application()
    setup_operations(app, metrics_token="")
    app.router.add_get("/boom", boom)
    client = await aiohttp_client(app)
    with json_log_lines(caplog) as logged:
        response = await client.get("/boom", headers={"X-Request-Id": "boom-1"})
    assert response.status == 500 and response.headers["X-Request-Id"] == "boom-1"
    error = next(line for line in logged if line["level"] == "error")
    assert error["request_id"] == "boom-1"
    assert "RuntimeError: broken on purpose" in error["exc"]
    assert any(line["logger"] == "footfall.access" and line["status"] == 500 for line in logged)


async def boom(request: web.Request) -> web.Response:
    raise RuntimeError("broken on purpose")


async def refuse(request: web.Request) -> web.Response:
    raise ApiError(422, "not like this", "x", {"Retry-After": "3"})


async def moved(request: web.Request) -> web.Response:
    raise web.HTTPFound("/elsewhere")


@pytest.mark.parametrize(
    ("method", "path", "status", "body", "header"),
    [
        ("GET", "/boom", 500, {"error": "internal error"}, None),
        ("GET", "/refuse", 422, {"error": "not like this", "field": "x"}, ("Retry-After", "3")),
        ("GET", "/nowhere", 404, {"error": "Not Found"}, None),
        ("POST", "/boom", 405, {"error": "Method Not Allowed"}, ("Allow", "GET,HEAD")),
        ("GET", "/moved", 302, None, ("Location", "/elsewhere")),
    ],
)
async def test_the_request_observer_alone_answers_errors_as_json(
    aiohttp_client, caplog, method, path, status, body, header
):
    """The observer, the one middleware, answers every error
    as JSON (and lets redirects through), with the request id, counted by status."""
    app = web.Application()
    setup_operations(app, metrics_token="")
    for route, handler in (("/boom", boom), ("/refuse", refuse), ("/moved", moved)):
        app.router.add_get(route, handler)
    client = await aiohttp_client(app)
    before = await scrape(client)
    with json_log_lines(caplog) as logged:
        response = await client.request(
            method, path, headers={"X-Request-Id": "err-1"}, allow_redirects=False
        )
    assert response.status == status
    assert response.headers["X-Request-Id"] == "err-1"
    if body is not None:
        assert response.content_type == "application/json"
        assert await response.json() == body
    if header is not None:
        assert response.headers[header[0]] == header[1]
    errors = [line for line in logged if line["level"] == "error"]
    assert len(errors) == (1 if status == 500 else 0)
    route = "unmatched" if status in (404, 405) else path
    after = await scrape(client)
    count = "footfall_http_request_seconds_count"
    labels = {"method": method, "route": route, "status": str(status)}
    assert after(count, **labels) - before(count, **labels) == 1


def test_the_collector_runs_the_observer_as_its_only_middleware():
    app = collector.app.create_app(Settings(redis_url="redis://127.0.0.1:9"))
    assert list(app.middlewares) == [observe_requests]


@pytest.mark.parametrize(
    ("sample", "quiet", "statuses", "logged"),
    [
        (0, False, [200, 404, 200], 3),  # other routes: every request
        (0, True, [202, 202, 400, 202], 0),  # hot routes, not sampled: none...
        (0, True, [202, 503, 500], 2),  # ...but their server errors
        (2, True, [202, 202, 202, 202], 2),  # one in two
        (1, True, [202, 202, 202], 3),  # all
    ],
)
def test_the_access_log_samples_only_the_quiet_routes(sample, quiet, statuses, logged):
    policy = AccessLogPolicy(sample)
    assert sum(policy.wants(quiet, status) for status in statuses) == logged


def test_the_default_access_log_leaves_out_the_hot_routes():
    assert ACCESS_LOG.quiet_sample == 0


# --- the aggregator's operations ----------------------------------------------------------------


@pytest.fixture
async def operations(aiohttp_client, aggregator, settings, clock):
    """The operations server `footfall aggregator` runs, on the test's aggregator."""
    redis = async_redis(settings.redis_url)
    app = operations_app(aggregator, redis, metrics_token=METRICS_TOKEN, clock=clock)
    yield await aiohttp_client(app)
    await redis.aclose()


async def test_the_aggregator_reports_the_stream_and_the_online_visitors_at_scrape_time(
    client, site, add_site, operations, aggregator, redis_db
):
    await add_site("quiet.example")
    for n in range(3):
        response = await client.post("/api/event", json=pageview(), headers=browser(n))
        assert response.status == 202
    waiting = await scrape(operations)
    assert waiting("footfall_stream_length") == 3
    assert waiting("footfall_stream_lag") == 3
    assert waiting("footfall_stream_pending") == 0
    assert waiting("footfall_online_visitors", site=SITE) == 3
    assert waiting.labels_of("footfall_online_visitors", "site") == {SITE, "quiet.example"}

    # Another consumer takes two and has not acknowledged them yet.
    redis_db.xreadgroup(keys.CONSUMER_GROUP, "slow", {keys.stream(SITE): ">"}, count=2)
    taken = await scrape(operations)
    assert (taken("footfall_stream_pending"), taken("footfall_stream_lag")) == (2, 1)

    await client.delete("/api/v1/sites/quiet.example", headers=AUTH)
    assert await aggregator.drain() == 1
    drained = await scrape(operations)
    assert (drained("footfall_stream_length"), drained("footfall_stream_lag")) == (2, 0)
    assert drained.labels_of("footfall_online_visitors", "site") == {SITE}


@pytest.mark.parametrize(
    "sent", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": METRICS_TOKEN}]
)
async def test_metrics_behind_a_token_answer_only_a_scrape_that_shows_it(
    make_client, operations, sent
):
    client = await make_client(metrics_token=METRICS_TOKEN)
    for server in (client, operations):
        response = await server.get("/metrics", headers=sent)
        assert response.status == 401
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="metrics"'
        assert "Bearer" in (await response.json())["error"]
        assert (await server.get("/metrics", headers=SCRAPER)).status == 200


async def test_open_metrics_leave_out_the_online_visitors_of_private_sites(
    aiohttp_client, client, site, add_site, aggregator, settings, clock
):
    await add_site("public.example", public_counters=True)
    for domain in (SITE, "public.example"):
        url = f"https://{domain}/news/story-1.html"
        assert (await client.post("/api/event", json=pageview(url))).status == 202
    redis = async_redis(settings.redis_url)
    app = operations_app(aggregator, redis, metrics_token="", clock=clock)
    open_metrics = await scrape(await aiohttp_client(app), headers={})
    assert open_metrics.labels_of("footfall_online_visitors", "site") == {"public.example"}
    await redis.aclose()


async def test_inserts_are_counted_with_their_batch_size_and_duration(
    client, site, operations, aggregator
):
    before = await scrape(operations)
    for n in range(4):
        await client.post("/api/event", json=pageview(), headers=browser(n))
    assert await aggregator.drain() == 4
    after = await scrape(operations)

    def grew(name: str) -> float:
        return after(name) - before(name)

    assert grew("footfall_aggregator_events_inserted_total") == 4
    assert grew("footfall_aggregator_batch_events_count") == 1
    assert grew("footfall_aggregator_batch_events_sum") == 4
    assert grew("footfall_aggregator_insert_seconds_count") == 1
    assert grew("footfall_aggregator_insert_seconds_sum") > 0


async def test_the_aggregator_is_unready_while_clickhouse_fails_and_counts_the_errors(
    aiohttp_client, client, site, settings, ch, clock
):
    redis = async_redis(settings.redis_url)
    aggregator = Aggregator(settings, redis, AsyncClickHouse(ch), consumer="patient",
                            clock=clock, sleep=lambda _: asyncio.sleep(0.01))  # fmt: skip
    app = operations_app(aggregator, redis, metrics_token="", clock=clock)
    operations = await aiohttp_client(app)
    await aggregator.prepare()
    assert (await operations.get("/ready")).status == 200
    before = await scrape(operations)
    ch.command("DETACH TABLE events")
    task = asyncio.create_task(aggregator.run())
    try:
        await client.post("/api/event", json=pageview())
        for _ in range(300):
            ready = await operations.get("/ready")
            if ready.status == 503:
                break
            await asyncio.sleep(0.02)
        assert ready.status == 503
        assert "ClickHouse insert failing" in (await ready.json())["problems"]["aggregator"]
        assert (await operations.get("/health")).status == 200
        failing = await scrape(operations)
        errors = "footfall_store_errors_total"
        assert failing(errors, store="clickhouse") > before(errors, store="clickhouse")
    finally:
        ch.command("ATTACH TABLE events")
    for _ in range(300):
        if (await operations.get("/ready")).status == 200:
            break
        await asyncio.sleep(0.02)
    assert (await operations.get("/ready")).status == 200
    aggregator.stop()
    await task
    await redis.aclose()


async def test_the_aggregator_is_unready_while_redis_does_not_answer(aiohttp_client, aggregator):
    dead = async_redis(f"redis://127.0.0.1:{free_port()}/0")
    operations = await aiohttp_client(operations_app(aggregator, dead, metrics_token=""))
    ready = await operations.get("/ready")
    assert ready.status == 503
    assert "redis" in (await ready.json())["problems"]
    # The gauges say "unknown", and the rest of /metrics is still served.
    metrics = await scrape(operations)
    assert metrics("footfall_stream_length") != metrics("footfall_stream_length")  # NaN
    assert not metrics.labels_of("footfall_online_visitors", "site")
    await dead.aclose()


def json_logging(redis_server, redis_db, **env: str) -> tuple[int, dict[str, str]]:  # type: ignore[no-untyped-def]
    """A free port and the environment of a component logging JSON, with one site."""
    redis_db.hset(keys.SITES, SITE, site_to_json(Site(domain=SITE)))
    base = {"FOOTFALL_REDIS_URL": redis_server.url, "FOOTFALL_LOG_FORMAT": "json"}
    return free_port(), {**clean_environ(), **base, **env}


def test_footfall_aggregator_serves_its_operations_logs_json_and_stops_on_sigterm(
    tmp_path, redis_server, redis_db
):
    port, env = json_logging(
        redis_server,
        redis_db,
        FOOTFALL_DATA_DIR=str(tmp_path / "data"),
        FOOTFALL_CLICKHOUSE_DSN=f"chdb://{tmp_path / 'clickhouse'}",
        FOOTFALL_METRICS_TOKEN=METRICS_TOKEN,
    )
    aggregator = Component(["aggregator", "--port", str(port)], env, tmp_path / "a.log")
    try:
        aggregator.wait_ready(f"http://127.0.0.1:{port}/ready")
        assert get(f"http://127.0.0.1:{port}/health")[0] == 200
        assert get(f"http://127.0.0.1:{port}/metrics")[0] == 401
        status, body = get(
            f"http://127.0.0.1:{port}/metrics", {"X-Request-Id": "scrape-1", **SCRAPER}
        )
        assert status == 200
        metrics = Metrics(body.decode())
        assert metrics("footfall_stream_length") == 0
        assert metrics.labels_of("footfall_online_visitors", "site") == {SITE}
        assert aggregator.terminate() == 0, aggregator.output()
    finally:
        aggregator.kill()
    logged = [json.loads(line) for line in aggregator.output().splitlines() if line[:1] == "{"]
    assert any(f":{port}" in line["msg"] for line in logged), aggregator.output()
    assert all({"ts", "level", "logger", "msg"} <= line.keys() for line in logged)


def test_footfall_collector_writes_json_access_lines_with_the_request_id(
    tmp_path, redis_server, redis_db
):
    port, env = json_logging(redis_server, redis_db, FOOTFALL_ACCESS_LOG_SAMPLE="1")
    collector = Component(["collector", "--port", str(port)], env, tmp_path / "c.log")
    try:
        collector.wait_ready(f"http://127.0.0.1:{port}/ready")
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/event",
            data=json.dumps(pageview()).encode(),
            headers={"User-Agent": BROWSER_UA, "X-Request-Id": "edge-7f3a"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 202
            assert response.headers["X-Request-Id"] == "edge-7f3a"

        def access_line() -> dict | None:
            for line in collector.output().splitlines():
                if '"edge-7f3a"' in line:
                    return json.loads(line)
            return None

        wait_for(access_line, "the access line", 10)
        assert collector.terminate() == 0, collector.output()
    finally:
        collector.kill()
    line = access_line()
    assert line is not None
    assert (line["logger"], line["route"], line["status"]) == ("footfall.access", "/api/event", 202)
