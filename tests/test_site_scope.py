"""Every stats query reads one site's rows: each table it reads, in its subqueries, unions
and joins too, under `site = <the call's site>`.

The Stats API is called for every endpoint, property, filter kind and kind of
period (open days, closed days and spans, runs of months), on a site a whole
number of hours off UTC and one that is not, through a ClickHouse that notes what
it is sent (`Recording`). ClickHouse's analyzer says what each statement reads
(`EXPLAIN QUERY TREE`, its parameters bound), and `unscoped` finds every table
read in a query whose WHERE does not hold, as one of its conjuncts, that table's
`site` equal to the call's site. A query built without the scope is caught.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from aggregator import closing
from app.serve import all_in_one_app
from dashboard import queries
from dashboard.sql import scope
from dashboard.sql.scope import SiteScope, UnscopedQuery
from footfall import tables
from footfall.connections import AsyncClickHouse
from tests.conftest import AUTH
from tests.helpers import Recording, add_page_views

SITES = {"news.example": "Asia/Ho_Chi_Minh", "half.example": "Asia/Kolkata"}
"""A site a whole number of hours off UTC (its totals from `site_hourly`), and one not."""
DAY_MS = 86_400_000
DEC_2_UTC = 1_701_475_200_000  # 07:00 in Hà Nội: every day to Dec 1 closed
PAGE_VIEWS = [
    ("2023-06-01T10:00:00", "/a", "v6"), ("2023-07-14T10:00:00", "/b", "v7"),
    ("2023-08-20T10:00:00", "/a", "v8"), ("2023-10-31T22:00:00", "/b", "v6"),
    ("2023-11-02T09:00:00", "/a", "v1"), ("2023-11-02T09:05:00", "/b", "v1"),
    ("2023-11-03T23:50:00", "/a", "v1"), ("2023-11-30T12:00:00", "/c", "v3"),
]  # fmt: skip
TODAY = [("2023-12-02T08:00:00", "/a", "v1"), ("2023-12-02T08:10:00", "/d", "v9")]
LATE = ("2023-11-03T08:00:00", "/b", "v4")
"""A page view imported into a closed day: closed again."""
TITLES = {"/a": "A", "/b": "B", "/c": "C", "/d": "D"}
DASHBOARD_READS = {
    tables.EVENTS, tables.SITE_HOURLY, tables.SITE_VISITORS, tables.BREAKDOWN_STATS,
    tables.VISITS, tables.ARTICLE_STATS, tables.ARTICLE_SOURCES, tables.CLOSED_COUNTS,
}  # fmt: skip
"""Every table of the sites' rows that stats queries read."""

PERIODS = (
    {"period": "day"},  # today: open
    {"period": "7d"},  # closed days
    {"period": "custom", "date": "2023-11-01,2023-11-30"},  # a closed month
    {"period": "12mo"},  # runs of months, quarters, days, and open days after today
)
FILTERS = ("event:page==/a", "visit:source==Direct / None", "event:page==/a*;visit:country!=VN|US")
PROPERTIES = (
    "event:page", "event:name", "visit:source", "visit:referrer", "visit:utm_medium",
    "visit:utm_source", "visit:utm_campaign", "visit:utm_content", "visit:utm_term",
    "visit:country", "visit:device", "visit:browser", "visit:browser_version", "visit:os",
    "visit:os_version", "visit:entry_page", "visit:exit_page",
)  # fmt: skip
METRICS = "visitors,visits,pageviews,bounce_rate,visit_duration,events,engaged_time"


def site_calls(query: dict[str, str]) -> list[tuple[str, dict[str, str]]]:
    """A site's totals and time series."""
    metrics = METRICS if "filters" in query else f"{METRICS},views_per_visit"
    calls = [
        ("aggregate", query | {"metrics": metrics}),
        ("aggregate", query | {"metrics": metrics, "compare": "previous_period"}),
    ]
    intervals = ("date", "month") if query.get("period") == "12mo" else ("hour", "date", "month")
    calls += [("timeseries", query | {"metrics": metrics, "interval": i}) for i in intervals]
    return calls


def breakdown_calls(query: dict[str, str]) -> list[tuple[str, dict[str, str]]]:
    """Breakdowns by every property: paged in SQL by visitors, and by a ratio."""
    calls = []
    for prop in PROPERTIES:
        summed = {"event:page": "visitors,pageviews", "event:name": "visitors,events"}
        calls.append(
            ("breakdown", query | {"property": prop, "metrics": summed.get(prop, "visitors,visits"),
                                   "limit": "2", "page": "2"}),
        )  # fmt: skip
        if prop != "event:name":
            calls.append(("breakdown", query | {"property": prop, "metrics": "bounce_rate"}))
    return calls


