"""Stats queries: parameterized SQL over the rollups when they can answer, raw `events` else.

Every query is about one site (`site = {site:String}` is put here, in one
place) and one `DateRange` of site-local days; user input only ever enters as
server-side parameters (`{name:Type}`). Each function answers *quantities*
(see `metrics`), summed or merged per group; metrics are computed from them by
the caller.

Sources, first that can answer:

* `site_hourly` (UTC hours) for a site's totals and time series without
  filters, when the site's timezone is a whole number of hours off UTC, with their
  visitors from `site_visitors` (site-local days and months) over whole months;
* `breakdown_stats` (site-local days, and calendar months: the whole months of
  a period are read from its month rows) for breakdowns without filters of the
  properties it has, by visitors and visits (visit properties) or visitors and
  page views (pages);
* `visit_exits` (a row per visit) for breakdowns by exit page without filters,
  by visitors and visits;
* `article_stats` (site-local days and calendar months, read like `breakdown_stats`'s)
  for articles without filters, and `article_sources` for an article's sources;
* raw `events` otherwise. A raw query reads the period's event rows and, when
  it needs visits, a table of the period's visits made from the same rows (one
  row per visit: its entry properties, exit page, page views and duration),
  joined on (visitor_id, visit_start).

A page of a rollup's values sorted by a sum (page views, visits) picks its values
by that sum first, then merges the visitor states of those values only. Sorted
by visitors, over more than a week, it uses a bound: a value's visitors are at
most its page views (or visits) while its visitor state is exact (uniq keeps
every hash up to 65,536), so once the values with the most page views (twice as
many as the page asks for) give a threshold, only values with at least that many
page views (or too many for the bound) can be in the page, and only theirs are
merged. The answer is the same as merging every value's.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from dashboard.filters import Filter
from dashboard.metrics import (
    ARTICLE_STATS,
    PAGE_BREAKDOWN,
    QUANTITIES,
    SITE_HOURLY,
    VISIT_BREAKDOWN,
    VISIT_EXITS,
)
from dashboard.periods import DateRange
from dashboard.properties import PROPERTIES, Property
from footfall.connections import AsyncClickHouse

Row = dict[str, float]
T0 = "fromUnixTimestamp64Milli({t0:Int64}, 'UTC')"
T1 = "fromUnixTimestamp64Milli({t1:Int64}, 'UTC')"
EVENTS_IN_RANGE = (
    "site = {site:String} AND date BETWEEN {d0:Date} - 1 AND {d1:Date} + 1 "
    f"AND ts >= {T0} AND ts < {T1}"
)
# A visit that started in the period is read up to a day past its end: its later
# events add to its page views and duration (as the rollups add them).
VISITS_IN_RANGE = (
    "site = {site:String} AND date BETWEEN {d0:Date} - 1 AND {d1:Date} + 2 "
    f"AND visit_start >= {T0} AND visit_start < {T1} AND ts < {T1} + INTERVAL 1 DAY"
)
ENTRY_PAGE = PROPERTIES["visit:entry_page"]
BOUND_AFTER_DAYS = 7
"""Up to a week, one query merging every value's few states beats the bound's two queries
(measured with bench/dashboard.py: day breakdowns 29 against 60 ms)."""
PAGE = "LIMIT {limit:UInt32} OFFSET {offset:UInt32}"
FIRST_FETCH = 2
"""The bound's first query merges this many times the values asked for (see _top_by_bound)."""
DAY_ROWS = "span = 'day'"
MONTH_ROWS = "span = 'month'"
"""How `breakdown_stats`, `article_stats` and `site_visitors` tell their day and month rows
apart."""
EXACT_UNIQ = 65_536
"""uniq keeps every hash up to this many: its count is exact (collisions only lower it)."""


