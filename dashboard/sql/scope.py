"""The site scope: a stats query reads one site's rows, and this is where that is written.

As Snuba's `OrgIdEnforcer` puts the tenant filter on every query in one place,
a stats query names each table it reads through `rows()`, which writes the site
condition (here only), and is sent through `SiteScope.query`, which binds that
condition to its site whatever the other parameters hold, and refuses a query
that reads no site's rows. tests/test_site_scope.py sends every query the Stats
API can issue and finds every table each reads, in subqueries and joins too,
under the condition, with the call's site.
"""

from __future__ import annotations

from collections.abc import Mapping

from footfall.connections import AsyncClickHouse

_SITE = "site = {site:String}"


def rows(source: str, *conditions: str) -> str:
    """`source WHERE` the rows of the scope's site that pass `conditions` (SQL each):
    `source` a table, maybe `FINAL`, or the events joined to the site's visits."""
    return " AND ".join([f"{source} WHERE {_SITE}", *conditions])


class UnscopedQuery(ValueError):
    """A stats query that reads no table through `rows()`: a bug, never sent."""


class SiteScope:
    """One site's reads: the road of every stats query to ClickHouse."""

    def __init__(self, ch: AsyncClickHouse, site: str) -> None:
        self.ch = ch
        self.site = site

    async def query(self, sql: str, params: Mapping[str, object]) -> list[tuple]:
        """The rows `sql` answers, its `{site}` this scope's."""
        if _SITE not in sql:
            raise UnscopedQuery(sql[:200])
        return await self.ch.query(sql, {**params, "site": self.site})
