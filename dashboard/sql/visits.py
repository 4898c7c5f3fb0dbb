"""Stats queries over the `visits` table (a row per visit), for a site under visit filters.

A click on a source, a country or an entry page filters the page by a property of
the visit. The period's visits that pass are rows of `visits` (migration 0018): its
totals, time series by day or month and breakdowns by a visit property are sums over
them, and the queries about pages (page breakdowns, articles) read the events of the
visits that pass: by the visit's properties each event carries (`stamped`), or, under
a filter on the exit page, joined to the visits (`passing`, in place of the visits
`dashboard.sql.raw_events` groups from events). A visit never crosses the site's
midnight and periods are whole site-local days, so a visit's events all fall in the
period it started in: summed per visit, they are the period's events of the visits
that pass, as raw events count them.
"""

from __future__ import annotations

from collections.abc import Sequence

from dashboard.filters import Filter
from dashboard.properties import Property
from dashboard.sql import scope
from dashboard.sql.shapes import T0, T1, VISIT_DAY, grouped
from dashboard.stats_metrics import QUANTITIES, VISITS
from footfall import tables

_STARTED = f"visit_start >= {T0} AND visit_start < {T1}"
"""The visits that started in the period (the first sorting columns after the site)."""


def numbers(
    filters: Sequence[Filter], params: dict[str, object], quantities: list[str], group: str
) -> str:
    """`SELECT g, q_<quantity>...` of the period's visits that pass the visit `filters`
    (their values added to `params`), per `group` (SQL over a visit's row)."""
    exprs = [(q, QUANTITIES[q].of_day(VISITS)) for q in quantities]
    return grouped(_passing_rows(filters, params), group, exprs, VISIT_DAY)


def passing(
    filters: Sequence[Filter], props: set[Property], params: dict[str, object], name: str
) -> str:
    """`WITH <name> AS (...)`: the period's visits that pass the visit `filters`, with the
    columns a raw query reads of them: the properties `props` (by alias), `v_pageviews`
    and `v_duration_ms`."""
    columns = "".join(f"{p.in_visits} AS {p.alias}, " for p in sorted(props, key=lambda p: p.name))
    return (
        f"WITH {name} AS (SELECT visitor_id, visit_start, {columns}"
        "pageviews AS v_pageviews, duration_ms AS v_duration_ms "
        f"FROM {_passing_rows(filters, params)}) "
    )


def stamped(filters: Sequence[Filter], params: dict[str, object]) -> list[str]:
    """The conditions on event rows that their visit started in the period and passes the
    visit `filters` (their values added to `params`), each read from the visit's property
    stamped on the rows (`Property.stamped`): the rows the join to `passing` keeps."""
    conditions = [_STARTED]
    for f in filters:
        assert f.property.stamped is not None, f.property.name
        conditions.append(f.condition(f.property.stamped, params))
    return conditions


def _passing_rows(filters: Sequence[Filter], params: dict[str, object]) -> str:
    conditions = [f.condition(f.property.in_visits, params) for f in filters]
    return scope.rows(f"{tables.VISITS} FINAL", _STARTED, *conditions)