@dataclass(frozen=True)
class Selection:
    """What a query is about: a site's days, narrowed by filters or to one article."""

    site: str
    range: DateRange
    filters: tuple[Filter, ...] = ()

    @property
    def event_filters(self) -> list[Filter]:
        return [f for f in self.filters if not f.property.is_visit]

    @property
    def visit_filters(self) -> list[Filter]:
        return [f for f in self.filters if f.property.is_visit]

    def params(self) -> dict[str, object]:
        t0, t1 = self.range.utc_bounds_ms()
        return {
            "site": self.site,
            "tz": self.range.timezone,
            "t0": t0,
            "t1": t1,
            "d0": self.range.first,
            "d1": self.range.last,
        }


async def aggregate(
    ch: AsyncClickHouse, sel: Selection, quantities: list[str], *, raw: bool = False
) -> Row:
    """The quantities over the whole selection."""
    if not raw and _site_hourly_answers(sel, quantities):
        sql, params = await _site_rollups(ch, sel, quantities, None)
    else:
        sql, params = _raw(sel, quantities, _Group())
    rows = await _rows(ch, sql, params, quantities)
    return rows[0][1] if rows else dict.fromkeys(quantities, 0.0)


async def timeseries(
    ch: AsyncClickHouse, sel: Selection, quantities: list[str], interval: str, *, raw: bool = False
) -> dict[str, Row]:
    """The quantities per time bucket ("2023-11-15", "2023-11-15 13:00:00", "2023-11-01")."""
    if not raw and _site_hourly_answers(sel, quantities):
        sql, params = await _site_rollups(ch, sel, quantities, interval)
    else:
        group = _Group(events=_bucket("ts", interval), visits=_bucket("visit_start", interval))
        sql, params = _raw(sel, quantities, group)
    return dict(await _rows(ch, sql, params, quantities))


async def breakdown(
    ch: AsyncClickHouse,
    sel: Selection,
    prop: Property,
    quantities: list[str],
    *,
    order_by: str | None,
    limit: int | None,
    offset: int = 0,
    raw: bool = False,
) -> list[tuple[str, Row]]:
    """The quantities per value of `prop` (stored values: "" for none), ordered by the
    quantity `order_by` (descending, then by value) and paged in SQL; unordered when None."""
    table = _breakdown_rollup(sel, prop, quantities)
    if not raw and table:
        rows = _breakdown_rows(sel, prop, table)
        if order_by == "visitors" and limit is not None and sel.range.days > BOUND_AFTER_DAYS:
            exprs = _exprs(quantities, table)
            order = 1 + quantities.index("visitors")
            top = await _top_by_bound(ch, rows, exprs, order, offset + limit)
            return [(str(g), _numbers(rest, quantities)) for g, *rest in top[offset:]]
        values, params = None, rows.params
        if order_by not in (None, "visitors") and limit is not None:
            # A sum: the page of values is known before any visitor state is merged.
            # (By visitors over a week or less, one query merging every value's few
            # states is the fastest: day breakdowns 26-50 -> 12-25 ms, bench/dashboard.py.)
            values = _top_values(rows, QUANTITIES[order_by].rollups[table])
            params = params | {"n": offset + limit}
        sql = _grouped_rollup(rows, _exprs(quantities, table), values)
    else:
        sql, params = _raw(sel, quantities, _property_group(prop))
        if prop.empty is None:
            sql = f"SELECT * FROM ({sql}) WHERE g != ''"
    if order_by is not None:
        sql += f" ORDER BY q_{order_by} DESC, g ASC"
    if limit is not None:
        sql += f" {PAGE}"
        params |= {"limit": limit, "offset": offset}
    return await _rows(ch, sql, params, quantities)


ARTICLE_QUANTITIES = ["pageviews", "visits", "visitors", "engaged_ms"]
ARTICLE_ORDER = {
    "pageviews": "q_pageviews",
    "visits": "q_visits",
    "visitors": "q_visitors",
    # engaged_time is a mean per visitor: ordered by the same ratio, computed here.
    "engaged_time": "q_engaged_ms / greatest(q_visitors, 1)",
}


