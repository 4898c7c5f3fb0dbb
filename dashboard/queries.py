"""Stats queries: parameterized SQL over the rollups when they can answer, raw `events` else.

Every query is about one site (`site = {site:String}` is put here, in one
place) and one `DateRange` of site-local days; user input only ever enters as
server-side parameters (`{name:Type}`). Each function answers *quantities*
(see `metrics`), summed or merged per group; metrics are computed from them by
the caller.

Sources, first that can answer:

* `site_hourly` (UTC hours) for a site's totals and time series without
  filters, when the site's timezone is a whole number of hours off UTC, with their
  visitors summed over days (`site_visitors`' per site-local day);
* `breakdown_stats` (per site-local day) for breakdowns without filters of the
  properties it has, by visitors and visits (visit properties) or visitors and
  page views (pages);
* `visit_exits` (a row per visit) for breakdowns by exit page without filters,
  by visitors and visits;
* `article_stats` (per site-local day) for articles without filters, the period's
  top ones looked for first in each closed day's and span's list of its top articles
  (`top_articles`), and `article_sources` for an article's sources;
* raw `events` otherwise. A raw query reads the period's event rows and, when
  it needs visits, a table of the period's visits made from the same rows (one
  row per visit: its entry properties, exit page, page views and duration),
  joined on (visitor_id, visit_start).

From a rollup, the closed days of a period (and its closed whole weeks, months and
quarters) are read from their counts, and only the open days (today, mostly) from
the rollup's rows (`closed_days`). Distinct counts (visitors; an article's visits) are counted per
site-local day and summed, from the rollups as from raw events: a raw query
groups by day too, then sums.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import weakref
from dataclasses import dataclass

from dashboard import closed_days, top_articles
from dashboard.closed_days import Counted, Counts, Rollup
from dashboard.filters import Filter
from dashboard.metrics import (
    ARTICLE_SOURCES,
    ARTICLE_STATS,
    PAGE_BREAKDOWN,
    QUANTITIES,
    SITE_HOURLY,
    VISIT_BREAKDOWN,
    VISIT_EXITS,
)
from dashboard.periods import DateRange
from dashboard.properties import PROPERTIES, Property
from footfall import closed_counts
from footfall.closed_counts import span_end
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
PAGE = "LIMIT {limit:UInt32} OFFSET {offset:UInt32}"
EVENT_DAY = "toDate(ts, {tz:String})"
VISIT_DAY = "toDate(visit_start, {tz:String})"
DAY_ROWS = "span = 'day'"
"""The day rows of `breakdown_stats`, `article_stats`, `article_sources` and `site_visitors`
(their month rows are gone since migration 0014)."""


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


async def aggregate_compared(
    ch: AsyncClickHouse,
    sel: Selection,
    previous: DateRange,
    quantities: list[str],
    *,
    raw: bool = False,
) -> tuple[Row, Row]:
    """The quantities over the whole selection, and over `previous`, the days just before
    it: from the rollups in one query over both; from raw events (filters), one each."""
    both = dataclasses.replace(sel, range=previous.until(sel.range.last))
    if raw or not _site_hourly_answers(both, quantities):
        now = await aggregate(ch, sel, quantities, raw=raw)
        earlier = dataclasses.replace(sel, range=previous)
        return now, await aggregate(ch, earlier, quantities, raw=raw)
    sql, params = await _site_rollups(ch, both, quantities, None, since=sel.range.first)
    rows = dict(await _rows(ch, sql, params, quantities))
    empty = dict.fromkeys(quantities, 0.0)
    return rows.get("", empty), rows.get(PREVIOUS, empty)


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
    if not raw and table == VISIT_EXITS:
        params = sel.params()
        open_days = (
            "visit_start >= toDateTime({open_first:Date}, {tz:String}) "
            "AND visit_start < toDateTime({open_last:Date} + 1, {tz:String})"
        )
        counts = Counts(closed_counts.EXIT_PAGE, "value")
        rollup = Rollup("visit_exits FINAL", "path", open_days, VISIT_DAY)
        parts = await _by_day(ch, sel, _counted(quantities, table), params, counts, rollup)
        sql = _summed(parts, quantities)
    elif not raw and table:
        assert prop.rollup is not None
        params = sel.params() | {"property": prop.rollup}
        valued = "value != ''" if prop.empty is None else "1"
        counts = Counts(prop.rollup, "value", valued)
        where = f"{DAY_ROWS} AND property = {{property:String}} AND {valued}"
        rollup = Rollup("breakdown_stats", "value", where)
        parts = await _by_day(ch, sel, _counted(quantities, table), params, counts, rollup)
        sql = _summed(parts, quantities)
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
    "pageviews": ("q_pageviews", ["pageviews"]),
    "visits": ("q_visits", ["visits"]),
    "visitors": ("q_visitors", ["visitors"]),
    # engaged_time is a mean per visitor: ordered by the same ratio, computed here.
    "engaged_time": ("q_engaged_ms / greatest(q_visitors, 1)", ["engaged_ms", "visitors"]),
}
"""Per sort: the SQL articles are ordered by, and the quantities it needs."""
ARTICLE_DAYS = Rollup("article_stats", "article_id", f"{DAY_ROWS} AND article_id != ''")
"""Every article's rows of the open days."""


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
    order, needs = ARTICLE_ORDER[sort]
    if raw or sel.filters:
        sql, params = _articles_raw(sel, "article_id", "article_id != ''")
        sql += f" ORDER BY {order} DESC, g ASC {PAGE}"
        found = await ch.query(sql, params | {"limit": limit, "offset": offset})
        return [(g, title, _numbers(rest, ARTICLE_QUANTITIES)) for g, title, *rest in found]
    if sort in top_articles.SORTS and offset + limit <= closed_counts.TOP:
        found = await _listed_articles(ch, sel, sort, limit=limit, offset=offset)
        if found is not None:
            return found
    # The page of articles first, from what its order needs of every article (by page
    # views, a sum of one column), then the page's own numbers and titles.
    params = sel.params()
    counts = Counts(closed_counts.ARTICLES, "value")
    parts = await _by_day(ch, sel, _counted(needs, ARTICLE_STATS), params, counts, ARTICLE_DAYS)
    sql = f"{_summed(parts, needs)} ORDER BY {order} DESC, g ASC {PAGE}"
    page = [g for g, *_ in await ch.query(sql, params | {"limit": limit, "offset": offset})]
    if not page:
        return []
    found = await _numbers_of_articles(ch, sel, page)
    return [(g, *found[g]) for g in page]


