"""SIGTERM, as `docker stop` sends it, to real footfall processes: nothing accepted is lost.

The collector stops accepting connections but answers the request in flight
(202, and the event is in the stream); the aggregator finishes its batch, or,
when it cannot acknowledge it, leaves it pending to be redelivered, and a
restarted aggregator makes every count exact.
"""

from __future__ import annotations

import json
import signal
import socket
import time

import pytest

from app.redis_server import free_port
from footfall import keys
from footfall.sites import Site, site_to_json
from footfall.wire import StreamEvent, stream_entry
from tests.conftest import BROWSER_UA
from tests.helpers import register, stream_events
from tests.processes import Component, clean_environ, clickhouse_query, wait_for
from tests.test_aggregator import acl  # noqa: F401 - the fixture

SITE = "news.example"
EVENTS, BATCH = 10_000, 500


@pytest.fixture
def env(tmp_path, redis_server, redis_db) -> dict[str, str]:
    redis_db.hset(keys.SITES, SITE, site_to_json(Site(domain=SITE)))
    return {
        **clean_environ(),
        "FOOTFALL_REDIS_URL": redis_server.url,
        "FOOTFALL_DATA_DIR": str(tmp_path / "data"),
        "FOOTFALL_CLICKHOUSE_DSN": f"chdb://{tmp_path / 'clickhouse'}",
        "FOOTFALL_BATCH_SIZE": str(BATCH),
        # The aggregator's /health, /ready, /metrics: served until the batch is done.
        "FOOTFALL_AGGREGATOR_PORT": str(free_port()),
    }


def event_request(body: bytes) -> bytes:
    return (
        f"POST /api/event HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: {BROWSER_UA}\r\n"
        f"Content-Type: text/plain\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()


def refuses_connections(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return True
    return False


@pytest.mark.parametrize("workers", [1, 2])
def test_a_collector_on_sigterm_answers_the_event_in_flight_and_refuses_new_connections(
    env, tmp_path, redis_db, workers
):
    port = free_port()
    collector = Component(
        ["collector", "--port", str(port), "--workers", str(workers)], env, tmp_path / "c.log"
    )
    body = json.dumps({"n": "pageview", "u": f"https://{SITE}/in-flight.html"}).encode()
    try:
        collector.wait_ready(f"http://127.0.0.1:{port}/health")
        # Redis holds writes back (a real pause, up to 20 s), so the event is in flight,
        # its request read and its commit waiting, when the signal comes.
        redis_db.execute_command("CLIENT", "PAUSE", 20_000, "WRITE")
        in_flight = socket.create_connection(("127.0.0.1", port), timeout=30)
        in_flight.sendall(event_request(body) + body)
        time.sleep(0.5)
        collector.process.send_signal(signal.SIGTERM)
        wait_for(lambda: refuses_connections(port), "the listening socket to close", 10)
        assert collector.process.poll() is None  # still answering the event in flight
        redis_db.execute_command("CLIENT", "UNPAUSE")
        answer = in_flight.recv(4096).decode()
        in_flight.close()
        assert collector.process.wait(30) == 0, collector.output()
    finally:
        redis_db.execute_command("CLIENT", "UNPAUSE")
        collector.kill()

    assert answer.startswith("HTTP/1.1 202"), answer
    assert [e.url for e in stream_events(redis_db)] == [f"https://{SITE}/in-flight.html"]


def fill_stream(redis_db, count: int) -> None:
    """What collectors would have stored: `count` page views, each its own visit."""
    register(redis_db, SITE)
    pipe = redis_db.pipeline(transaction=False)
    for n in range(count):
        ts = 1_700_049_600_000 + n
        event = StreamEvent(ts=ts, site=SITE, date=ts // 86_400_000, type="pageview", name="pageview",
                            url=f"https://{SITE}/a/{n % 50}.html", visitor_id=n + 1,
                            article=str(n % 50))  # fmt: skip
        pipe.xadd(keys.stream(SITE), stream_entry(event, True, ts, 1, 0))
    pipe.execute()


def pending(redis_db) -> int:
    return redis_db.xpending(keys.stream(SITE), keys.CONSUMER_GROUP)["pending"]


def test_an_aggregator_on_sigterm_finishes_its_batch_and_a_restart_completes_exactly(
    env, tmp_path, redis_db
):
    fill_stream(redis_db, EVENTS)
    dsn = env["FOOTFALL_CLICKHOUSE_DSN"]
    aggregator = Component(["aggregator", "--consumer", "a"], env, tmp_path / "a.log")
    try:
        wait_for(lambda: redis_db.xlen(keys.stream(SITE)) <= EVENTS - 3 * BATCH, "three batches")
        assert aggregator.terminate() == 0, aggregator.output()
    finally:
        aggregator.kill()

    left = redis_db.xlen(keys.stream(SITE))
    assert left > 0, "the aggregator drained everything before the signal: nothing was tested"
    assert pending(redis_db) == 0  # the batch in hand was finished and acknowledged
    assert clickhouse_query(dsn, "SELECT count() FROM events") == [[EVENTS - left]]

    drain_with_a_new_aggregator(env, tmp_path, redis_db)
    assert clickhouse_query(
        dsn, "SELECT (SELECT count() FROM events), (SELECT sum(pageviews) FROM site_totals)"
    ) == [[EVENTS, EVENTS]]


def test_an_aggregator_stopped_while_it_cannot_acknowledge_leaves_its_batch_for_redelivery(
    env,
    tmp_path,
    redis_db,
    acl,  # noqa: F811
):
    fill_stream(redis_db, 3 * BATCH)
    env = {**env, "FOOTFALL_REDIS_URL": acl.url}
    dsn = env["FOOTFALL_CLICKHOUSE_DSN"]
    acl.forbid_scripts()
    aggregator = Component(["aggregator", "--consumer", "a"], env, tmp_path / "a.log")
    try:
        aggregator.wait_output("Redis failed")  # the batch is inserted, its ack refused
        assert aggregator.terminate() == 0, aggregator.output()
    finally:
        aggregator.kill()
    assert pending(redis_db) == BATCH  # abandoned, unacknowledged
    assert redis_db.xlen(keys.stream(SITE)) == 3 * BATCH

    acl.allow_scripts()
    drain_with_a_new_aggregator(env, tmp_path, redis_db)
    # The redelivered batch was inserted twice with one token: ClickHouse kept it once.
    assert clickhouse_query(
        dsn, "SELECT (SELECT count() FROM events), (SELECT sum(pageviews) FROM site_totals)"
    ) == [[3 * BATCH, 3 * BATCH]]


def drain_with_a_new_aggregator(env: dict[str, str], tmp_path, redis_db) -> None:  # type: ignore[no-untyped-def]
    """Start an aggregator again, let it empty the stream, stop it gracefully."""
    restarted = Component(["aggregator", "--consumer", "a"], env, tmp_path / "a.log")
    try:
        wait_for(lambda: redis_db.xlen(keys.stream(SITE)) == 0, "the stream to drain")
        assert restarted.terminate() == 0, restarted.output()
    finally:
        restarted.kill()