async def articles(
    ch: AsyncClickHouse,
    sel: Selection,
    *,
    sort: str,
    limit: int,
    offset: int,
    raw: bool = False,
) -> list[tuple[str, str, Row]]:
    """(article id, title, quantities) of the period's most read articles, by `sort`."""
    if raw or sel.filters:
        sql, params = _articles_raw(sel, "article_id", "article_id != ''")
    else:
        rows = _article_rows(sel, "article_id != ''")
        if sort in ("visitors", "visits") and sel.range.days > BOUND_AFTER_DAYS:
            # Both at most the page views (exact states): merged for the likely articles only.
            order = 2 + ARTICLE_QUANTITIES.index(sort)
            found = await _top_by_bound(ch, rows, ARTICLE_COLUMNS, order, offset + limit)
            return [(g, t, _numbers(rest, ARTICLE_QUANTITIES)) for g, t, *rest in found[offset:]]
        values, params = None, rows.params
        if sort == "pageviews":
            # A sum: the page of articles is known before any visitor state is merged.
            values = _top_values(rows, "sum(pageviews)")
            params = params | {"n": offset + limit}
        sql = _grouped_rollup(rows, ARTICLE_COLUMNS, values)
    sql += f" ORDER BY {ARTICLE_ORDER[sort]} DESC, g ASC {PAGE}"
    found = await ch.query(sql, params | {"limit": limit, "offset": offset})
    return [(g, title, _numbers(rest, ARTICLE_QUANTITIES)) for g, title, *rest in found]


async def article_totals(
    ch: AsyncClickHouse, sel: Selection, article: str, *, raw: bool = False
) -> tuple[str, Row]:
    """(title, quantities) of one article over the selection."""
    series = await _article_groups(ch, sel, article, "''", raw=raw, days_only=False)
    title, row = series.get("", ("", dict.fromkeys(ARTICLE_QUANTITIES, 0.0)))
    return title, row


async def article_series(
    ch: AsyncClickHouse, sel: Selection, article: str, interval: str, *, raw: bool = False
) -> dict[str, Row]:
    """The quantities of one article per time bucket; hours come from raw events."""
    raw = raw or interval == "hour"
    group = _bucket("ts", interval) if raw else _date_bucket("date", interval)
    series = await _article_groups(ch, sel, article, group, raw=raw, days_only=interval == "date")
    return {g: row for g, (_, row) in series.items()}


async def _article_groups(
    ch: AsyncClickHouse, sel: Selection, article: str, group: str, *, raw: bool, days_only: bool
) -> dict[str, tuple[str, Row]]:
    where = "article_id = {article:String}"
    if raw:
        sql, params = _articles_raw(sel, group, where)
    else:
        rows = _article_rows(sel, where, days_only=days_only)
        sql, params = _grouped_rollup(replace(rows, value=group), ARTICLE_COLUMNS), rows.params
    rows = await ch.query(sql, params | {"article": article})
    return {g: (title, _numbers(rest, ARTICLE_QUANTITIES)) for g, title, *rest in rows}


# The label `article_sources` stores (migration 0009 computes it the same way).
ARTICLE_SOURCE = (
    "if(source_name != '', source_name, if(source = 'internal', 'Internal', 'Direct / None'))"
)


async def article_sources(
    ch: AsyncClickHouse, sel: Selection, article: str, limit: int, *, raw: bool = False
) -> list[tuple[str, int, int]]:
    """(source, visitors, page views) of an article's page views, by where each came from."""
    params = sel.params() | {"article": article, "limit": limit}
    if raw:
        sql = (
            f"SELECT {ARTICLE_SOURCE} AS g, uniq(visitor_id) AS q_visitors, "
            f"count() AS q_pageviews FROM events WHERE {EVENTS_IN_RANGE} "
            "AND type = 'pageview' AND article_id = {article:String} GROUP BY g"
        )
    else:
        sql = (
            "SELECT source AS g, uniqMerge(visitors) AS q_visitors, sum(pageviews) AS q_pageviews "
            f"FROM article_sources WHERE {_spans(sel, params, DAY_ROWS, MONTH_ROWS)} "
            "AND article_id = {article:String} GROUP BY g"
        )
    sql += " ORDER BY q_visitors DESC, q_pageviews DESC, g ASC LIMIT {limit:UInt32}"
    rows = await ch.query(sql, params)
    return [(g, int(v), int(p)) for g, v, p in rows]