async def _listed_articles(
    ch: AsyncClickHouse, sel: Selection, sort: str, *, limit: int, offset: int
) -> list[tuple[str, str, Row]] | None:
    """`articles` from the lists of top articles (see dashboard/top_articles.py), or None
    if they cannot tell."""
    params = sel.params()
    parts = closed_days.split(await closed_days.known(ch, sel.site), sel.range)
    numbers = _counted(ARTICLE_QUANTITIES, ARTICLE_STATS)
    (counted,) = _counted([sort], ARTICLE_STATS)
    sql = top_articles.lists_sql(parts, counted, numbers, params, ARTICLE_DAYS)
    rows = await ch.query(sql, params)
    candidates = top_articles.candidates(top_articles.lists_of(rows), offset + limit)
    if not candidates.first:
        return None
    closed = top_articles.closed_numbers(rows, parts, candidates.first, ARTICLE_QUANTITIES)
    found = None
    if closed is not None:
        found = await _with_open_numbers(ch, sel, parts, closed)
    if found is None:
        found = await _numbers_of_articles(ch, sel, candidates.first)
    ranked = candidates.ranked({g: row[sort] for g, (_, row) in found.items()})
    if ranked is None:
        return None
    return [(g, *found[g]) for g in ranked[offset:]]


IN_ARTICLES = ("key IN {articles:Array(String)}", "article_id IN {articles:Array(String)}")
"""Of the articles `{articles}`: their counts (by `key`), their `article_stats` rows."""


