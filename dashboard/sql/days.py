"""Numbers over days: the counts of closed days and spans, the rollups' rows of open days.

A query reads a period's closed spans and days from their counts in
`closed_counts`, its open days from a rollup's rows, and sums the two
(`counted_sql`); which days are which is planned by `dashboard.closed_days`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dashboard.sql import scope
from footfall import closed_counts, tables
from footfall.closed_counts import SPANS

if TYPE_CHECKING:
    from dashboard.closed_days import Split
    from dashboard.filters import Filter
    from dashboard.properties import Property

DAY_ROWS = "span = 'day'"
"""The day rows of `breakdown_stats`, `article_stats`, `article_sources` and `site_visitors`
(their month rows are gone since migration 0014)."""

EVENTS_TITLE = "argMaxIf(title, ts, type = 'pageview' AND title != '')"
"""A day's title over its events: its latest page view's."""

CLOSED_MARKERS = (
    "SELECT span, date, max(version) "
    f"FROM {scope.rows(tables.CLOSED_COUNTS, 'kind = {closed:String}')} GROUP BY span, date"
)
"""A site's closing markers (`footfall.closed_counts.closed_from` reads them)."""


@dataclass(frozen=True)
class Counted:
    """One quantity summed over days: the column of its counts is named after it, `of_day`
    is its SQL over one day's rows of the rollup (`uniqMerge(visitors)`, `sum(pageviews)`)."""

    quantity: str
    of_day: str


@dataclass(frozen=True)
class Counts:
    """The closed days' rows a query reads: `closed_counts` rows of `kind` that pass
    `where` (beyond site, kind and days), grouped by the SQL `group`."""

    kind: str
    group: str
    where: str = "1"


@dataclass(frozen=True)
class Rollup:
    """The open days' rows a query reads: rows of `table` that pass `where` (beyond site
    and their day, the SQL `day`), grouped by the SQL `group`. `where` may bound the rows
    by `{open_first:Date}` and `{open_last:Date}`, the first and last open days."""

    table: str
    group: str
    where: str
    day: str = "date"
    title: str = "argMaxMerge(title)"
    """A day's title, over its rows."""


OPEN_VISITS = (
    "visit_start >= toDateTime({open_first:Date}, {tz:String}) "
    "AND visit_start < toDateTime({open_last:Date} + 1, {tz:String})"
)
"""The visits that started on the open days {open_first}..{open_last}."""


def paired(
    only: Filter, params: dict[str, object], kind: str, group: str, rows: str, where: str = "1"
) -> tuple[Counts, Rollup]:
    """The numbers per `group` (SQL over events) of the events that pass `rows`, among the
    visits that pass the filter `only` (its values added to `params`; one value of a
    property of `closed_counts.PAIRED`, or of `BY_PAGE` or the exit page for articles
    and, where `closed_counts.pages_keyed`, pages), or on the page it keeps: closed days'
    counts of `kind` paired with its property, with that value and passing `where`; open
    days' events, by the visit's value stamped on them, its row's, or their path."""
    counts = Counts(
        closed_counts.paired(kind, paired_with(only)),
        "value",
        f"{only.condition('key', params)} AND {where}",
    )
    return counts, events_of(only, params, group, rows)


def events_of(only: Filter, params: dict[str, object], group: str, rows: str) -> Rollup:
    """Open days' events that pass `rows`, per `group`, among the visits that pass the filter
    `only` (by the visit's value stamped on them; the exit page, by the visits' rows that
    pass), or on the page it keeps (see `paired`)."""
    prop = only.property
    if prop.is_visit and prop.stamped is None:
        exits = only.condition(prop.in_visits, params)
        passing = scope.rows(f"{tables.VISITS} FINAL", OPEN_VISITS, exits)
        kept = f"(visitor_id, visit_start) IN (SELECT visitor_id, visit_start FROM {passing})"
    else:
        kept = only.condition(prop.stamped or prop.column, params)
    return Rollup(tables.EVENTS, group, f"{rows} AND {kept}", title=EVENTS_TITLE)