def article_calls(query: dict[str, str]) -> list[tuple[str, dict[str, str]]]:
    """The top articles by each sort, a first page and a later one; one article's page."""
    calls = [
        ("articles", query | {"sort": sort, "limit": limit, "page": page})
        for sort in ("pageviews", "visits", "visitors", "engaged_time")
        for limit, page in (("1", "1"), ("2", "2"))
    ]
    if "filters" not in query:
        intervals = ("date", "month") if query.get("period") == "12mo" else ("hour", "date")
        calls += [("articles/a", query | {"interval": i}) for i in intervals]
    return calls


def every_call() -> list[tuple[str, dict[str, str]]]:
    calls = []
    news, half = SITES
    for period in PERIODS:
        query = {"site_id": news, **period}
        calls += site_calls(query) + breakdown_calls(query) + article_calls(query)
        calls += site_calls({"site_id": half, **period})
    for filters in FILTERS:
        query = {"site_id": news, "period": "7d", "filters": filters}
        calls += site_calls(query) + breakdown_calls(query) + article_calls(query)
    return calls


@dataclass
class Node:
    """A node of `EXPLAIN QUERY TREE`: its line and the lines indented under it."""

    text: str
    children: list[Node] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return self.text.split(" id:")[0]

    def field(self, name: str) -> str | None:
        match = re.search(rf"(?:^|, ){name}: ([^,]*)", self.text[len(self.kind) + 1 :])
        return match[1] if match else None

    def walk(self) -> Iterator[Node]:
        yield self
        for child in self.children:
            yield from child.walk()

    def child(self, kind: str) -> Node | None:
        return next((c for c in self.children if c.kind == kind), None)


def query_tree(ch, sql: str, params: dict) -> Node:  # type: ignore[no-untyped-def]
    """The statement as ClickHouse's analyzer resolved it: tables by id, parameters bound."""
    root = Node("")
    stack = [(-1, root)]
    for (line,) in ch.query(f"EXPLAIN QUERY TREE {sql}", parameters=params).result_rows:
        depth = len(line) - len(line.lstrip(" "))
        while stack[-1][0] >= depth:
            stack.pop()
        node = Node(line.strip())
        stack[-1][1].children.append(node)
        stack.append((depth, node))
    return root


def tables_read(tree: Node) -> set[str]:
    """The tables `tree` reads, but ClickHouse's own (`system.one`)."""
    names = [node.field("table_name") or "" for node in tree.walk() if node.kind == "TABLE"]
    return {name.split(".")[1] for name in names if not name.startswith("system.")}


def unscoped(tree: Node, site: str) -> list[str]:
    """The tables of the sites' rows read in `tree` by a query whose WHERE does not hold,
    as one of its conjuncts, that table's `site` equal to `site`."""
    found = []

    def walk(node: Node, query: Node | None) -> None:
        if node.kind == "QUERY":
            query = node
        elif node.kind == "TABLE":
            database, table = (node.field("table_name") or "").split(".")
            private = database == "system" or table in tables.RECORDS
            if not private and not (query and _scoped(query, node.field("id"), site)):
                found.append(table)
        for child in node.children:
            walk(child, query)

    walk(tree, None)
    return found


def _scoped(query: Node, table_id: str | None, site: str) -> bool:
    where = query.child("WHERE")
    return where is not None and any(
        _is_site(term, table_id, site) for term in _conjuncts(where.children[0])
    )


def _conjuncts(expression: Node) -> list[Node]:
    if expression.kind == "FUNCTION" and expression.field("function_name") == "and":
        return [term for arg in _arguments(expression) for term in _conjuncts(arg)]
    return [expression]


def _arguments(function: Node) -> list[Node]:
    arguments = function.child("ARGUMENTS")
    return arguments.children[0].children if arguments else []


def _is_site(term: Node, table_id: str | None, site: str) -> bool:
    if term.kind != "FUNCTION" or term.field("function_name") != "equals":
        return False
    sides = {(a.kind, a.field("column_name"), a.field("source_id")) for a in _arguments(term)}
    values = {a.field("constant_value") for a in _arguments(term) if a.kind == "CONSTANT"}
    return ("COLUMN", "site", table_id) in sides and values == {f"'{site}'"}