# Sources --------------------------------------------------------------------


def _site_hourly_answers(sel: Selection, quantities: list[str]) -> bool:
    return (
        not sel.filters
        and sel.range.whole_hour_offsets()
        and all(SITE_HOURLY in QUANTITIES[q].rollups for q in quantities)
    )


def _breakdown_rollup(sel: Selection, prop: Property, quantities: list[str]) -> str | None:
    if sel.filters or prop.rollup is None:
        return None
    if prop.name == "visit:exit_page":
        table = VISIT_EXITS
    else:
        table = PAGE_BREAKDOWN if prop.name == "event:page" else VISIT_BREAKDOWN
    return table if all(table in QUANTITIES[q].rollups for q in quantities) else None


async def _site_rollups(
    ch: AsyncClickHouse, sel: Selection, quantities: list[str], interval: str | None
) -> tuple[str, dict[str, object]]:
    """`site_hourly`'s sums per bucket (None: one total), with the visitors of `site_visitors`'
    months (and the days around them) when the selection has whole months and they can be
    read there (see `_visitors_by_day`). Without a whole month, hours cost less than the
    check and the join (bench/dashboard.py: 7d and 30d cards and chart 15-55 ms slower)."""
    sql, params = _site_hourly(sel, quantities, interval)
    whole_months, _ = sel.range.months_and_days()
    if "visitors" not in quantities or interval not in (None, "month") or not whole_months:
        return sql, params
    if not await _visitors_by_day(ch, sel):
        return sql, params
    days = _spans(sel, params, DAY_ROWS, MONTH_ROWS)
    group = _date_bucket("date", interval) if interval else "''"
    visitors = (
        f"SELECT {group} AS g, uniqMerge(visitors) AS q_visitors FROM site_visitors "
        f"WHERE {days} GROUP BY g"
    )
    others = [q for q in quantities if q != "visitors"]
    if not others:
        return visitors, params
    sums, _ = _site_hourly(sel, others, interval)
    columns = ", ".join(f"q_{q}" for q in quantities)
    joined = f"({sums}) AS s FULL OUTER JOIN ({visitors}) AS v USING (g)"
    return f"SELECT g, {columns} FROM {joined}", params


_VISITORS_BY_DAY: set[str] = set()
"""Sites whose `site_visitors` rows reach back as far as their hours. Once true it stays
true (both tables get every insert from then on), so it is asked once per process."""


async def _visitors_by_day(ch: AsyncClickHouse, sel: Selection) -> bool:
    """Whether `site_visitors` has the selection's visitors: its rows reach back as far as
    `site_hourly`'s, or the selection starts after their first day (migration 0011 filled
    them from the raw events there were)."""
    if sel.site in _VISITORS_BY_DAY:
        return True
    ((first_day, first_hour),) = await ch.query(
        "SELECT (SELECT minOrNull(date) FROM site_visitors WHERE site = {site:String} "
        f"AND {DAY_ROWS}), (SELECT toDate(minOrNull(hour), {{tz:String}}) FROM site_hourly "
        "WHERE site = {site:String})",
        {"site": sel.site, "tz": sel.range.timezone},
    )
    if first_hour is None or (first_day is not None and first_day <= first_hour):
        _VISITORS_BY_DAY.add(sel.site)
        return True
    return first_day is not None and sel.range.first > first_day


