"""What stats queries share: the period's bounds, time buckets, rows summed per group, order
and pages.

A stats query answers rows `SELECT g, q_<quantity>...`: a group `g` (a time bucket,
a property's value, an article; '' for one total) and its quantities (see
`dashboard.stats_metrics`), a column each.
"""

from __future__ import annotations

T0 = "fromUnixTimestamp64Milli({t0:Int64}, 'UTC')"
T1 = "fromUnixTimestamp64Milli({t1:Int64}, 'UTC')"
"""The period's first instant, and the first after it (`Selection.params`)."""
VISIT_DAY = "toDate(visit_start, {tz:String})"
"""The site-local day a visit started: the day its distinct counts are counted on."""
ONE_GROUP = "''"
"""The group of one total."""
PAGE = "LIMIT {limit:UInt32} OFFSET {offset:UInt32}"


def bucket(column: str, interval: str | None) -> str:
    """The site-local time bucket (`interval`: hour, date or month) of the time `column`."""
    if interval == "hour":
        return f"formatDateTime(toTimeZone({column}, {{tz:String}}), '%Y-%m-%d %H:00:00')"
    return date_bucket(f"toDate({column}, {{tz:String}})", interval)


def date_bucket(date: str, interval: str | None) -> str:
    """The bucket (date or month) of the site-local `date`."""
    return f"toString(toStartOfMonth({date}))" if interval == "month" else f"toString({date})"


def grouped(rows: str, group: str, exprs: list[tuple[str, str]], day: str) -> str:
    """`SELECT g, q_<name>...`: each (name, SQL) over `rows` (a scoped `FROM`, see
    `scope.rows`) per group and `day`, summed per group (a distinct count is a day's)."""
    per_day = ", ".join(f"{sql} AS q_{name}" for name, sql in exprs)
    sums = ", ".join(f"sum(q_{name}) AS q_{name}" for name, _ in exprs)
    return (
        f"SELECT g, {sums} FROM (SELECT {group} AS g, {day} AS d, {per_day} FROM {rows} "
        "GROUP BY g, d) GROUP BY g"
    )


def summed(parts: list[tuple[str, list[str]]], columns: list[str]) -> str:
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


def ordered(sql: str, by: str) -> str:
    """`sql`'s rows by the SQL `by`, descending, then by group."""
    return f"{sql} ORDER BY {by} DESC, g ASC"


def by_quantity(sql: str, quantity: str) -> str:
    """`sql`'s rows by `quantity`, descending, then by group."""
    return ordered(sql, f"q_{quantity}")


def paged(sql: str) -> str:
    """A page of `sql`'s rows: `{limit}` of them, after `{offset}`."""
    return f"{sql} {PAGE}"
