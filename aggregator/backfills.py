"""Backfills: what a migration fills from the data there is, one piece at a time.

A migration's statements are fixed text (`aggregator.schema`); filling a new
column of ten million rows in one statement would hold the whole lookup in memory
at once. A backfill is a function of the database that runs after its migration's
statements, in pieces it finds in the data (months of events), and may run again:
each piece writes what it would write anyway.

* 0019, `stamp_visits`: each event of a visit takes its visit's entry properties
  (`visit_*`, `footfall.visit_rows`) from the visit's row in `visits`. Per month of
  events, the visits that may own them (those that started from the day before the
  month) are loaded into a `Join` table, the month's rows take their values from it
  by `joinGet` (a mutation of that partition only), and the table is dropped. A
  month of the ten-million-page-view bench is about 40 MB of visits.
"""

from __future__ import annotations

from collections.abc import Callable

from aggregator.cluster import LOCAL, Cluster
from footfall import tables, visit_rows
from footfall.connections import ClickHouse

_LOOKUP = "visit_stamps_lookup"
"""The `Join` table of a month's visits, made and dropped by `stamp_visits`."""


def stamp_visits(client: ClickHouse, cluster: Cluster | None = None) -> None:
    """Give every event of a visit the visit's `visit_*` properties from `visits`."""
    database = client.command("SELECT currentDatabase()")
    months = client.query(
        f"SELECT DISTINCT toYYYYMM(ts) AS month FROM {tables.EVENTS} WHERE visit_start > 0 "
        "ORDER BY month"
    ).result_rows
    for (month,) in months:
        for statement in stamp_statements(str(database), int(month), cluster):
            client.command(statement)


def stamp_statements(database: str, month: int, cluster: Cluster | None = None) -> list[str]:
    """The statements that stamp the events of `month` (YYYYMM; the partition of `events`)."""
    on = f" {cluster.on}" if cluster else ""
    local = LOCAL if cluster else ""
    lookup = f"{database}.{_LOOKUP}"
    first = f"toDateTime64(toDate('{month // 100:04d}-{month % 100:02d}-01'), 3, 'UTC')"
    values = ", ".join(f"CAST({name} AS String) AS {name}" for name in visit_rows.STAMPED)
    updates = ", ".join(
        f"{visit_rows.stamped(name)} = joinGet('{lookup}', '{name}', site, visitor_id, visit_start)"
        for name in visit_rows.STAMPED
    )
    # A replica runs a replicated mutation itself, reading its own lookup table: the
    # lookup is made on every node, and dropped once every replica is done (sync 2).
    sync = "mutations_sync = 1"
    if cluster:
        sync = "mutations_sync = 2, allow_nondeterministic_mutations = 1"
    return [
        f"DROP TABLE IF EXISTS {lookup}{on}",
        f"CREATE TABLE {lookup}{on} ENGINE = Join(ANY, LEFT, site, visitor_id, visit_start) "
        f"AS SELECT site, visitor_id, visit_start, {values} "
        f"FROM {tables.VISITS}{local} FINAL "
        f"WHERE visit_start >= {first} - INTERVAL 1 DAY "
        f"AND visit_start < {first} + INTERVAL 1 MONTH",
        f"ALTER TABLE {tables.EVENTS}{local}{on} UPDATE {updates} "
        f"IN PARTITION {month} WHERE visit_start > 0 SETTINGS {sync}",
        f"DROP TABLE IF EXISTS {lookup}{on}",
    ]


BACKFILLS: dict[int, Callable[[ClickHouse, Cluster | None], None]] = {19: stamp_visits}
"""Per migration version, the backfill that runs after its statements."""