def _site_hourly(
    sel: Selection, quantities: list[str], interval: str | None
) -> tuple[str, dict[str, object]]:
    group = _bucket("hour", interval) if interval else "''"
    sql = (
        f"SELECT {group} AS g, {_exprs(quantities, SITE_HOURLY)} FROM site_hourly "
        f"WHERE site = {{site:String}} AND hour >= {T0} AND hour < {T1} GROUP BY g"
    )
    return sql, sel.params()


@dataclass(frozen=True)
class _Rows:
    """A breakdown's rows in a rollup: read `FROM table WHERE where`, grouped by `value`;
    `bound` is a cheap sum over a value's rows, at least its visitors (see above)."""

    table: str
    where: str
    value: str
    bound: str
    params: dict[str, object]


BOUNDS = {PAGE_BREAKDOWN: "sum(pageviews)", VISIT_BREAKDOWN: "sum(visits)", VISIT_EXITS: "count()"}


def _breakdown_rows(sel: Selection, prop: Property, table: str) -> _Rows:
    params = sel.params()
    if table == VISIT_EXITS:
        where = f"site = {{site:String}} AND visit_start >= {T0} AND visit_start < {T1}"
        rows = _Rows("visit_exits FINAL", where, "path", BOUNDS[table], params)
    else:
        where = _days_and_months(sel, prop, params)
        rows = _Rows("breakdown_stats", where, "value", BOUNDS[table], params)
    if prop.empty is None:
        rows = replace(rows, where=f"{rows.where} AND {rows.value} != ''")
    return rows


def _days_and_months(sel: Selection, prop: Property, params: dict[str, object]) -> str:
    """`breakdown_stats`' rows of the period for `prop`."""
    assert prop.rollup is not None
    params["property"] = prop.rollup
    return _spans(
        sel,
        params,
        f"property = {{property:String}} AND {DAY_ROWS}",
        f"property = {{property:String}} AND {MONTH_ROWS}",
    )


def _spans(sel: Selection, params: dict[str, object], days: str, months: str) -> str:
    """The site's rows of the period in a rollup with day and month rows (told apart by the
    conditions `days` and `months`): month rows for its whole months, day rows for the days
    around them."""
    whole_months, around = sel.range.months_and_days()
    spans = []
    if around:
        between = []
        for n, (first, last) in enumerate(around):
            params |= {f"first{n}": first, f"last{n}": last}
            between.append(f"date BETWEEN {{first{n}:Date}} AND {{last{n}:Date}}")
        spans.append(f"({days} AND ({' OR '.join(between)}))")
    if whole_months:
        params |= {"first_month": whole_months[0], "last_month": whole_months[1]}
        spans.append(f"({months} AND date BETWEEN {{first_month:Date}} AND {{last_month:Date}})")
    return f"site = {{site:String}} AND ({' OR '.join(spans)})"


def _grouped_rollup(rows: _Rows, columns: str, values: str | None = None) -> str:
    where = f"{rows.where} AND {rows.value} IN ({values})" if values else rows.where
    return f"SELECT {rows.value} AS g, {columns} FROM {rows.table} WHERE {where} GROUP BY g"


def _top_values(rows: _Rows, by: str) -> str:
    """The values with the largest sum `by` (then first by value), `{n:UInt32}` of them."""
    return (
        f"SELECT {rows.value} FROM {rows.table} WHERE {rows.where} GROUP BY {rows.value} "
        f"ORDER BY {by} DESC, {rows.value} ASC LIMIT {{n:UInt32}}"
    )


