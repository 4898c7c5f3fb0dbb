"""SQL has a home: each component's statements are in its SQL module, their tables named
from the kernel's registry (`footfall.tables`), which names the tables the migrations make.

Read from the source: a string (not a docstring) that writes SQL outside the homes,
or a ClickHouse insert into a table named by a literal, is found wherever it is.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from footfall import tables

ROOT = Path(__file__).parent.parent
PACKAGES = ("footfall", "collector", "aggregator", "dashboard", "app")
HOMES = (
    "aggregator/sql.py",
    "dashboard/sql/",
    # The migrations' own: their version table and the raw events' TTL, the
    # statements' cluster form, and the backfills made from the data there is.
    "aggregator/schema.py",
    "aggregator/cluster.py",
    "aggregator/backfills.py",
)
SQL = re.compile(r"\b(SELECT|INSERT INTO|ALTER TABLE|CREATE TABLE|DELETE FROM|OPTIMIZE TABLE)\b")


def sql_written(path: Path) -> list[str]:
    """The strings of `path` that write SQL, and the inserts that name a table by a literal."""
    tree = ast.parse(path.read_text(), str(path))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if id(node) not in docstrings and SQL.search(node.value):
                found.append((node.lineno, node.value[:60]))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "insert"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append((node.lineno, f"insert into {node.args[0].value!r}"))
    return [f"{line}: {text}" for line, text in sorted(found)]


def modules_outside_the_homes() -> list[Path]:
    paths = (path for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py")))
    return [path for path in paths if not str(path.relative_to(ROOT)).startswith(HOMES)]


def test_every_statement_is_written_in_its_component_s_sql_home():
    written = {
        str(path.relative_to(ROOT)): found
        for path in modules_outside_the_homes()
        if (found := sql_written(path))
    }
    assert written == {}


def test_the_check_finds_sql_and_literal_tables_but_not_docstrings(tmp_path):
    module = tmp_path / "m.py"
    module.write_text(
        '"""Reads `SELECT 1` in a docstring."""\n'
        "async def f(ch):\n"
        '    """SELECT in a docstring too."""\n'
        '    await ch.query(f"SELECT count() FROM {TABLE} WHERE x")\n'
        '    await ch.insert("events", [], [])\n'
        "    await ch.insert(tables.EVENTS, [], [])\n"
    )
    assert sql_written(module) == [
        "4: SELECT count() FROM ",
        "5: insert into 'events'",
    ]


REGISTRY = sorted(
    value for name, value in vars(tables).items() if name.isupper() and isinstance(value, str)
)


@pytest.mark.parametrize("table", REGISTRY)
def test_each_table_named_in_the_registry_is_one_the_migrated_schema_has(ch, table):
    found = ch.query(
        "SELECT count() FROM system.tables WHERE database = currentDatabase() "
        "AND name = {table:String}",
        parameters={"table": table},
    ).result_rows
    assert found == [(1,)]