async def _with_open_numbers(
    ch: AsyncClickHouse, sel: Selection, parts: closed_days.Split, closed: dict[str, Row]
) -> dict[str, tuple[str, Row]] | None:
    """{g: (title, quantities)} of the articles of `closed` (their numbers over the closed
    days of `parts`): those numbers plus their open days', and their latest title on an
    open day; None if an article has no title there, or had it before a closed day (it
    may have another since)."""
    params = sel.params() | {"articles": list(closed)}
    rollup = Rollup("article_stats", "article_id", f"{DAY_ROWS} AND {IN_ARTICLES[1]}")
    counted = _counted(ARTICLE_QUANTITIES, ARTICLE_STATS)
    sums = ", ".join(f"sum(q_{q}) AS q_{q}" for q in ARTICLE_QUANTITIES)
    sql = (
        "SELECT g, argMaxIf(t_title, t_day, t_title != '') AS title, "
        f"maxIf(t_day, t_title != '') AS titled_on, {sums} "
        f"FROM ({closed_days.open_sql(parts, counted, params, rollup, titled=True)}) GROUP BY g"
    )
    ends = [*parts.days, *(span_end(span, start) for span, start in parts.spans)]
    closed_until = max(ends, default=dt.date.min)
    found = {}
    for g, title, titled_on, *rest in await ch.query(sql, params):
        if not title or titled_on < closed_until:
            return None
        opened = _numbers(rest, ARTICLE_QUANTITIES)
        found[g] = (title, {q: closed[g][q] + opened[q] for q in ARTICLE_QUANTITIES})
    return found if len(found) == len(closed) else None


async def _numbers_of_articles(
    ch: AsyncClickHouse, sel: Selection, page: list[str]
) -> dict[str, tuple[str, Row]]:
    return await _article_numbers(ch, sel, ("key", "article_id"), IN_ARTICLES, {"articles": page})


async def article_totals(
    ch: AsyncClickHouse, sel: Selection, article: str, *, raw: bool = False
) -> tuple[str, Row]:
    """(title, quantities) of one article over the selection."""
    series = await _article_groups(ch, sel, article, "''", raw=raw, interval=None)
    title, row = series.get("", ("", dict.fromkeys(ARTICLE_QUANTITIES, 0.0)))
    return title, row


async def article_series(
    ch: AsyncClickHouse, sel: Selection, article: str, interval: str, *, raw: bool = False
) -> dict[str, Row]:
    """The quantities of one article per time bucket; hours come from raw events."""
    raw = raw or interval == "hour"
    group = _bucket("ts", interval) if raw else _date_bucket("date", interval)
    series = await _article_groups(ch, sel, article, group, raw=raw, interval=interval)
    return {g: row for g, (_, row) in series.items()}


async def article_overview(
    ch: AsyncClickHouse, sel: Selection, article: str, interval: str, *, raw: bool = False
) -> tuple[str, Row, dict[str, Row]]:
    """(title, totals, series) of one article. By day or month from the rollups, the totals
    are the series' sums (every quantity adds up over days): one query less."""
    if raw or interval == "hour":
        title, totals = await article_totals(ch, sel, article, raw=raw)
        return title, totals, await article_series(ch, sel, article, interval, raw=raw)
    group = _date_bucket("date", interval)
    series = await _article_groups(ch, sel, article, group, raw=False, interval=interval)
    totals = {q: sum(row[q] for _, row in series.values()) for q in ARTICLE_QUANTITIES}
    titled = sorted((g, title) for g, (title, _) in series.items() if title)
    title = titled[-1][1] if titled else ""
    return title, totals, {g: row for g, (_, row) in series.items()}


async def _article_groups(
    ch: AsyncClickHouse,
    sel: Selection,
    article: str,
    group: str,
    *,
    raw: bool,
    interval: str | None,
) -> dict[str, tuple[str, Row]]:
    if not raw:
        where = ("key = {article:String}", "article_id = {article:String}")
        return await _article_numbers(
            ch, sel, (group, group), where, {"article": article}, interval=interval
        )
    sql, params = _articles_raw(sel, group, "article_id = {article:String}")
    rows = await ch.query(sql, params | {"article": article})
    return {g: (title, _numbers(rest, ARTICLE_QUANTITIES)) for g, title, *rest in rows}