async def _top_by_bound(
    ch: AsyncClickHouse, rows: _Rows, columns: str, order: int, n: int
) -> list[tuple]:
    """Rows (g, *columns) of the `n` values with the largest column number `order` (a
    count at most `rows.bound` while exact), then first by value: exactly those that
    merging every value's states would give, in that order."""
    # Twice the page at first: the properties with a few values (sources, countries,
    # devices) are then merged whole, and for the others the value after them is most
    # often below the threshold: no second look (measured: bench/dashboard.py).
    fetched = FIRST_FETCH * n
    bounds = await ch.query(
        f"SELECT {rows.value}, {rows.bound} AS bound FROM {rows.table} WHERE {rows.where} "
        f"GROUP BY {rows.value} ORDER BY bound DESC, {rows.value} ASC LIMIT {{n:UInt32}}",
        rows.params | {"n": fetched + 1},
    )
    values = [value for value, _ in bounds[:fetched]]
    top = await ch.query(
        f"SELECT {rows.value} AS g, {columns} FROM {rows.table} WHERE {rows.where} "
        f"AND {rows.value} IN {{values:Array(String)}} GROUP BY g",
        rows.params | {"values": values},
    )
    top.sort(key=lambda row: (-row[order], row[0]))
    if len(bounds) > fetched:
        # Values beyond those: in the page only if their bound reaches its last one's count.
        threshold = top[n - 1][order]
        next_bound = bounds[fetched][1]
        if next_bound >= threshold or next_bound > EXACT_UNIQ:
            candidates = (
                f"SELECT {rows.value} FROM {rows.table} WHERE {rows.where} "
                f"AND {rows.value} NOT IN {{seen:Array(String)}} GROUP BY {rows.value} "
                f"HAVING {rows.bound} >= {{threshold:UInt64}} OR {rows.bound} > {EXACT_UNIQ}"
            )
            more = rows.params | {"threshold": threshold, "seen": values}
            top += await ch.query(_grouped_rollup(rows, columns, candidates), more)
            top.sort(key=lambda row: (-row[order], row[0]))
    return top[:n]


def _article_rows(sel: Selection, where: str, *, days_only: bool = False) -> _Rows:
    """`article_stats`' rows of the period that pass `where`, by article; `days_only` for a
    series by day."""
    params = sel.params()
    if days_only:
        days = "date BETWEEN {d0:Date} AND {d1:Date}"
        spans = f"site = {{site:String}} AND {DAY_ROWS} AND {days}"
    else:
        spans = _spans(sel, params, DAY_ROWS, MONTH_ROWS)
    return _Rows("article_stats", f"{spans} AND {where}", "article_id", "sum(pageviews)", params)


def _articles_raw(sel: Selection, group: str, where: str) -> tuple[str, dict[str, object]]:
    params = sel.params()
    exprs = ", ".join(f"{QUANTITIES[q].raw(on_pages=True)[1]} AS q_{q}" for q in ARTICLE_QUANTITIES)
    conditions = [EVENTS_IN_RANGE, where]
    conditions += [f.condition(f.property.column, params) for f in sel.event_filters]
    with_visits, source = "", "events"
    if sel.visit_filters:
        props = {f.property for f in sel.visit_filters}
        with_visits = f"WITH visits AS ({_visits(sel, props, params)}) "
        source = "events INNER JOIN visits USING (visitor_id, visit_start)"
    sql = (
        f"{with_visits}SELECT {group} AS g, "
        f"argMaxIf(title, ts, type = 'pageview' AND title != '') AS title, {exprs} "
        f"FROM {source} WHERE {' AND '.join(conditions)} GROUP BY g"
    )
    return sql, params


def _exprs(quantities: list[str], source: str) -> str:
    return ", ".join(f"{QUANTITIES[q].rollups[source]} AS q_{q}" for q in quantities)


ARTICLE_COLUMNS = f"argMaxMerge(title) AS title, {_exprs(ARTICLE_QUANTITIES, ARTICLE_STATS)}"


def _bucket(column: str, interval: str | None) -> str:
    if interval == "hour":
        return f"formatDateTime(toTimeZone({column}, {{tz:String}}), '%Y-%m-%d %H:00:00')"
    return _date_bucket(f"toDate({column}, {{tz:String}})", interval)


def _date_bucket(date: str, interval: str | None) -> str:
    return f"toString(toStartOfMonth({date}))" if interval == "month" else f"toString({date})"


# Raw events ------------------------------------------------------------------


