"""Stats queries over raw `events`: any quantity, under any filters, per any group.

A raw query reads the period's event rows and, when it needs visits, a table of
the period's visits made from the same rows (`visits`, one row per visit: its
entry properties, exit page, page views and duration), joined on (visitor_id,
visit_start). Distinct counts are counted per site-local day, then summed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dashboard.filters import Filter
from dashboard.properties import PROPERTIES, Property
from dashboard.sql import scope, visits
from dashboard.sql.shapes import ONE_GROUP, T0, T1, VISIT_DAY, grouped
from dashboard.stats_metrics import QUANTITIES
from footfall import tables

IN_RANGE = f"date BETWEEN {{d0:Date}} - 1 AND {{d1:Date}} + 1 AND ts >= {T0} AND ts < {T1}"
"""The period's events (`date` bounds them for the primary key, `ts` exactly)."""
# A visit that started in the period is read up to a day past its end: its later
# events add to its page views and duration (as the rollups add them).
_VISITS_IN_RANGE = (
    "date BETWEEN {d0:Date} - 1 AND {d1:Date} + 2 "
    f"AND visit_start >= {T0} AND visit_start < {T1} AND ts < {T1} + INTERVAL 1 DAY"
)
EVENT_DAY = "toDate(ts, {tz:String})"
ENTRY_PAGE = PROPERTIES["visit:entry_page"]
_VISITS = "period_visits"
"""The period's visits that pass the filters: a query's `WITH` (`with_visits_of`)."""
_JOINED = f"{tables.EVENTS} INNER JOIN {_VISITS} USING (visitor_id, visit_start)"
"""The events of the visits that pass."""
_ALL_VISITS = f"{_VISITS} WHERE 1"


@dataclass(frozen=True)
class Group:
    """How a raw query groups its event rows and its visits (`ONE_GROUP`: one total)."""

    events: str = ONE_GROUP
    visits: str = ONE_GROUP
    property: Property | None = None


def property_group(prop: Property) -> Group:
    if prop.is_visit:
        return Group(prop.alias, prop.alias, prop)
    # By page: visits, bounces and durations are those of the visits entering on it.
    return Group(prop.column, ENTRY_PAGE.alias, prop)


def numbers(
    filters: Sequence[Filter],
    params: dict[str, object],
    quantities: list[str],
    group: Group,
    *,
    visits_table: bool = False,
) -> str:
    """`SELECT g, q_<quantity>...` of the events that pass `filters` (their values added
    to `params`), per `group`; their visits from the `visits` table if `visits_table`."""
    on_pages = group.property is not None and group.property.name == "event:page"
    on_pages = on_pages or any(f.property.name == "event:page" for f in filters)
    levels: dict[str, list[tuple[str, str]]] = {"events": [], "visits": []}
    for q in quantities:
        level, sql = QUANTITIES[q].raw(on_pages)
        levels[level].append((q, sql))

    visit_props = {f.property for f in visit_filters(filters)}
    if group.property is not None:
        visit_props.add(group.property if group.property.is_visit else ENTRY_PAGE)
    by_visit = group.property is not None and group.property.is_visit
    join_visits = bool(visit_filters(filters)) or by_visit
    with_visits = ""
    if join_visits or levels["visits"]:
        with_visits = with_visits_of(filters, visit_props, params, visits_table=visits_table)

    parts = []
    if levels["events"]:
        # By a visit's property, its visitor counts on the day it started, as in the rollups.
        day = VISIT_DAY if by_visit else EVENT_DAY
        conditions = [IN_RANGE, *event_conditions(filters, params)]
        rows = scope.rows(_JOINED if join_visits else tables.EVENTS, *conditions)
        parts.append(grouped(rows, group.events, levels["events"], day))
    if levels["visits"]:
        parts.append(grouped(_ALL_VISITS, group.visits, levels["visits"], VISIT_DAY))
    columns = ", ".join(["g", *(f"q_{q}" for q in quantities)])
    if len(parts) == 1:
        return f"{with_visits}SELECT {columns} FROM ({parts[0]})"
    joined = f"({parts[0]}) AS e FULL OUTER JOIN ({parts[1]}) AS v USING (g)"
    return f"{with_visits}SELECT {columns} FROM {joined}"


def with_visits_of(
    filters: Sequence[Filter],
    props: set[Property],
    params: dict[str, object],
    *,
    visits_table: bool = False,
) -> str:
    """`WITH period_visits AS (...)`: one row per visit that started in the period and
    passes `filters`, with the properties `props` (a column each, by alias); grouped from
    the events, or read from the `visits` table if `visits_table` (visit filters only)."""
    if visits_table:
        assert not event_filters(filters)
        return visits.passing(filters, props, params, _VISITS)
    columns = "".join(f"{p.visit_sql} AS {p.alias}, " for p in sorted(props, key=lambda p: p.name))
    having = [f.condition(f.property.alias, params) for f in visit_filters(filters)]
    if event_filters(filters):
        matched = " AND ".join(event_conditions(filters, params))
        having.append(f"countIf(type != 'engagement' AND {matched}) > 0")
    return (
        f"WITH {_VISITS} AS (SELECT visitor_id, visit_start, {columns}"
        "countIf(type = 'pageview') AS v_pageviews, sum(duration_ms) AS v_duration_ms "
        f"FROM {scope.rows(tables.EVENTS, _VISITS_IN_RANGE)} GROUP BY visitor_id, visit_start "
        f"HAVING {' AND '.join(having) or '1'}) "
    )


def joined_if_visits(filters: Sequence[Filter]) -> str:
    """The events, joined to the `visits` when `filters` has a visit's."""
    return _JOINED if visit_filters(filters) else tables.EVENTS


def event_conditions(filters: Sequence[Filter], params: dict[str, object]) -> list[str]:
    """The conditions of an event's `filters` on its rows (their values added to `params`)."""
    return [f.condition(f.property.column, params) for f in event_filters(filters)]


def event_filters(filters: Sequence[Filter]) -> list[Filter]:
    return [f for f in filters if not f.property.is_visit]


def visit_filters(filters: Sequence[Filter]) -> list[Filter]:
    return [f for f in filters if f.property.is_visit]


def valued(sql: str) -> str:
    """The rows of `sql` but the group '' (no value)."""
    return f"SELECT * FROM ({sql}) WHERE g != ''"