async def make_stats(  # type: ignore[no-untyped-def]
    settings, clock, aggregator, ch, redis_db, aiohttp_client, *, close: bool
):
    """The all-in-one app on a `Recording` ClickHouse, both sites with page views since
    June and today's; with `close`, every day until today closed (and runs of months),
    one of them again after a late page view."""
    recording = Recording(ch)
    clock.now_ms = DEC_2_UTC
    client = await aiohttp_client(all_in_one_app(settings, recording, clock=clock, aggregate=False))
    for site, timezone in SITES.items():
        response = await client.post(
            "/api/v1/sites", json={"domain": site, "timezone": timezone}, headers=AUTH
        )
        assert response.status == 201
        add_page_views(redis_db, site, PAGE_VIEWS, clock(), TITLES)
    await aggregator.drain()
    while close and await aggregator.close_due():
        pass
    clock.now_ms += 3 * 3_600_000
    for site in SITES:
        add_page_views(redis_db, site, [*TODAY, LATE], clock(), TITLES)
    await aggregator.drain()
    while close and await aggregator.close_due():
        pass
    # As if a retention had taken June's raw events before migration 0011 filled the
    # days' visitors: a period from before July has its visitors from the hours.
    ch.command(
        f"ALTER TABLE {tables.SITE_VISITORS} DELETE WHERE date < '2023-07-01' "
        "SETTINGS mutations_sync = 1"
    )
    return client, recording


@pytest.fixture
async def stats(settings, clock, aggregator, ch, redis_db, aiohttp_client):
    return await make_stats(settings, clock, aggregator, ch, redis_db, aiohttp_client, close=True)


@pytest.fixture
async def open_stats(settings, clock, aggregator, ch, redis_db, aiohttp_client):
    return await make_stats(settings, clock, aggregator, ch, redis_db, aiohttp_client, close=False)


async def sweep(stats, ch, calls) -> tuple[list[tuple], set[str]]:  # type: ignore[no-untyped-def]
    """Each call, then each statement it sent: ([(endpoint, query, table read unscoped)],
    every table read)."""
    client, recording = stats
    problems, read, explained = [], set(), {}
    for endpoint, query in calls:
        recording.calls.clear()
        response = await client.get(f"/api/v1/stats/{endpoint}", params=query, headers=AUTH)
        assert response.status == 200, (endpoint, query, await response.text())
        for sql, params in recording.calls:
            site = query["site_id"]
            if (sql, site) not in explained:
                tree = query_tree(ch, sql, params)
                explained[sql, site] = unscoped(tree, site)
                read |= tables_read(tree)
            problems += [(endpoint, query, table) for table in explained[sql, site]]
    return problems, read


async def test_every_query_the_stats_api_sends_reads_only_the_rows_of_the_call_s_site(
    stats, ch, monkeypatch
):
    problems, read = await sweep(stats, ch, every_call())
    # And as bench/dashboard.py asks them too, each read from raw events.
    for name in ("aggregate", "aggregate_compared", "timeseries", "breakdown", "articles",
                 "article_overview", "article_sources"):  # fmt: skip
        monkeypatch.setattr(queries, name, functools.partial(getattr(queries, name), raw=True))
    query = {"site_id": "news.example", "period": "7d"}
    raw_problems, _ = await sweep(
        stats, ch, site_calls(query) + breakdown_calls(query) + article_calls(query)
    )
    assert problems + raw_problems == []
    assert read - set(tables.RECORDS) == DASHBOARD_READS


async def test_a_query_built_without_the_scope_is_caught(open_stats, ch, monkeypatch):
    site_rows = scope.rows

    def forgetting(source: str, *conditions: str) -> str:
        if source != tables.SITE_HOURLY:
            return site_rows(source, *conditions)
        return f"{source} WHERE {' AND '.join(conditions) or '1'}"

    monkeypatch.setattr(scope, "rows", forgetting)
    calls = [
        ("aggregate", {"site_id": "news.example", "period": "7d", "metrics": "visitors,visits"})
    ]
    problems, _ = await sweep(open_stats, ch, calls)
    assert [table for _, _, table in problems] == [tables.SITE_HOURLY]


async def test_a_query_bound_to_another_site_is_caught(open_stats, ch, monkeypatch):
    async def elsewhere(self, sql, params):  # type: ignore[no-untyped-def]
        return await self.ch.query(sql, {**params, "site": "half.example"})

    monkeypatch.setattr(SiteScope, "query", elsewhere)
    calls = [("breakdown", {"site_id": "news.example", "period": "7d", "property": "event:page"})]
    problems, _ = await sweep(open_stats, ch, calls)
    assert problems and {table for _, _, table in problems} <= DASHBOARD_READS


