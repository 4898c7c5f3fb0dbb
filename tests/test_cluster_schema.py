"""`footfall migrate --cluster NAME`: the migrations in their cluster form, checked as SQL.

No cluster runs here (chdb has no ON CLUSTER), so the emitted statements are
read: Replicated engines with the shard and replica macros, a Distributed table
over each, views from and to the shard-local tables, `ON CLUSTER` everywhere;
and each is parsed by ClickHouse's own parser (EXPLAIN AST, in chdb).
"""

from __future__ import annotations

import itertools
import re

import pytest
from click.testing import CliRunner

from aggregator.backfills import stamp_statements
from aggregator.cluster import Cluster
from aggregator.schema import migrations, schema_script
from app.cli import main

REPLICATED = re.compile(
    r"ENGINE = Replicated(?P<engine>\w*MergeTree)\('/clickhouse/tables/\{shard\}/\{database\}/"
    r"(?P<table>\w+)', '\{replica\}'"
)


@pytest.fixture(scope="module")
def printed() -> list[str]:
    result = CliRunner().invoke(main, ["migrate", "--cluster", "analytics", "--print"], env={})
    assert result.exit_code == 0, result.output
    return [s.strip() for s in result.output.split(";\n\n") if s.strip()]


def created_tables() -> list[str]:
    sql = "\n".join(s for m in migrations() for s in m.statements)
    return re.findall(r"CREATE TABLE IF NOT EXISTS (\w+)", sql)


def test_every_statement_runs_on_the_whole_cluster(printed):
    assert printed == schema_script(Cluster("analytics"))
    for statement in printed:
        if statement.startswith("INSERT"):
            continue  # a fill, run once (below)
        assert re.match(
            r"(CREATE|ALTER|DROP|TRUNCATE) [A-Z ]+ \w+ ON CLUSTER analytics\b", statement
        ), statement


def test_a_fill_runs_once_through_the_distributed_tables(printed):
    fills = [s for s in printed if s.startswith("INSERT")]
    single = [s for m in migrations() for s in m.statements if s.startswith("INSERT")]
    assert fills == single and len(fills) >= 3
    for fill in fills:
        assert "_local" not in fill and "ON CLUSTER" not in fill
    for migration in migrations():
        for before, fill in itertools.pairwise(("", *migration.statements)):
            if not fill.startswith("INSERT"):
                continue
            # Run again after an interruption, it adds nothing: it fills only an empty
            # rollup, or deletes first what it fills (0025), or a table the migration
            # dropped and made anew before (0027).
            emptied = re.search(r"\(SELECT count\(\) FROM \w+.*\) = 0", fill)
            (table,) = re.findall(r"^INSERT INTO (\w+)", fill)
            made_anew = (
                f"DROP TABLE IF EXISTS {table}"
                in migration.statements[: migration.statements.index(fill)]
            )
            assert emptied or " DELETE WHERE " in before or made_anew, fill


def test_a_views_new_query_reads_each_shards_own_events(printed):
    (modified,) = [s for s in printed if "MODIFY QUERY" in s]
    assert modified.startswith("ALTER TABLE breakdown_daily_mv ON CLUSTER analytics MODIFY QUERY")
    assert re.findall(r"\bFROM (\w+)", modified) == ["events_local"]


def test_every_table_is_replicated_on_each_shard_with_its_own_path(printed):
    for table in created_tables():
        # A table made anew (article_stats, 0016) is made each time in its cluster form.
        locals_ = [s for s in printed if s.startswith(f"CREATE TABLE IF NOT EXISTS {table}_local ")]
        assert locals_, table
        for local in locals_:
            match = REPLICATED.search(local)
            assert match and match["table"] == f"{table}_local", local
            assert "non_replicated_deduplication_window" not in local


@pytest.mark.parametrize(
    ("table", "engine"),
    [("events", "MergeTree"), ("site_hourly", "AggregatingMergeTree"),
     ("site_totals", "SummingMergeTree"), ("sites", "ReplacingMergeTree")],
)  # fmt: skip
def test_each_engine_becomes_its_replicated_form_keeping_its_arguments(printed, table, engine):
    (local,) = [s for s in printed if s.startswith(f"CREATE TABLE IF NOT EXISTS {table}_local ")]
    assert REPLICATED.search(local)["engine"] == engine
    if engine == "ReplacingMergeTree":
        assert "'{replica}', version)" in local


def test_reads_and_inserts_go_through_a_distributed_table_of_the_original_name(printed):
    for table in created_tables():
        made = [s for s in printed if s.startswith(f"CREATE TABLE IF NOT EXISTS {table} ")]
        assert made, table
        for distributed in made:
            assert (
                f"AS {table}_local\nENGINE = Distributed(analytics, currentDatabase(), {table}_local, cityHash64("
                in distributed
            )


def test_a_site_lives_on_one_shard_so_its_rollups_merge_there(printed):
    distributed = {s.split()[5]: s for s in printed if "ENGINE = Distributed" in s}
    assert distributed["events"].endswith("cityHash64(site))")
    assert distributed["site_hourly"].endswith("cityHash64(site))")
    assert distributed["sites"].endswith("cityHash64(domain))")


def test_views_roll_up_each_shards_own_events(printed):
    views = [s for s in printed if s.startswith("CREATE MATERIALIZED VIEW")]
    single = [s for m in migrations() for s in m.statements if "MATERIALIZED VIEW" in s]
    assert len(views) == len(single) >= 5
    for view in views:
        assert re.search(r"ON CLUSTER analytics TO \w+_local AS", view)
        assert re.findall(r"\bFROM (\w+)", view) == ["events_local"]


