"""An aggregator process killed with SIGKILL between insert and acknowledgement, then restarted.

The kill lands in the window on purpose: the aggregator's Redis user may not run
scripts, so its batch is in ClickHouse but cannot be acknowledged. After the
restart every count must be exact: the batch is inserted again with the same
token and ClickHouse drops it, rollups included.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from app.redis_server import free_port
from footfall import keys
from footfall.wire import StreamEvent, stream_entry
from tests.helpers import register
from tests.processes import wait_for
from tests.test_aggregator import acl  # noqa: F401 - the fixture

VISITORS, PAGES = 200, 3
START_MS = 1_700_049_600_000


def fill_stream(redis_db) -> None:
    """What the collector would have stored: each visitor's visit of three page views."""
    register(redis_db, "news.example")
    for visitor in range(1, VISITORS + 1):
        for page in range(1, PAGES + 1):
            ts = START_MS + visitor * 1000 + page * 60_000
            event = StreamEvent(ts=ts, site="news.example", date=ts // 86_400_000,
                                type="pageview", name="pageview",
                                url=f"https://news.example/a/{page}.html", visitor_id=visitor,
                                article=str(page))  # fmt: skip
            start = START_MS + visitor * 1000 + 60_000
            redis_db.xadd(keys.stream("news.example"),
                          stream_entry(event, page == 1, start, page, 0 if page == 1 else 60_000))  # fmt: skip


def start_aggregator(env: dict, log_path) -> subprocess.Popen:
    log = open(log_path, "ab")  # noqa: SIM115 - the child writes it
    return subprocess.Popen(
        [sys.executable, "-m", "app", "aggregator", "--consumer", "victim"],
        env=env, stdout=log, stderr=log,
    )  # fmt: skip


def clickhouse_counts(dsn: str) -> dict:
    """Counted by another process: one process may open a chdb folder, and this one has its own."""
    queries = {
        "events": "SELECT count() FROM events",
        "hourly": "SELECT sum(pageviews), sum(visits), sum(bounces), sum(visit_duration_ms) "
        "FROM site_hourly",
        "articles": "SELECT sum(pageviews) FROM article_stats WHERE span = 'day'",
        "totals": "SELECT sum(pageviews), sum(visits) FROM site_totals",
    }
    script = (
        "import json, sys, clickhouse_connect\n"
        f"client = clickhouse_connect.get_client(dsn={dsn!r})\n"
        f"queries = {queries!r}\n"
        "print(json.dumps({k: client.query(q).result_rows[0] for k, q in queries.items()}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    return json.loads(out.stdout)


def test_an_aggregator_killed_between_insert_and_ack_leaves_every_count_exact(
    tmp_path,
    redis_db,
    acl,  # noqa: F811
):
    fill_stream(redis_db)
    dsn = f"chdb://{tmp_path / 'clickhouse'}"
    clean = {k: v for k, v in os.environ.items() if not k.startswith("FOOTFALL_")}
    env = {**clean, "FOOTFALL_REDIS_URL": acl.url, "FOOTFALL_CLICKHOUSE_DSN": dsn,
           "FOOTFALL_DATA_DIR": str(tmp_path), "FOOTFALL_BATCH_SIZE": "100",
           "FOOTFALL_AGGREGATOR_PORT": str(free_port())}  # fmt: skip
    log_path = tmp_path / "aggregator.log"

    acl.forbid_scripts()
    victim = start_aggregator(env, log_path)
    try:
        wait_for(lambda: b"Redis failed" in log_path.read_bytes(), "a batch inserted, unacked")
        victim.kill()
        victim.wait(10)
    finally:
        if victim.poll() is None:
            victim.kill()
    assert redis_db.xpending(keys.stream("news.example"), keys.CONSUMER_GROUP)["pending"] == 100

    acl.allow_scripts()
    heir = start_aggregator(env, log_path)
    try:
        wait_for(lambda: redis_db.xlen(keys.stream("news.example")) == 0, "the stream to drain")
        wait_for(lambda: redis_db.exists(keys.COUNTERS_SEEDED), "counters")
    finally:
        heir.terminate()
        assert heir.wait(30) == 0, log_path.read_text()

    counts = clickhouse_counts(dsn)
    pageviews = VISITORS * PAGES
    assert counts == {
        "events": [pageviews],
        "hourly": [pageviews, VISITORS, 0, VISITORS * (PAGES - 1) * 60_000],
        "articles": [pageviews],
        "totals": [pageviews, VISITORS],
    }
    assert redis_db.hgetall(keys.totals("news.example")) == {
        b"pageviews": str(pageviews).encode(), b"visits": str(VISITORS).encode(),
    }  # fmt: skip
