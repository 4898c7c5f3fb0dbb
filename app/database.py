"""The ClickHouse of a footfall process, opened one way by every road.

`serve`, the aggregator and the dashboard (the collector never reads ClickHouse),
and every command that reaches ClickHouse itself (`migrate`, `import`, `status`,
and the site, user and token commands with no server running) open it here:
the settings' DSN, the cluster's insert setting, and the schema brought up to
date with the settings' retention and cluster. A road that opened it its own
way would migrate with settings of its own: a `site add` took the raw events'
TTL away, and on a cluster would have made single-node tables. A test holds
every other module to this one.
"""

from __future__ import annotations

from aggregator.cluster import Cluster
from aggregator.schema import Migration, migrate
from footfall.connections import IDLE_S, AsyncClickHouse, ClickHouse, clickhouse
from footfall.settings import Settings


def migrated_clickhouse(settings: Settings) -> tuple[ClickHouse, list[Migration]]:
    """A client of the settings' ClickHouse with its schema up to date, and the migrations
    applied now."""
    client = clickhouse(
        settings.clickhouse, memory_mb=settings.chdb_memory_mb, cache_mb=settings.chdb_cache_mb
    )
    cluster = Cluster(settings.clickhouse_cluster) if settings.clickhouse_cluster else None
    if cluster:
        # An insert into a Distributed table returns once every shard has its rows, so
        # the aggregator acknowledges only what the shards hold (and deduplicate).
        client.set_client_setting("distributed_foreground_insert", 1)
    applied = migrate(client, settings.retention_days, cluster)
    return client, applied


def open_clickhouse(settings: Settings) -> AsyncClickHouse:
    """The ClickHouse client of this process, for async code, with the schema up to date;
    the in-process engine's gives its memory back when idle (a server manages its own)."""
    client, _ = migrated_clickhouse(settings)
    in_process = settings.clickhouse.startswith("chdb://")
    return AsyncClickHouse(client, give_back_after_s=IDLE_S if in_process else None)