def paired_with(only: Filter) -> str:
    """The property the closed days' counts are paired with under the filter `only` (of
    `closed_counts.CLICKED`, or `closed_counts.PAGE`)."""
    if not only.property.is_visit:
        assert only.property.name == "event:page", only.property.name
        return closed_counts.PAGE
    name = visit_kind(only.property)
    assert name in closed_counts.CLICKED, only.property.name
    return name


def visit_kind(prop: Property) -> str:
    """The name of the visit property `prop` (of `closed_counts.VISIT_PROPERTIES`) in the
    kinds of closed days' counts (`closed_counts.paired`)."""
    return closed_counts.EXIT_PAGE if prop.name == "visit:exit_page" else prop.in_visits


def counted_sql(
    parts: Split,
    counted: list[Counted],
    params: dict[str, object],
    counts: Counts,
    rollup: Rollup,
    *,
    titled: bool = False,
) -> list[str]:
    """Queries `SELECT g, q_<quantity>...` whose rows, summed per g, are the quantities
    over the days of `parts`; with `titled`, also `t_title`, a title, and `t_day`, its
    day (the latest is the one)."""
    selected = []
    if parts.spans or parts.days:
        params["kind"] = counts.kind
        sums = [f"sum({c.quantity}) AS q_{c.quantity}" for c in counted]
        if titled:
            sums += [
                "argMaxIf(title, date, title != '') AS t_title",
                "maxIf(date, title != '') AS t_day",
            ]
        where = ["kind = {kind:String}", counts.where, closed_where(parts, params)]
        selected.append(
            f"SELECT {counts.group} AS g, {', '.join(sums)} "
            f"FROM {scope.rows(tables.CLOSED_COUNTS, *where)} GROUP BY g"
        )
    if parts.open:
        selected.append(open_sql(parts, counted, params, rollup, titled=titled))
    return selected


def open_sql(
    parts: Split,
    counted: list[Counted],
    params: dict[str, object],
    rollup: Rollup,
    *,
    titled: bool = False,
) -> str:
    """`counted_sql`'s query of the open days of `parts` (there must be some)."""
    params |= {"open_days": parts.open, "open_first": parts.open[0]}
    params["open_last"] = parts.open[-1]
    merged = [f"{c.of_day} AS q_{c.quantity}" for c in counted]
    if titled:
        merged += [f"{rollup.title} AS t_title", f"{rollup.day} AS t_day"]
    days = f"{rollup.day} IN {{open_days:Array(Date)}}"
    return (
        f"SELECT {rollup.group} AS g, {', '.join(merged)} "
        f"FROM {scope.rows(rollup.table, rollup.where, days)} GROUP BY g, {rollup.day}"
    )


def closed_where(parts: Split, params: dict[str, object]) -> str:
    """The counts rows of the closed spans and days of `parts`: by span and date (what the
    primary key finds), at each one's latest closing's version."""
    spans = []
    for n, span in enumerate(SPANS[1:]):
        starts = [start for kind, start in parts.spans if kind == span]
        if starts:
            params[f"closed_spans{n}"] = starts
            spans.append(f"span = '{span}' AND date IN {{closed_spans{n}:Array(Date)}}")
    for n, (first, last) in enumerate(_stretches(parts.days)):
        params |= {f"closed_first{n}": first, f"closed_last{n}": last}
        days = f"date BETWEEN {{closed_first{n}:Date}} AND {{closed_last{n}:Date}}"
        spans.append(f"span = 'day' AND {days}")
    params["latest"] = parts.versions
    return (
        f"(({') OR ('.join(spans)})) "
        "AND (span, date, version) IN {latest:Array(Tuple(String, Date, DateTime64(3, 'UTC')))}"
    )


def _stretches(days: list[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """Sorted days as (first, last) stretches of consecutive days."""
    stretches: list[tuple[dt.date, dt.date]] = []
    for day in days:
        if stretches and stretches[-1][1] + dt.timedelta(days=1) == day:
            stretches[-1] = (stretches[-1][0], day)
        else:
            stretches.append((day, day))
    return stretches
