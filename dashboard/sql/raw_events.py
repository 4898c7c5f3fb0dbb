"""Stats queries over raw `events`: any quantity, under any filters, per any group.

A raw query reads the period's event rows and, when it needs visits, a table of
the period's visits (`period_visits`, one row per visit: its entry properties,
exit page, page views and duration), joined on (visitor_id, visit_start). Distinct
counts are counted per site-local day, then summed. The visits come by one of three
roads (`VisitRoad`): grouped from the same event rows (`GROUPED`, raw: any
filter); read from the `visits` table (`TABLE`, under visit filters alone); or,
when every filter's property is stamped on the events (all but the exit page),
the events pass by those columns with no join, and only the quantities of visits
read the table (`STAMPED`). Under event filters (a page), the `STAMPED` road groups a
breakdown by a visit property by its column stamped on the events that pass, with no
join, when no quantity of visits is asked (those group the visits from the events).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from dashboard.filters import Filter
from dashboard.properties import PROPERTIES, Property
from dashboard.sql import scope, visits
from dashboard.sql.shapes import ONE_GROUP, T0, T1, VISIT_DAY, grouped
from dashboard.stats_metrics import PAGE_VIEWS, QUANTITIES
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
JOINED = f"{tables.EVENTS} INNER JOIN {_VISITS} USING (visitor_id, visit_start)"
"""The events of the visits that pass."""
_ALL_VISITS = f"{_VISITS} WHERE 1"


class VisitRoad(Enum):
    """Where a raw query finds the visits that pass its filters (see the module's doc)."""

    GROUPED = "grouped"
    TABLE = "table"
    STAMPED = "stamped"


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
    road: VisitRoad = VisitRoad.GROUPED,
) -> str:
    """`SELECT g, q_<quantity>...` of the events that pass `filters` (their values added
    to `params`), per `group`; their visits by `road`."""
    on_pages = group.property is not None and group.property.name == "event:page"
    on_pages = on_pages or any(f.property.name == "event:page" for f in filters)
    levels: dict[str, list[tuple[str, str]]] = {"events": [], "visits": []}
    for q in quantities:
        level, sql = QUANTITIES[q].raw(on_pages)
        levels[level].append((q, sql))

    on_visits = visit_filters(filters)
    visit_props = {f.property for f in on_visits}
    if group.property is not None:
        visit_props.add(group.property if group.property.is_visit else ENTRY_PAGE)
    by_visit = group.property is not None and group.property.is_visit
    stamped_group = group.property.stamped if group.property is not None and by_visit else None
    by_stamp = road == VisitRoad.STAMPED and bool(stamped_group) and not levels["visits"]
    stamped = road == VisitRoad.STAMPED and (by_stamp or (bool(on_visits) and not by_visit))
    join_visits = (by_visit and not by_stamp) or (bool(on_visits) and not stamped)
    with_visits = ""
    if join_visits or levels["visits"]:
        # The visits of events that pass event filters are grouped from the events.
        visits_road = VisitRoad.GROUPED if event_filters(filters) else road
        with_visits = with_visits_of(filters, visit_props, params, road=visits_road)

    parts = []
    if levels["events"]:
        # By a visit's property, its visitor counts on the day it started, as in the rollups.
        day = VISIT_DAY if by_visit else EVENT_DAY
        conditions = [IN_RANGE, *event_conditions(filters, params)]
        if stamped:
            conditions += visits.stamped(on_visits, params)
            if on_pages and _page_views_only(levels["events"]):
                conditions.append(PAGE_VIEWS)
        rows = scope.rows(JOINED if join_visits else tables.EVENTS, *conditions)
        by = stamped_group if by_stamp else group.events
        parts.append(grouped(rows, by, levels["events"], day))
    if levels["visits"]:
        parts.append(grouped(_ALL_VISITS, group.visits, levels["visits"], VISIT_DAY))
    columns = ", ".join(["g", *(f"q_{q}" for q in quantities)])
    if len(parts) == 1:
        return f"{with_visits}SELECT {columns} FROM ({parts[0]})"
    joined = f"({parts[0]}) AS e FULL OUTER JOIN ({parts[1]}) AS v USING (g)"
    return f"{with_visits}SELECT {columns} FROM {joined}"


def _page_views_only(quantities: list[tuple[str, str]]) -> bool:
    return all(QUANTITIES[q].page_views_only for q, _ in quantities)


def with_visits_of(
    filters: Sequence[Filter],
    props: set[Property],
    params: dict[str, object],
    *,
    road: VisitRoad = VisitRoad.GROUPED,
) -> str:
    """`WITH period_visits AS (...)`: one row per visit that started in the period and
    passes `filters`, with the properties `props` (a column each, by alias); grouped from
    the events, or read from the `visits` table by the other roads (visit filters only)."""
    if road != VisitRoad.GROUPED:
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