@dataclass(frozen=True)
class _Group:
    """How a raw query groups its event rows and its visits (None: one total)."""

    events: str = "''"
    visits: str = "''"
    property: Property | None = None


def _property_group(prop: Property) -> _Group:
    if prop.is_visit:
        return _Group(prop.alias, prop.alias, prop)
    # By page: visits, bounces and durations are those of the visits entering on it.
    return _Group(prop.column, ENTRY_PAGE.alias, prop)


def _raw(sel: Selection, quantities: list[str], group: _Group) -> tuple[str, dict[str, object]]:
    params = sel.params()
    on_pages = group.property is not None and group.property.name == "event:page"
    on_pages = on_pages or any(f.property.name == "event:page" for f in sel.filters)
    levels: dict[str, list[str]] = {"events": [], "visits": []}
    for q in quantities:
        level, sql = QUANTITIES[q].raw(on_pages)
        levels[level].append(f"{sql} AS q_{q}")

    visit_props = {f.property for f in sel.visit_filters}
    if group.property is not None:
        visit_props.add(group.property if group.property.is_visit else ENTRY_PAGE)
    by_visit = group.property is not None and group.property.is_visit
    join_visits = bool(sel.visit_filters) or by_visit
    with_visits = ""
    if join_visits or levels["visits"]:
        with_visits = f"WITH visits AS ({_visits(sel, visit_props, params)}) "

    parts = []
    if levels["events"]:
        parts.append(_event_rows(sel, group.events, levels["events"], join_visits, params))
    if levels["visits"]:
        parts.append(_grouped("visits", group.visits, levels["visits"], "1"))
    columns = ", ".join(["g", *(f"q_{q}" for q in quantities)])
    if len(parts) == 1:
        return f"{with_visits}SELECT {columns} FROM ({parts[0]})", params
    joined = f"({parts[0]}) AS e FULL OUTER JOIN ({parts[1]}) AS v USING (g)"
    return f"{with_visits}SELECT {columns} FROM {joined}", params


def _visits(sel: Selection, props: set[Property], params: dict[str, object]) -> str:
    """One row per visit that started in the period and passes the filters."""
    columns = "".join(f"{p.visit_sql} AS {p.alias}, " for p in sorted(props, key=lambda p: p.name))
    having = [f.condition(f.property.alias, params) for f in sel.visit_filters]
    if sel.event_filters:
        matched = " AND ".join(f.condition(f.property.column, params) for f in sel.event_filters)
        having.append(f"countIf(type != 'engagement' AND {matched}) > 0")
    return (
        f"SELECT visitor_id, visit_start, {columns}"
        "countIf(type = 'pageview') AS v_pageviews, sum(duration_ms) AS v_duration_ms "
        f"FROM events WHERE {VISITS_IN_RANGE} GROUP BY visitor_id, visit_start "
        f"HAVING {' AND '.join(having) or '1'}"
    )


def _event_rows(
    sel: Selection,
    group: str,
    exprs: list[str],
    join_visits: bool,
    params: dict[str, object],
) -> str:
    conditions = [EVENTS_IN_RANGE]
    conditions += [f.condition(f.property.column, params) for f in sel.event_filters]
    source = "events INNER JOIN visits USING (visitor_id, visit_start)" if join_visits else "events"
    return _grouped(source, group, exprs, " AND ".join(conditions))


def _grouped(source: str, group: str, exprs: list[str], where: str) -> str:
    return f"SELECT {group} AS g, {', '.join(exprs)} FROM {source} WHERE {where} GROUP BY g"


async def _rows(
    ch: AsyncClickHouse, sql: str, params: dict[str, object], quantities: list[str]
) -> list[tuple[str, Row]]:
    """Rows of (g, q_... in the order of `quantities`) as (group, {quantity: number})."""
    return [(str(g), _numbers(rest, quantities)) for g, *rest in await ch.query(sql, params)]


def _numbers(values: list, quantities: list[str]) -> Row:
    return {q: float(v or 0) for q, v in zip(quantities, values, strict=True)}