class RecordingCommands(Recording):
    """A `Recording` that notes commands (the closings' inserts) too."""

    async def command(self, sql, parameters=None):  # type: ignore[no-untyped-def]
        self.calls.append((sql, dict(parameters or {})))
        return await super().command(sql, parameters)


async def test_every_statement_of_a_closing_reads_only_the_rows_of_its_site(
    add_site, clock, aggregator, ch, redis_db
):
    clock.now_ms = DEC_2_UTC
    for site, timezone in SITES.items():
        await add_site(site, timezone=timezone)
        add_page_views(redis_db, site, PAGE_VIEWS, clock(), TITLES)
    await aggregator.drain()
    recording = RecordingCommands(ch)
    site = "news.example"
    while await closing.close_due(recording, site, SITES[site], dt.date(2023, 12, 1)):
        pass
    await closing.close_runs(recording, site)
    read, problems = set(), []
    for sql, params in {sql: params for sql, params in recording.calls}.items():
        selected = re.sub(r"^INSERT INTO \w+ \([^)]*\) ", "", sql)  # what it inserts
        tree = query_tree(ch, selected, params)
        read |= tables_read(tree)
        problems += unscoped(tree, site)
    assert problems == []
    # The raw events too: the pages' and articles' paired counts (migration 0020).
    assert read == {tables.SITE_VISITORS, tables.BREAKDOWN_STATS, tables.ARTICLE_STATS,
                    tables.ARTICLE_SOURCES, tables.VISITS, tables.CLOSED_COUNTS,
                    tables.EVENTS}  # fmt: skip


UNSCOPED = {
    "no condition": ("SELECT count() FROM events", ["events"]),
    "another column": ("SELECT count() FROM events WHERE visitor_id = 1", ["events"]),
    "another site": ("SELECT count() FROM events WHERE site = 'half.example'", ["events"]),
    "either site": (
        "SELECT count() FROM events WHERE site = {site:String} OR site = 'half.example'",
        ["events"],
    ),
    "outside only": (
        "SELECT count() FROM (SELECT site FROM events) WHERE site = {site:String}",
        ["events"],
    ),
    "one branch of a union": (
        "SELECT date FROM site_visitors WHERE site = {site:String} "
        "UNION ALL SELECT date FROM closed_counts",
        ["closed_counts"],
    ),
    "the other side of a join": (
        "SELECT count() FROM events AS e INNER JOIN visits AS v USING (visitor_id) "
        "WHERE e.site = {site:String}",
        ["visits"],
    ),
    "in a subquery of a condition": (
        "SELECT count() FROM events WHERE site = {site:String} "
        "AND visitor_id IN (SELECT visitor_id FROM visits)",
        ["visits"],
    ),
    "a visits table not of the site": (
        "WITH period_visits AS (SELECT visitor_id, visit_start FROM events) SELECT count() "
        "FROM events INNER JOIN period_visits USING (visitor_id, visit_start) "
        "WHERE site = {site:String}",
        ["events"],
    ),
}


@pytest.mark.parametrize("case", UNSCOPED)
def test_the_check_finds_a_table_read_beyond_the_site(ch, case):
    sql, expected = UNSCOPED[case]
    assert unscoped(query_tree(ch, sql, {"site": "news.example"}), "news.example") == expected


def test_the_check_passes_each_table_read_under_the_site_in_any_place(ch):
    sql = (
        "WITH period_visits AS "
        "(SELECT visitor_id, visit_start FROM events WHERE site = {site:String}) "
        "SELECT count() FROM events INNER JOIN period_visits USING (visitor_id, visit_start) "
        "WHERE date > '2023-01-01' AND site = {site:String} AND visitor_id IN "
        "(SELECT visitor_id FROM visits FINAL WHERE site = {site:String}) "
        "UNION ALL SELECT (SELECT count() FROM site_hourly WHERE site = {site:String})"
    )
    assert unscoped(query_tree(ch, sql, {"site": "news.example"}), "news.example") == []


async def test_a_stats_query_that_reads_no_site_s_rows_is_refused(ch):
    with pytest.raises(UnscopedQuery):
        await SiteScope(AsyncClickHouse(ch), "news.example").query("SELECT count() FROM events", {})
