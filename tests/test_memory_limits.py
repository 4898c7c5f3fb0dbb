"""Memory budgets: a query over its budget fails alone, with its reason, and the process serves on.

The dashboard's queries run under `query_memory_mb` each; the embedded ClickHouse under
`chdb_memory_mb` in all, with its caches sized by `chdb_cache_mb`. The engine takes its
limits when a process first opens it, so that part runs in a process of its own.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap

from footfall.connections import GIVE_BACK, AsyncClickHouse
from tests.conftest import AUTH

SITE = "news.example"
NOVEMBER = "period=custom&date=2023-11-01,2023-11-30"


def add_distinct_pages(ch, count: int) -> None:
    """`count` page views of `count` pages by as many visitors, on 2023-11-16: a breakdown by
    page holds one group per page, far over a few MiB."""
    ch.command(
        "INSERT INTO events (site, ts, date, type, visitor_id, visit_start, new_visit, "
        "pageview_number, path, country, visit_country, visit_entry_page) "
        f"SELECT '{SITE}', toDateTime64('2023-11-16 03:00:00', 3, 'UTC') + number / 1000, "
        "toDate('2023-11-16'), 'pageview', number, "
        "toDateTime64('2023-11-16 03:00:00', 3, 'UTC') + number / 1000, 1, 1, "
        f"concat('/news/story-', toString(number), '.html') AS path, 'VN', 'VN', path "
        f"FROM numbers({count})"
    )


async def test_a_stats_query_over_its_memory_budget_answers_503_with_the_reason_and_serving_goes_on(
    make_client, ch
):
    client = await make_client(query_memory_mb=4)
    created = await client.post("/api/v1/sites", json={"domain": SITE}, headers=AUTH)
    assert created.status == 201
    add_distinct_pages(ch, 300_000)

    breakdown = (
        f"/api/v1/stats/breakdown?site_id={SITE}&{NOVEMBER}&property=event:page"
        "&metrics=visitors,pageviews&filters=visit:country%3D%3DVN&limit=1000"
    )
    answer = await client.get(breakdown, headers=AUTH)
    assert answer.status == 503
    error = (await answer.json())["error"]
    assert error.startswith("the query needs more memory than ClickHouse may give it")
    assert "(query_memory_mb)" in error
    assert "maximum: 4.00 MiB" in error
    assert "Retry-After" not in answer.headers  # the same query would fail again

    small = await client.get(
        f"/api/v1/stats/aggregate?site_id={SITE}&{NOVEMBER}&metrics=pageviews", headers=AUTH
    )
    assert small.status == 200
    assert (await small.json())["results"]["pageviews"]["value"] == 300_000
    metrics = await (await client.get("/metrics")).text()
    assert 'footfall_queries_over_memory_total{limit="query"} 1.0' in metrics

    roomy = await make_client()  # the default budget, 1 GiB
    assert (await roomy.get(breakdown, headers=AUTH)).status == 200


def test_the_embedded_clickhouse_holds_its_total_and_caches_to_the_settings(tmp_path):
    script = textwrap.dedent(
        f"""
        import json
        from app.database import migrated_clickhouse
        from footfall.settings import Settings

        settings = Settings().replace(data_dir={str(tmp_path)!r}, chdb_memory_mb=96, chdb_cache_mb=16)
        client, _ = migrated_clickhouse(settings)
        server = dict(client.query(
            "SELECT name, value FROM system.server_settings WHERE name IN "
            "('max_server_memory_usage', 'mark_cache_size', 'primary_index_cache_size')"
        ).result_rows)
        try:
            client.query("SELECT groupArray(number) FROM numbers(200000000)")
            refused = ""
        except Exception as e:
            refused = str(e)
        after = client.query("SELECT count() FROM events").result_rows[0][0]
        print(json.dumps({{"server": server, "refused": refused, "after": after}}))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    found = json.loads(done.stdout.splitlines()[-1])
    assert found["server"] == {
        "max_server_memory_usage": str(96 << 20),
        "mark_cache_size": str(16 << 20),
        "primary_index_cache_size": str(16 << 20),
    }
    assert "(total) memory limit exceeded" in found["refused"]
    assert "MEMORY_LIMIT_EXCEEDED" in found["refused"]
    assert found["after"] == 0  # the engine serves on after the refusal


class _Noting:
    """The test's ClickHouse client, noting each command it runs."""

    def __init__(self, client) -> None:  # type: ignore[no-untyped-def]
        self.client = client
        self.commands: list[str] = []

    def query(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return self.client.query(*args, **kwargs)

    def command(self, sql, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.commands.append(sql)
        return self.client.command(sql, *args, **kwargs)


async def _given_back(noting: _Noting, ch: AsyncClickHouse) -> list[str]:
    """The memory given back by `ch` once its wait is over (bounded: 100 x 50 ms)."""
    for _ in range(100):
        if GIVE_BACK in noting.commands:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.1)  # and not once more
    ch.close()
    return [sql for sql in noting.commands if sql == GIVE_BACK]


async def test_the_embedded_engine_gives_its_memory_back_once_when_its_calls_stop(ch):
    noting = _Noting(ch)
    idle = AsyncClickHouse(noting, give_back_after_s=0.01)  # type: ignore[arg-type]
    budgeted = idle.with_query_settings(max_memory_usage=1 << 30)
    for _ in range(3):
        await idle.query("SELECT 1")
        await budgeted.query("SELECT uniqExact(number) FROM numbers(100000)")
    assert await _given_back(noting, idle) == [GIVE_BACK]


async def test_a_server_keeps_its_own_memory(ch):
    noting = _Noting(ch)
    server = AsyncClickHouse(noting)  # type: ignore[arg-type]
    await server.query("SELECT 1")
    assert await _given_back(noting, server) == []
