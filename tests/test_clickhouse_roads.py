"""Every road into ClickHouse opens it one way (`app.database`), with the settings'
retention and cluster.

Each command runs as a user runs it, in its own process with no server running, on
a chdb folder that a separate process reads afterwards (one process may own a chdb
folder). chdb has no cluster, so a road given one proves it laid the schema out on
it by ClickHouse's answer to its first `ON CLUSTER` statement: that cluster is not
found. Which statements a cluster gets is tests/test_cluster_schema.py's part.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from app.redis_server import free_port
from tests.processes import clean_environ, clickhouse_query, run_footfall

ROOT = Path(__file__).parent.parent
SITE = "roads.example"
TTL = "TTL toDateTime(ts) + toIntervalDay(30)"
CSV = f"timestamp,url\n2020-05-13T10:25:00+07:00,https://{SITE}/a/1.html\n"


@pytest.fixture
def env(tmp_path, redis_server, redis_db) -> dict[str, str]:
    """No server running; the test's Redis (the roads open ClickHouse the same with the
    data dir's own), chdb in a folder of its own."""
    return {
        **clean_environ(),
        "FOOTFALL_DATA_DIR": str(tmp_path / "data"),
        "FOOTFALL_REDIS_URL": redis_server.url,
        "FOOTFALL_CLICKHOUSE_DSN": f"chdb://{tmp_path / 'clickhouse'}",
    }


def events_engine(env: dict[str, str]) -> str:
    (row,) = clickhouse_query(
        env["FOOTFALL_CLICKHOUSE_DSN"],
        "SELECT engine_full FROM system.tables "
        "WHERE database = currentDatabase() AND name = 'events'",
    )
    return row[0]


def test_every_command_keeps_the_raw_events_retention_the_settings_ask_for(env, tmp_path):
    env = {**env, "FOOTFALL_RETENTION_DAYS": "30"}
    csv = tmp_path / "old.csv"
    csv.write_text(CSV)

    def road(*args: str, stdin: str | None = None) -> str:
        result = run_footfall(env, *args, stdin=stdin)
        assert result.returncode == 0, (args, result.stderr)
        assert TTL in events_engine(env), f"footfall {' '.join(args)} took the TTL away"
        return result.stdout

    road("migrate")
    road("site", "add", SITE)
    road("site", "set", SITE, "--timezone", "Asia/Ho_Chi_Minh")
    road("site", "list")
    road("user", "add", f"editor@{SITE}", "--site", SITE, "--password-stdin",
         stdin="a long enough password\n")  # fmt: skip
    road("user", "list")
    road("token", "create", "--name", "cms", "--scope", "events:write")
    (token_id,) = [line.split()[0] for line in road("token", "list").splitlines()]
    road("token", "revoke", token_id)
    road("import", str(csv))
    road("status", "--json")
    road("site", "delete", SITE)


ROADS = [
    ["migrate"],
    ["site", "add", SITE],
    ["site", "set", SITE, "--timezone", "UTC"],
    ["site", "list"],
    ["site", "delete", SITE],
    ["user", "add", f"editor@{SITE}", "--password-stdin"],
    ["user", "list"],
    ["token", "create", "--name", "cms", "--scope", "events:write"],
    ["token", "list"],
    ["token", "revoke", "some-id"],
    ["import", "{csv}"],
    ["status", "--json"],
    ["serve", "--port", "{port}"],
    ["aggregator", "--port", "0"],
    ["dashboard", "--port", "{port}"],
]


@pytest.mark.parametrize("args", ROADS, ids=lambda args: " ".join(args[:2]))
def test_every_road_lays_the_schema_out_on_the_settings_cluster(env, tmp_path, args):
    csv = tmp_path / "old.csv"
    csv.write_text(CSV)
    args = [a.format(csv=csv, port=free_port()) for a in args]
    env = {**env, "FOOTFALL_CLICKHOUSE_CLUSTER": "analytics"}
    result = run_footfall(env, *args, stdin="a long enough password\n")
    # Its first statement went to the cluster: never single-node tables in its place.
    assert "cluster 'analytics' not found" in result.stdout + result.stderr, result


def test_migrate_lays_the_schema_out_on_the_cluster_its_option_names(env):
    result = run_footfall(env, "migrate", "--cluster", "analytics")
    assert "cluster 'analytics' not found" in result.stderr, result


# Allowed to build a ClickHouse client or migrate: the one road, what it is built from,
# and a bench that measures inserts into the schema as it stood at each migration.
OPENERS = {
    "app/database.py": {"migrate", "clickhouse"},
    "footfall/connections.py": {"get_client"},
    "bench/rollup_insert.py": {"get_client"},
}
FORBIDDEN = {("aggregator.schema", "migrate"), ("footfall.connections", "clickhouse"),
             ("clickhouse_connect", "get_client")}  # fmt: skip


def opened_in(path: Path) -> set[str]:
    """The names of FORBIDDEN that the module at `path` imports or reaches as attributes."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found |= {a.name for a in node.names if (node.module, a.name) in FORBIDDEN}
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name | ast.Attribute):
            owner = ast.unparse(node.value)
            found |= {name for module, name in FORBIDDEN
                      if node.attr == name and f".{module}".endswith(f".{owner}")}  # fmt: skip
    return found


def test_only_app_database_opens_and_migrates_clickhouse():
    modules = [p for folder in ("footfall", "aggregator", "dashboard", "collector", "app", "bench")
               for p in sorted((ROOT / folder).rglob("*.py"))]  # fmt: skip
    assert len(modules) > 50
    opened = {str(p.relative_to(ROOT)): opened_in(p) for p in modules}
    assert {path: names for path, names in opened.items() if names} == OPENERS


def test_the_opener_check_sees_an_import_and_an_attribute(tmp_path):
    module = tmp_path / "m.py"
    module.write_text(
        "from aggregator.schema import migrate as m\n"
        "import clickhouse_connect\n"
        "c = clickhouse_connect.get_client(dsn='chdb://')\n"
        "footfall.connections.clickhouse('x')\n"
        "s.clickhouse, settings.clickhouse, self.migrate()\n"
    )
    assert opened_in(module) == {"migrate", "get_client", "clickhouse"}