def test_column_changes_reach_both_the_data_and_the_distributed_table(printed):
    alters = [s for s in printed if s.startswith("ALTER TABLE sites")]
    assert {a.split()[2] for a in alters} == {"sites", "sites_local"}


def test_a_dropped_table_goes_with_its_data_table_after_its_view(printed):
    drops = [s for s in printed if s.startswith("DROP")]
    with_views = [
        f"DROP {kind} IF EXISTS {name} ON CLUSTER analytics"
        for table in ("article_daily", "breakdown_daily")
        for kind, name in (("VIEW", f"{table}_mv"), ("TABLE", table), ("TABLE", f"{table}_local"))
    ]
    remade_views = [  # migration 0014: the same views, made anew
        f"DROP VIEW IF EXISTS {table}_mv ON CLUSTER analytics"
        for table in ("article_stats", "article_sources", "breakdown_stats", "site_visitors")
    ]
    remade_table = [  # migration 0016: article_stats made anew, its copy dropped after
        "DROP VIEW IF EXISTS article_stats_mv ON CLUSTER analytics",
        "DROP TABLE IF EXISTS article_stats ON CLUSTER analytics",
        "DROP TABLE IF EXISTS article_stats_local ON CLUSTER analytics",
        "DROP TABLE IF EXISTS article_stats_by_day ON CLUSTER analytics",
        "DROP TABLE IF EXISTS article_stats_by_day_local ON CLUSTER analytics",
    ]
    assert drops == [
        *with_views,
        "DROP TABLE IF EXISTS visitor_counts ON CLUSTER analytics",
        "DROP TABLE IF EXISTS visitor_counts_local ON CLUSTER analytics",
        *remade_views,
        *remade_table,
        # migration 0017: site_visitors' view made anew with the day's sums
        "DROP VIEW IF EXISTS site_visitors_mv ON CLUSTER analytics",
        # migration 0018: visit_exits, replaced by visits
        "DROP VIEW IF EXISTS visit_exits_mv ON CLUSTER analytics",
        "DROP TABLE IF EXISTS visit_exits ON CLUSTER analytics",
        "DROP TABLE IF EXISTS visit_exits_local ON CLUSTER analytics",
        # migration 0023: closed_counts made anew, sorted by span and date before key
        "DROP TABLE IF EXISTS closed_counts ON CLUSTER analytics",
        "DROP TABLE IF EXISTS closed_counts_local ON CLUSTER analytics",
        # migration 0027: closed_counts copied into larger granules and back
        *[f"DROP TABLE IF EXISTS {table} ON CLUSTER analytics"
          for table in ("closed_counts_copy", "closed_counts_copy_local", "closed_counts",
                        "closed_counts_local", "closed_counts_copy",
                        "closed_counts_copy_local")],
    ]  # fmt: skip


def test_a_mutation_runs_on_each_shards_data_table(printed):
    deletes = [s for s in printed if " DELETE WHERE " in s]
    # 0014: the rollups' month rows; 0025: the pages keyed by entry page, before their copy.
    assert len(deletes) == 5
    for delete in deletes:
        assert re.match(r"ALTER TABLE \w+_local ON CLUSTER analytics DELETE WHERE", delete)


def test_an_emptied_table_is_emptied_on_each_shards_data_table(printed):
    truncates = [s for s in printed if s.startswith("TRUNCATE")]
    # 0020, 0021, 0022, 0024 and 0026: the closed counts start again, with more paired kinds
    # each time (0023 makes the table anew).
    assert truncates == ["TRUNCATE TABLE IF EXISTS closed_counts_local ON CLUSTER analytics"] * 5


def test_the_migrations_record_is_shared_by_every_node(printed):
    assert "ReplicatedMergeTree('/clickhouse/tables/all/{database}/schema_migrations'" in printed[0]


def test_every_emitted_statement_parses_in_clickhouse(printed, clickhouse_session):
    for statement in printed:
        clickhouse_session.query(f"EXPLAIN AST {statement}")


def test_the_parser_check_would_catch_a_broken_statement(clickhouse_session):
    with pytest.raises(Exception, match="Syntax error"):
        clickhouse_session.query("EXPLAIN AST CREATE TABLE t ON CLUSTER ENGINE = (")


def test_a_statement_without_a_cluster_form_is_refused():
    with pytest.raises(ValueError, match="no cluster form"):
        Cluster("analytics").statements("INSERT INTO sites VALUES (1)")


def test_a_cluster_name_is_one_word():
    result = CliRunner().invoke(main, ["migrate", "--cluster", "a; DROP", "--print"], env={})
    assert result.exit_code == 1 and "letters, digits and _ only" in result.output


def test_without_a_cluster_the_single_node_schema_is_printed():
    result = CliRunner().invoke(main, ["migrate", "--print"], env={})
    assert "ON CLUSTER" not in result.output and "Replicated" not in result.output
    assert "ENGINE = MergeTree" in result.output


def test_the_visit_stamps_backfill_runs_on_every_node_over_its_own_shards_rows(
    clickhouse_session,
):
    statements = stamp_statements("footfall", 202311, Cluster("analytics"))
    for statement in statements:
        clickhouse_session.query(f"EXPLAIN AST {statement}")
        assert " ON CLUSTER analytics" in statement, statement
    _, lookup, update, _ = statements
    # Each node looks up the visits it stores, for the events it stores, once per shard.
    assert "FROM visits_local FINAL" in lookup
    assert update.startswith("ALTER TABLE events_local ON CLUSTER analytics UPDATE ")
    assert "IN PARTITION 202311 " in update and "mutations_sync = 2" in update
