"""footfall on a real Redis Cluster: three masters, three sites whose slots are on three nodes.

The collector's group commits hold events of several sites (ingest.lua runs once
per site, each on its node), the aggregator reads every site's stream and
acknowledges per site; counts come out exact in ClickHouse, in the rollups and in
the hot counters. Then the failure a cluster adds: a batch acknowledged on some
nodes and not on another, by the consumer itself after a restart and by another
that claims it; it still counts once.
"""

from __future__ import annotations

import asyncio

import pytest
import redis
import redis.cluster
import redis.exceptions

from aggregator.consumer import Aggregator
from app.serve import all_in_one_app
from footfall import keys
from footfall.clock import ManualClock
from footfall.connections import AsyncClickHouse, async_redis, sync_redis
from footfall.settings import Settings
from tests.conftest import ADMIN_TOKEN, AUTH, BROWSER_UA
from tests.redis_cluster import RedisCluster
from tests.test_accounts import PASSWORD, log_in

VISITORS = 4  # page views per site, each of its own visitor (and visit)


@pytest.fixture(scope="module")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory):
    with RedisCluster(tmp_path_factory.mktemp("redis-cluster")) as cluster:
        yield cluster


@pytest.fixture(scope="module")
def sites(redis_cluster: RedisCluster) -> list[str]:
    """Three domains whose streams (and so all their keys) are on three different nodes."""
    by_port: dict[int, str] = {}
    for n in range(1000):
        domain = f"site{n}.example"
        by_port.setdefault(redis_cluster.port_of(keys.stream(domain)), domain)
        if len(by_port) == len(redis_cluster.ports):
            return sorted(by_port.values())
    raise AssertionError("no three domains on three nodes")


@pytest.fixture
def cluster_db(redis_cluster: RedisCluster):
    """A sync client of the cluster, every node emptied."""
    client = sync_redis(redis_cluster.url)
    client.flushall(target_nodes=redis.cluster.RedisCluster.PRIMARIES)
    yield client
    client.close()


@pytest.fixture
def cluster_settings(tmp_path, redis_cluster, cluster_db, ch, clickhouse_dsn) -> Settings:
    return Settings(
        data_dir=tmp_path,
        redis_url=redis_cluster.url,
        clickhouse_dsn=clickhouse_dsn,
        admin_token=ADMIN_TOKEN,
    )


@pytest.fixture
async def cluster_client(aiohttp_client, cluster_settings, clock: ManualClock, ch, sites):
    app = all_in_one_app(cluster_settings, AsyncClickHouse(ch), clock=clock, aggregate=False)
    client = await aiohttp_client(app, headers={"User-Agent": BROWSER_UA})
    for domain in sites:
        response = await client.post(
            "/api/v1/sites", json={"domain": domain, "public_counters": True}, headers=AUTH
        )
        assert response.status == 201, await response.text()
    return client


def pageview(domain: str, visitor: int, article: str = "a-1") -> dict:
    return {"n": "pageview", "u": f"https://{domain}/news/{article}.html", "a": article,
            "ip": f"203.0.113.{visitor}", "ua": BROWSER_UA}  # fmt: skip


async def send_traffic(client, sites: list[str]) -> None:
    """Concurrent requests of all sites, so that group commits hold several sites; and one
    request with events of every site."""

    async def post(events: list[dict]) -> None:
        response = await client.post("/api/events", json=events, headers=AUTH)
        assert response.status == 202, await response.text()

    await asyncio.gather(*(post([pageview(d, v)]) for v in range(1, VISITORS) for d in sites))
    await post([pageview(d, VISITORS, "b-2") for d in sites])


def counts_by_site(ch, sql: str) -> dict:
    return {site: tuple(rest) for site, *rest in ch.query(sql).result_rows}


def expect_exact(ch, db, sites: list[str]) -> None:
    every = {d: (VISITORS,) for d in sites}
    assert counts_by_site(ch, "SELECT site, count() FROM events GROUP BY site") == every
    assert counts_by_site(
        ch, "SELECT site, sum(pageviews), sum(visits) FROM site_hourly GROUP BY site"
    ) == {d: (VISITORS, VISITORS) for d in sites}
    assert counts_by_site(ch, "SELECT site, sum(pageviews) FROM site_totals GROUP BY site") == every
    for domain in sites:
        assert db.hgetall(keys.totals(domain)) == {
            b"pageviews": str(VISITORS).encode(),
            b"visits": str(VISITORS).encode(),
        }
        assert db.hgetall(keys.article_pageviews(domain)) == {
            b"a-1": str(VISITORS - 1).encode(),
            b"b-2": b"1",
        }
        assert db.xlen(keys.stream(domain)) == 0
        assert db.xpending(keys.stream(domain), keys.CONSUMER_GROUP)["pending"] == 0