async def _article_numbers(
    ch: AsyncClickHouse,
    sel: Selection,
    groups: tuple[str, str],
    where: tuple[str, str],
    values: dict[str, object],
    *,
    interval: str | None = None,
) -> dict[str, tuple[str, Row]]:
    """{g: (title, quantities)} of the articles that pass `where`, a condition on their
    counts (by `key`) and one on their `article_stats` rows (by `article_id`), with the
    parameters `values`; `groups`: g over each, per `interval` bucket (None: in all)."""
    params = sel.params() | values
    counts = Counts(closed_counts.ARTICLE, groups[0], where[0])
    rollup = Rollup("article_stats", groups[1], f"{DAY_ROWS} AND {where[1]}")
    counted = _counted(ARTICLE_QUANTITIES, ARTICLE_STATS)
    parts = await _by_day(ch, sel, counted, params, counts, rollup, interval=interval, titled=True)
    rows = await ch.query(_summed(parts, ["title", *ARTICLE_QUANTITIES]), params)
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
    where = "article_id = {article:String}"
    if raw:
        exprs = [("visitors", "uniq(visitor_id)"), ("pageviews", "count()")]
        where = f"{EVENTS_IN_RANGE} AND type = 'pageview' AND {where}"
        sql = _grouped("events", ARTICLE_SOURCE, exprs, where, EVENT_DAY)
    else:
        counted = _counted(["visitors", "pageviews"], ARTICLE_SOURCES)
        counts = Counts(closed_counts.ARTICLE_SOURCE, "value", "key = {article:String}")
        rollup = Rollup("article_sources", "source", f"{DAY_ROWS} AND {where}")
        sql = _summed(
            await _by_day(ch, sel, counted, params, counts, rollup), ["visitors", "pageviews"]
        )
    sql += " ORDER BY q_visitors DESC, q_pageviews DESC, g ASC LIMIT {limit:UInt32}"
    rows = await ch.query(sql, params)
    return [(g, int(v), int(p)) for g, v, p in rows]


# Sources --------------------------------------------------------------------


def _site_hourly_answers(sel: Selection, quantities: list[str]) -> bool:
    return (
        not sel.filters
        and sel.range.whole_hour_offsets()
        and all(QUANTITIES[q].answers(SITE_HOURLY) for q in quantities)
    )


def _breakdown_rollup(sel: Selection, prop: Property, quantities: list[str]) -> str | None:
    if sel.filters or prop.rollup is None:
        return None
    if prop.name == "visit:exit_page":
        table = VISIT_EXITS
    else:
        table = PAGE_BREAKDOWN if prop.name == "event:page" else VISIT_BREAKDOWN
    return table if all(QUANTITIES[q].answers(table) for q in quantities) else None


async def _site_rollups(
    ch: AsyncClickHouse,
    sel: Selection,
    quantities: list[str],
    interval: str | None,
    *,
    since: dt.date | None = None,
) -> tuple[str, dict[str, object]]:
    """`site_hourly`'s sums per bucket (None: one total), with visitors summed over days:
    from the counts and `site_visitors`' states when it has the selection's days (see
    `_visitors_by_day`), else from `site_hourly`'s hours (each hour's state, per day).
    Within one day, its hours' states merged in the same query as the sums are the
    day's visitors. With `since` (and no interval), two totals: `PREVIOUS`, of the days
    before it, and '', of the others."""
    params = sel.params()
    if since is None:
        hours = _bucket("hour", interval) if interval else "''"
        days = _date_bucket("date", interval) if interval else "''"
    else:
        params["since"] = since
        hours, days = _before_since("toDate(hour, {tz:String})"), _before_since("date")
    if "visitors" not in quantities or interval == "hour" or sel.range.days == 1:
        return _site_hourly(quantities, hours), params
    sums = [q for q in quantities if q != "visitors"]
    parts = [(_site_hourly(sums, hours), sums)] if sums else []
    if await _visitors_by_day(ch, sel):
        counted = _counted(["visitors"], SITE_HOURLY)
        counts = Counts(closed_counts.SITE, days)
        rollup = Rollup("site_visitors", days, DAY_ROWS)
        parts += await _by_day(
            ch, sel, counted, params, counts, rollup, interval=interval, since=since
        )
    else:
        where = f"site = {{site:String}} AND hour >= {T0} AND hour < {T1}"
        exprs = [("visitors", QUANTITIES["visitors"].daily[SITE_HOURLY])]
        day = "toDate(hour, {tz:String})"
        parts.append((_grouped("site_hourly", hours, exprs, where, day), ["visitors"]))
    return _summed(parts, quantities), params


