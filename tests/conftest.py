"""Fixtures from one builder: a real Redis on a free port, chdb in a temporary folder.

`make_client(**overrides)` builds footfall's all-in-one application (collector
and Sites API) through the same factory `footfall serve` uses, with a clock the
test moves; the one-line fixtures below name the common cases.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from aggregator.consumer import Aggregator
from app.database import open_clickhouse
from app.redis_server import EmbeddedRedis
from app.serve import all_in_one_app
from footfall.clock import ManualClock
from footfall.connections import AsyncClickHouse, async_redis, sync_redis
from footfall.settings import Settings
from tests.live_server import LiveServer

ADMIN_TOKEN = "test-admin-token"
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
BROWSER_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory):
    with EmbeddedRedis(tmp_path_factory.mktemp("redis"), appendonly=False) as server:
        yield server


@pytest.fixture(scope="session")
def clickhouse_dsn(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"chdb://{tmp_path_factory.mktemp('clickhouse')}"


@pytest.fixture(scope="session")
def clickhouse_session(clickhouse_dsn: str):
    """One chdb client for the session: one process may own a chdb path, and only one."""
    return open_clickhouse(Settings(clickhouse_dsn=clickhouse_dsn)).client


@pytest.fixture
def redis_db(redis_server: EmbeddedRedis) -> redis.Redis:
    """A sync client of an empty Redis."""
    client = sync_redis(redis_server.url)
    client.flushall()
    yield client
    client.close()


def empty_clickhouse(client) -> None:  # type: ignore[no-untyped-def]
    """Every table emptied; the schema (and its migrations' record) kept."""
    tables = client.query(
        "SELECT name FROM system.tables WHERE database = currentDatabase() "
        "AND engine LIKE '%MergeTree' AND name != 'schema_migrations'"
    ).result_rows
    for (table,) in tables:
        client.command(f"TRUNCATE TABLE {table}")


def empty_stores(redis_db: redis.Redis, client) -> None:  # type: ignore[no-untyped-def]
    redis_db.flushall()
    empty_clickhouse(client)


@pytest.fixture
def ch(clickhouse_session):
    """The session's ClickHouse client, every table emptied."""
    empty_clickhouse(clickhouse_session)
    return clickhouse_session


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def settings(tmp_path, redis_server, redis_db, ch, clickhouse_dsn) -> Settings:
    return Settings(
        data_dir=tmp_path,
        redis_url=redis_server.url,
        clickhouse_dsn=clickhouse_dsn,
        admin_token=ADMIN_TOKEN,
    )


@pytest.fixture
def make_client(aiohttp_client, settings: Settings, clock: ManualClock, ch):
    """The all-in-one app, by default without its aggregator task: tests run
    `aggregator.drain()` when they want the events in ClickHouse."""

    async def make(aggregate: bool = False, **overrides):
        app = all_in_one_app(
            settings.replace(**overrides), AsyncClickHouse(ch), clock=clock, aggregate=aggregate
        )
        return await aiohttp_client(app, headers={"User-Agent": BROWSER_UA})

    return make


@pytest.fixture
def live_server(settings: Settings, ch) -> Iterator[LiveServer]:
    """The all-in-one app, without its aggregator, on a real socket and footfall's own
    runner: for requests sent as bytes (`live_server.raw`), as a deployed server meets them."""
    with LiveServer(lambda: all_in_one_app(settings, AsyncClickHouse(ch), aggregate=False)) as live:
        yield live


@pytest.fixture
async def aggregator(settings: Settings, ch, clock: ManualClock):
    """An aggregator on the test's Redis and ClickHouse, prepared; `await aggregator.drain()`."""
    redis = async_redis(settings.redis_url)
    agg = Aggregator(settings, redis, AsyncClickHouse(ch), consumer="test", clock=clock)
    await agg.prepare()
    yield agg
    await redis.aclose()


@pytest.fixture
async def client(make_client):
    return await make_client()


@pytest.fixture
def add_site(client):
    """Register a site through the Sites API, as an operator would."""

    async def add(domain: str = "news.example", **fields) -> dict:
        response = await client.post(
            "/api/v1/sites", json={"domain": domain, **fields}, headers=AUTH
        )
        assert response.status == 201, await response.text()
        return await response.json()

    return add
