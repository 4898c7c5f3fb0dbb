"""`footfall status`: what it reads from Redis and ClickHouse, how it draws it, how it is reached."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

from rich.console import Console

from aggregator.pipeline_state import gather
from app.operator_status import operator_status
from app.status_screen import render
from footfall import keys
from footfall.connections import AsyncClickHouse, async_redis
from footfall.status import EmbeddedRedisStatus
from tests.conftest import AUTH
from tests.helpers import pageview


def screen(status) -> str:
    console = Console(record=True, width=160)
    console.print(render(status))
    return console.export_text()


async def send(client, n: int, ip_base: str = "203.0.113.") -> None:
    batch = [pageview(ip=f"{ip_base}{i}", ua="Mozilla/5.0 Firefox/133.0") for i in range(n)]
    response = await client.post("/api/events", json=batch, headers=AUTH)
    assert response.status == 202


async def test_after_a_drain_the_backlog_is_empty_and_the_sites_counts_agree(
    client, add_site, aggregator, settings, ch, clock
):
    await add_site("news.example")
    await add_site("quiet.example")
    await send(client, 7)
    await aggregator.drain()
    redis = async_redis(settings.redis_url)
    try:
        status = await gather(redis, AsyncClickHouse(ch), clock())
    finally:
        await redis.aclose()
    assert status.problems == {}
    assert (status.stream_length, status.group_lag, status.group_pending) == (0, 0, 0)
    assert status.oldest_waiting_ms is None
    assert status.dead_letters == 0
    assert [(c.name, c.pending) for c in status.consumers] == [("test", 0)]
    assert status.newest_in_clickhouse_ms == clock()
    news, quiet = status.sites
    assert (news.domain, news.stored_this_minute, news.inserted_last_60s, news.online) == (
        "news.example", 7, 7, 7,
    )  # fmt: skip
    assert (quiet.stored_this_minute, quiet.inserted_last_60s, quiet.online) == (0, 0, 0)
    text = screen(status)
    assert "news.example" in text and "quiet.example" in text
    assert "(0.0 s ago)" in text  # the last insert


async def test_a_backlog_shows_as_stream_length_lag_and_the_minute_before(
    client, add_site, aggregator, settings, clock
):
    await add_site("news.example")
    await aggregator.prepare()
    await send(client, 3)
    clock.advance(60)
    await send(client, 2, "198.51.100.")
    redis = async_redis(settings.redis_url)
    try:
        status = await gather(redis, None, clock())
    finally:
        await redis.aclose()
    assert (status.stream_length, status.group_lag, status.group_pending) == (5, 5, 0)
    assert status.oldest_waiting_ms is not None
    (site,) = status.sites
    assert (site.stored_this_minute, site.stored_last_minute, site.inserted_last_60s) == (
        2,
        3,
        None,
    )
    assert status.problems == {"clickhouse": "not asked"}
    assert "clickhouse: not asked" in screen(status)


async def test_the_lag_is_counted_where_the_server_does_not_say_it(
    client, add_site, aggregator, settings, redis_db, clock
):
    """Redis before 7 has no `lag` in XINFO GROUPS, and 7 has none once an entry the group has
    not reached is deleted: the stream's length, less what is pending, is the lag then."""
    await add_site("news.example")
    await aggregator.prepare()
    await send(client, 5)
    stream = keys.stream("news.example")
    redis_db.xdel(stream, redis_db.xrange(stream)[2][0])
    assert redis_db.xinfo_groups(stream)[0]["lag"] is None
    redis = async_redis(settings.redis_url)
    try:
        status = await gather(redis, None, clock())
    finally:
        await redis.aclose()
    assert (status.stream_length, status.group_lag, status.group_pending) == (4, 4, 0)


async def test_the_embedded_redis_and_the_free_disk_are_shown(settings, clock, tmp_path):
    redis = async_redis(settings.redis_url)
    restarting = EmbeddedRedisStatus("restarting", 2, "was killed by signal 9")
    try:
        status = await operator_status(
            redis, None, clock(), embedded_redis=restarting, data_dir=tmp_path
        )
    finally:
        await redis.aclose()
    assert 0 < status.disk_free_bytes <= shutil.disk_usage(tmp_path).total  # it moves
    assert status.problems["embedded redis"] == "restarting: was killed by signal 9"
    text = screen(status)
    assert "restarting, 2 restarts" in text and "free disk (data dir)" in text


async def test_a_store_that_does_not_answer_is_reported_not_raised(clock):
    redis = async_redis("redis://127.0.0.1:9/0")
    try:
        status = await gather(redis, None, clock())
    finally:
        await redis.aclose()
    assert status.stream_length is None
    assert "ConnectionError" in status.problems["redis"]
    assert "redis: " in screen(status)


async def test_the_server_serves_the_status_to_admins_only(client, add_site):
    await add_site("news.example")
    await send(client, 2)
    assert (await client.get("/api/v1/status")).status == 401
    response = await client.get("/api/v1/status", headers=AUTH)
    assert response.status == 200
    body = await response.json()
    assert body["stream_length"] == 2
    assert body["sites"][0]["domain"] == "news.example"
    assert body["sites"][0]["stored_this_minute"] == 2


async def test_the_command_prints_the_status_with_clickhouse_unreachable(
    client, add_site, settings, tmp_path
):
    await add_site("news.example")
    await send(client, 4)
    env = {k: v for k, v in os.environ.items() if not k.startswith("FOOTFALL_")}
    env.update(
        FOOTFALL_DATA_DIR=str(tmp_path / "cli"),
        FOOTFALL_REDIS_URL=settings.redis_url,
        FOOTFALL_CLICKHOUSE_DSN="http://127.0.0.1:9/default",
    )
    command = [sys.executable, "-m", "app"]
    done = subprocess.run(
        [*command, "status", "--json"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    status = json.loads(done.stdout)
    assert status["stream_length"] == 4
    assert "clickhouse" in status["problems"]
    drawn = subprocess.run(
        [*command, "status"], env={**env, "COLUMNS": "160"}, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert drawn.returncode == 0, drawn.stderr
    assert "stream length" in drawn.stdout and "news.example" in drawn.stdout