PREVIOUS = "previous"


def _before_since(date: str) -> str:
    """`PREVIOUS` for a `date` before `{since:Date}`, else ''."""
    return f"if({date} < {{since:Date}}, '{PREVIOUS}', '')"


_VISITORS_BY_DAY: weakref.WeakKeyDictionary[AsyncClickHouse, set[str]] = weakref.WeakKeyDictionary()
"""Per database connection, the sites whose `site_visitors` rows reach back as far as their
hours. Once true it stays true (both tables get every insert from then on), so it is asked
once per connection."""


async def _visitors_by_day(ch: AsyncClickHouse, sel: Selection) -> bool:
    """Whether `site_visitors` has the selection's visitors: its rows reach back as far as
    `site_hourly`'s, or the selection starts after their first day (migration 0011 filled
    them from the raw events there were)."""
    covered = _VISITORS_BY_DAY.setdefault(ch, set())
    if sel.site in covered:
        return True
    ((first_day, first_hour),) = await ch.query(
        "SELECT (SELECT minOrNull(date) FROM site_visitors WHERE site = {site:String} "
        f"AND {DAY_ROWS}), (SELECT toDate(minOrNull(hour), {{tz:String}}) FROM site_hourly "
        "WHERE site = {site:String})",
        {"site": sel.site, "tz": sel.range.timezone},
    )
    if first_hour is None or (first_day is not None and first_day <= first_hour):
        covered.add(sel.site)
        return True
    return first_day is not None and sel.range.first > first_day


def _site_hourly(quantities: list[str], group: str) -> str:
    """Sums per `group` of `site_hourly`'s hours; visitors only by hour or within one day
    (an hour's are of one day)."""
    exprs = ", ".join(f"{QUANTITIES[q].of_day(SITE_HOURLY)} AS q_{q}" for q in quantities)
    return (
        f"SELECT {group} AS g, {exprs} FROM site_hourly "
        f"WHERE site = {{site:String}} AND hour >= {T0} AND hour < {T1} GROUP BY g"
    )


async def _by_day(
    ch: AsyncClickHouse,
    sel: Selection,
    counted: list[Counted],
    params: dict[str, object],
    counts: Counts,
    rollup: Rollup,
    *,
    interval: str | None = None,
    since: dt.date | None = None,
    titled: bool = False,
) -> list[tuple[str, list[str]]]:
    """Parts for `_summed`: the `counted` quantities (and with `titled`, the title) over
    the selection's days, from the `counts` of its closed days and the `rollup`'s rows of
    the others (see `closed_days.counted_sql`), grouped by `interval` buckets (None: in
    all), or the days before `since` apart, or by what they group by within those."""
    known = await closed_days.known(ch, sel.site)
    parts = closed_days.split(known, sel.range, interval=interval, since=since)
    sqls = closed_days.counted_sql(parts, counted, params, counts, rollup, titled=titled)
    columns = (["title"] if titled else []) + [c.quantity for c in counted]
    return [(sql, columns) for sql in sqls]


def _counted(quantities: list[str], rollup: str) -> list[Counted]:
    """The quantities as closed days hold them (every one of `closed_counts.QUANTITIES`
    that the rollup answers), with their SQL over an open day's rows of the rollup."""
    return [Counted(q, QUANTITIES[q].of_day(rollup)) for q in quantities]


