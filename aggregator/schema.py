"""ClickHouse schema: numbered SQL migrations applied once each, recorded in a version table.

Migrations are files `migrations/NNNN_name.sql`, one or more statements
separated by `;` at the end of a line, each idempotent (`IF NOT EXISTS`), so a
migration interrupted halfway can simply run again. On a cluster the same
statements are applied in their cluster form (`aggregator.cluster`). A migration
that fills what it made from the data there is, piece by piece, has a backfill
(`aggregator.backfills`), run after its statements.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

from aggregator.backfills import BACKFILLS
from aggregator.cluster import Cluster
from footfall import tables
from footfall.connections import ClickHouse

APPLIED = f"SELECT version FROM {tables.SCHEMA_MIGRATIONS}"
_NAME = re.compile(r"^(?P<version>\d{4})_(?P<name>\w+)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]


def migrations() -> list[Migration]:
    found = []
    for entry in resources.files("aggregator").joinpath("migrations").iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(
                Migration(int(match["version"]), match["name"], _statements(entry.read_text()))
            )
    return sorted(found, key=lambda m: m.version)


def migrate(
    client: ClickHouse, retention_days: int = 0, cluster: Cluster | None = None
) -> list[Migration]:
    """Apply every migration not yet recorded, then the retention of raw events.

    Returns the migrations applied now. With `cluster`, in their cluster form.
    """
    client.command(version_table(cluster))
    applied = {row[0] for row in client.query(APPLIED).result_rows}
    done = []
    for migration in migrations():
        if migration.version in applied:
            continue
        for statement in migration.statements:
            for form in cluster.statements(statement) if cluster else [statement]:
                client.command(form)
        if backfill := BACKFILLS.get(migration.version):
            backfill(client, cluster)
        client.insert(
            tables.SCHEMA_MIGRATIONS,
            [[migration.version, migration.name]],
            column_names=["version", "name"],
        )
        done.append(migration)
    set_retention(client, retention_days, cluster)
    return done


def schema_script(cluster: Cluster | None = None) -> list[str]:
    """Every statement `migrate` would apply to an empty database, for review (`--print`)."""
    statements = [version_table(cluster)]
    for migration in migrations():
        for statement in migration.statements:
            statements += cluster.statements(statement) if cluster else [statement]
    return statements


def version_table(cluster: Cluster | None = None) -> str:
    if cluster:
        return cluster.version_table(tables.SCHEMA_MIGRATIONS)
    return (
        f"CREATE TABLE IF NOT EXISTS {tables.SCHEMA_MIGRATIONS} "
        "(version UInt32, name String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3)) "
        "ENGINE = MergeTree ORDER BY version"
    )


def set_retention(client: ClickHouse, days: int, cluster: Cluster | None = None) -> None:
    """Keep raw events `days` days (0: forever); the rollups keep everything."""
    table = cluster.raw_events() if cluster else tables.EVENTS
    alter = f"ALTER TABLE {table} {cluster.on}" if cluster else f"ALTER TABLE {table}"
    engine = client.command(
        "SELECT engine_full FROM system.tables "
        f"WHERE database = currentDatabase() AND name = '{table}'"
    )
    if days > 0:
        # ClickHouse writes the TTL back as toIntervalDay(N): compare in its words, so
        # that a start with the same setting does not rewrite the table.
        if f"TTL toDateTime(ts) + toIntervalDay({int(days)})" not in str(engine):
            client.command(f"{alter} MODIFY TTL toDateTime(ts) + INTERVAL {int(days)} DAY")
    elif " TTL " in str(engine):
        client.command(f"{alter} REMOVE TTL")


def _statements(sql: str) -> tuple[str, ...]:
    without_comments = "\n".join(
        line for line in sql.splitlines() if not line.lstrip().startswith("--")
    )
    return tuple(s.strip() for s in re.split(r";\s*$", without_comments, flags=re.M) if s.strip())
