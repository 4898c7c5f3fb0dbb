"""The schema on a ClickHouse cluster: the same migrations, rewritten for `ON CLUSTER`.

Each `CREATE TABLE t` of a migration becomes two tables on every node:

* `t_local`, the data: the same columns and keys with the engine's Replicated
  form (`ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/t_local',
  '{replica}')`, ...), deduplicating retried inserts within the same window as
  the single-node table;
* `t`, a `Distributed` table over `t_local` on every shard, sharded by the
  table's first sorting column (the site for events and rollups, the key for
  sites, users and tokens), so every row of one site, or every version of one
  row, lives on one shard: rollups merge there and `FINAL` stays right.

Components keep reading and inserting `t`. A materialized view is created on
every node from `events_local` into the rollup's `t_local`, so each shard rolls
up the events it stores; a view's new query (`ALTER TABLE v MODIFY QUERY`) reads
`events_local` too. Column changes (`ALTER TABLE t ADD COLUMN`) go to both
tables, other changes to the data table. A dropped view is dropped on every node,
a dropped table with its data table, an emptied table by its data table on
every node (`TRUNCATE TABLE t`: `t_local`, the rows). A fill (`INSERT INTO t SELECT ...`, a
migration's backfill) is run as it is, once, through the Distributed tables:
each row goes to its site's shard. A statement of another kind has no cluster
form: `statements()` refuses it, and a test runs every migration through it, so
a new migration cannot silently miss the cluster.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from footfall import tables

REPLICA_PATH = "/clickhouse/tables/{shard}/{database}/"
LOCAL = "_local"

_CREATE_TABLE = re.compile(r"^CREATE TABLE IF NOT EXISTS (?P<name>\w+)\s", re.I)
_ENGINE = re.compile(r"^ENGINE = (?P<engine>\w*MergeTree)(?:\((?P<args>[^)]*)\))?\s*$", re.I | re.M)
_ORDER_BY = re.compile(r"^ORDER BY \(?\s*(?P<first>\w+)", re.I | re.M)
_CREATE_VIEW = re.compile(
    r"^CREATE MATERIALIZED VIEW IF NOT EXISTS (?P<name>\w+) TO (?P<target>\w+) AS\s", re.I
)
_FROM = re.compile(r"\bFROM\s+(?P<table>\w+)\b", re.I)
_ALTER = re.compile(r"^ALTER TABLE (?P<name>\w+)\s+(?P<rest>.*)$", re.I | re.S)
_COLUMN_CHANGE = re.compile(r"^(ADD|DROP|MODIFY|RENAME|COMMENT) COLUMN\b", re.I)
_MODIFY_QUERY = re.compile(r"^MODIFY QUERY\s", re.I)
_FILL = re.compile(r"^INSERT INTO \w+\s*(\([^)]*\))?\s*SELECT\s", re.I)
_DROP = re.compile(r"^DROP (?P<kind>TABLE|VIEW) IF EXISTS (?P<name>\w+)\s*$", re.I)
_TRUNCATE = re.compile(r"^TRUNCATE TABLE IF EXISTS (?P<name>\w+)\s*$", re.I)


@dataclass(frozen=True)
class Cluster:
    """How the schema is laid out on the cluster `name` (a `remote_servers` entry)."""

    name: str

    def __post_init__(self) -> None:
        if not re.fullmatch(r"\w+", self.name):
            raise ValueError(f"cluster name {self.name!r}: letters, digits and _ only")

    @property
    def on(self) -> str:
        return f"ON CLUSTER {self.name}"

    def version_table(self, table: str) -> str:
        """The migrations' record, one replicated table for every node of every shard (no
        {shard} in its path), so any node knows what the cluster has applied."""
        return (
            f"CREATE TABLE IF NOT EXISTS {table} {self.on} "
            "(version UInt32, name String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3)) "
            f"ENGINE = ReplicatedMergeTree('/clickhouse/tables/all/{{database}}/{table}', "
            "'{shard}-{replica}') ORDER BY version"
        )

    def raw_events(self) -> str:
        """The table that holds the events' rows (and their TTL)."""
        return tables.EVENTS + LOCAL

    def statements(self, statement: str) -> list[str]:
        """The cluster form of one single-node migration statement."""
        if _CREATE_TABLE.match(statement):
            return self._table(statement)
        if _CREATE_VIEW.match(statement):
            return [self._view(statement)]
        if match := _ALTER.match(statement):
            return self._alter(match["name"], match["rest"])
        if _FILL.match(statement):
            return [statement]
        if match := _DROP.match(statement):
            return self._drop(match["kind"].upper(), match["name"])
        if match := _TRUNCATE.match(statement):
            return [f"TRUNCATE TABLE IF EXISTS {match['name']}{LOCAL} {self.on}"]
        raise ValueError(f"no cluster form for this statement: {statement[:80]!r}")

    def _table(self, statement: str) -> list[str]:
        name = _CREATE_TABLE.match(statement)["name"]  # type: ignore[index]
        local = name + LOCAL
        engine = _ENGINE.search(statement)
        order = _ORDER_BY.search(statement)
        if engine is None or order is None:
            raise ValueError(f"table {name}: no MergeTree engine or ORDER BY to replicate")
        args = [f"'{REPLICA_PATH}{local}'", "'{replica}'"]
        if engine["args"]:
            args.append(engine["args"])
        replicated = f"ENGINE = Replicated{engine['engine']}({', '.join(args)})"
        data = statement[: engine.start()] + replicated + statement[engine.end() :]
        data = _CREATE_TABLE.sub(f"CREATE TABLE IF NOT EXISTS {local} {self.on}\n", data, count=1)
        # Replicated tables deduplicate retried inserts by their own window.
        data = data.replace(
            "non_replicated_deduplication_window", "replicated_deduplication_window"
        )
        distributed = (
            f"CREATE TABLE IF NOT EXISTS {name} {self.on} AS {local}\n"
            f"ENGINE = Distributed({self.name}, currentDatabase(), {local}, "
            f"cityHash64({order['first']}))"
        )
        return [data, distributed]

    def _view(self, statement: str) -> str:
        match = _CREATE_VIEW.match(statement)
        assert match is not None
        head = (
            f"CREATE MATERIALIZED VIEW IF NOT EXISTS {match['name']} {self.on} "
            f"TO {match['target']}{LOCAL} AS\n"
        )
        body = _FROM.sub(lambda m: f"FROM {m['table']}{LOCAL}", statement[match.end() :])
        return head + body

    def _drop(self, kind: str, name: str) -> list[str]:
        if kind == "VIEW":
            return [f"DROP VIEW IF EXISTS {name} {self.on}"]
        # A table is two: the Distributed one first, then the data under it.
        return [
            f"DROP TABLE IF EXISTS {name} {self.on}",
            f"DROP TABLE IF EXISTS {name}{LOCAL} {self.on}",
        ]

    def _alter(self, name: str, rest: str) -> list[str]:
        if _MODIFY_QUERY.match(rest):
            # A view: on every node, reading the events that node stores.
            body = _FROM.sub(lambda m: f"FROM {m['table']}{LOCAL}", rest)
            return [f"ALTER TABLE {name} {self.on} {body}"]
        local = f"ALTER TABLE {name}{LOCAL} {self.on} {rest}"
        if _COLUMN_CHANGE.match(rest):
            # The Distributed table has the columns of its data table: change both.
            return [local, f"ALTER TABLE {name} {self.on} {rest}"]
        return [local]