def _summed(parts: list[tuple[str, list[str]]], columns: list[str]) -> str:
    """`SELECT g, q_<column>...`: the rows of every part (a query `SELECT g, q_<its
    columns>`, maybe several rows per group) summed per group, a part's missing columns
    as zeros; `title` (a part's `t_title`, with `t_day`, its day) is the latest title
    that is not empty."""
    branches = []
    for sql, has in parts:
        selected = []
        for c in columns:
            if c == "title":
                selected.append(
                    "t_title, t_day" if c in has else "'' AS t_title, toDate(0) AS t_day"
                )
            else:
                selected.append(f"q_{c}" if c in has else f"0 AS q_{c}")
        branches.append(f"SELECT g, {', '.join(selected)} FROM ({sql})")
    sums = [
        "argMaxIf(t_title, t_day, t_title != '') AS title"
        if c == "title"
        else f"sum(q_{c}) AS q_{c}"
        for c in columns
    ]
    return f"SELECT g, {', '.join(sums)} FROM ({' UNION ALL '.join(branches)}) GROUP BY g"


def _articles_raw(sel: Selection, group: str, where: str) -> tuple[str, dict[str, object]]:
    params = sel.params()
    per_day = ", ".join(
        f"{QUANTITIES[q].raw(on_pages=True)[1]} AS q_{q}" for q in ARTICLE_QUANTITIES
    )
    sums = ", ".join(f"sum(q_{q}) AS q_{q}" for q in ARTICLE_QUANTITIES)
    conditions = [EVENTS_IN_RANGE, where]
    conditions += [f.condition(f.property.column, params) for f in sel.event_filters]
    with_visits, source = "", "events"
    if sel.visit_filters:
        props = {f.property for f in sel.visit_filters}
        with_visits = f"WITH visits AS ({_visits(sel, props, params)}) "
        source = "events INNER JOIN visits USING (visitor_id, visit_start)"
    titled = "type = 'pageview' AND title != ''"
    sql = (
        f"{with_visits}SELECT g, argMax(day_title, titled_at) AS title, {sums} FROM ("
        f"SELECT {group} AS g, {EVENT_DAY} AS d, argMaxIf(title, ts, {titled}) AS day_title, "
        f"maxIf(ts, {titled}) AS titled_at, {per_day} "
        f"FROM {source} WHERE {' AND '.join(conditions)} GROUP BY g, d) GROUP BY g"
    )
    return sql, params


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
    levels: dict[str, list[tuple[str, str]]] = {"events": [], "visits": []}
    for q in quantities:
        level, sql = QUANTITIES[q].raw(on_pages)
        levels[level].append((q, sql))

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
        # By a visit's property, its visitor counts on the day it started, as in the rollups.
        day = VISIT_DAY if by_visit else EVENT_DAY
        parts.append(_event_rows(sel, group.events, levels["events"], join_visits, params, day))
    if levels["visits"]:
        parts.append(_grouped("visits", group.visits, levels["visits"], "1", VISIT_DAY))
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
    exprs: list[tuple[str, str]],
    join_visits: bool,
    params: dict[str, object],
    day: str,
) -> str:
    conditions = [EVENTS_IN_RANGE]
    conditions += [f.condition(f.property.column, params) for f in sel.event_filters]
    source = "events INNER JOIN visits USING (visitor_id, visit_start)" if join_visits else "events"
    return _grouped(source, group, exprs, " AND ".join(conditions), day)


def _grouped(source: str, group: str, exprs: list[tuple[str, str]], where: str, day: str) -> str:
    """`SELECT g, q_<name>...`: each (name, SQL) per group and `day`, summed per group (a
    distinct count is a day's)."""
    per_day = ", ".join(f"{sql} AS q_{name}" for name, sql in exprs)
    sums = ", ".join(f"sum(q_{name}) AS q_{name}" for name, _ in exprs)
    return (
        f"SELECT g, {sums} FROM (SELECT {group} AS g, {day} AS d, {per_day} FROM {source} "
        f"WHERE {where} GROUP BY g, d) GROUP BY g"
    )


async def _rows(
    ch: AsyncClickHouse, sql: str, params: dict[str, object], quantities: list[str]
) -> list[tuple[str, Row]]:
    """Rows of (g, q_... in the order of `quantities`) as (group, {quantity: number})."""
    return [(str(g), _numbers(rest, quantities)) for g, *rest in await ch.query(sql, params)]


def _numbers(values: list, quantities: list[str]) -> Row:
    return {q: float(v or 0) for q, v in zip(quantities, values, strict=True)}