async def test_collector_and_aggregator_on_a_cluster_count_every_site_exactly(
    cluster_client, cluster_settings, cluster_db, sites, ch, clock
):
    await send_traffic(cluster_client, sites)
    for domain in sites:
        assert cluster_db.xlen(keys.stream(domain)) == VISITORS

    connection = async_redis(cluster_settings.redis_url)
    aggregator = Aggregator(
        cluster_settings, connection, AsyncClickHouse(ch), consumer="agg", clock=clock
    )
    try:
        await aggregator.prepare()
        assert await aggregator.drain() == VISITORS * len(sites)
        # A closing takes the noted late days in one script call, on the site's node (no
        # day is closed yet, so this one stays taken, for a later round).
        cluster_db.sadd(keys.late_days(sites[0]), "2020-01-01")
        await aggregator.close_due()
        assert cluster_db.smembers(keys.late_days(sites[0])) == set()
        assert cluster_db.smembers(keys.late_days_closing(sites[0])) == {b"2020-01-01"}
    finally:
        await connection.aclose()
    expect_exact(ch, cluster_db, sites)
    clock.advance(2)
    counters = await cluster_client.get(f"/api/counters?d={sites[0]}&a=a-1")
    assert await counters.json() == {
        "total": VISITORS, "online": VISITORS, "views": VISITORS - 1, "readers": VISITORS - 1
    }  # fmt: skip


async def test_a_user_logs_in_and_out_of_the_dashboard_on_a_cluster(cluster_client):
    body = {"email": "editor@news.example", "password": PASSWORD, "role": "editor", "sites": []}
    response = await cluster_client.post("/api/v1/users", json=body, headers=AUTH)
    assert response.status == 201, await response.text()
    assert (await log_in(cluster_client, "editor@news.example")).status == 303
    me = await cluster_client.get("/api/v1/session")
    assert (await me.json())["email"] == "editor@news.example"


@pytest.fixture
def cluster_acl(redis_cluster: RedisCluster, cluster_db):
    """A Redis user on every node, whose scripts the test can forbid on one node: a batch is
    then inserted and acknowledged for the sites of the other nodes only."""
    every_node = redis.cluster.RedisCluster.ALL_NODES
    cluster_db.execute_command(
        "ACL", "SETUSER", "agg", "on", ">pw", "~*", "&*", "+@all", target_nodes=every_node
    )

    class Acl:
        url = redis_cluster.url_as("agg", "pw")

        def forbid_scripts_on_the_node_of(self, domain: str) -> None:
            with redis_cluster.node(redis_cluster.port_of(keys.stream(domain))) as node:
                node.execute_command("ACL", "SETUSER", "agg", "-evalsha", "-eval")

    yield Acl()
    cluster_db.execute_command("ACL", "DELUSER", "agg", target_nodes=every_node)


@pytest.mark.parametrize("finisher", ["itself after a restart", "another that claims it"])
async def test_a_batch_acknowledged_on_some_nodes_only_still_counts_once(
    cluster_client, cluster_settings, cluster_db, cluster_acl, sites, ch, clock, finisher
):
    await send_traffic(cluster_client, sites)
    connection = async_redis(cluster_acl.url)
    victim = Aggregator(
        cluster_settings, connection, AsyncClickHouse(ch), consumer="victim", clock=clock
    )
    await victim.prepare()
    cluster_acl.forbid_scripts_on_the_node_of(sites[1])
    with pytest.raises(redis.exceptions.NoPermissionError):
        await victim.step()
    await connection.aclose()  # it dies: inserted, acknowledged on two nodes of three
    pending = {d: cluster_db.xpending(keys.stream(d), keys.CONSUMER_GROUP)["pending"]
               for d in sites}  # fmt: skip
    assert pending == {sites[0]: 0, sites[1]: VISITORS, sites[2]: 0}

    connection = async_redis(cluster_settings.redis_url)
    if finisher == "itself after a restart":
        settings, name = cluster_settings, "victim"
    else:
        settings, name = cluster_settings.replace(claim_after=0), "heir"
    finishing = Aggregator(settings, connection, AsyncClickHouse(ch), consumer=name, clock=clock)
    try:
        await finishing.prepare()  # its own pending batch first, then the silent ones'
        assert await finishing.drain() == 0
    finally:
        await connection.aclose()
    expect_exact(ch, cluster_db, sites)
