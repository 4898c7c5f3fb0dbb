"""Which of a site's days and months are closed in `visitor_counts`.

The aggregator closes days (aggregator/closing.py) and the dashboard reads their
counts (dashboard/visitor_days.py); both ask this.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from footfall.connections import AsyncClickHouse


@dataclass(frozen=True)
class Closed:
    """A site's closed days and months (first days), each with its latest version."""

    days: dict[dt.date, dt.datetime] = field(default_factory=dict)
    months: dict[dt.date, dt.datetime] = field(default_factory=dict)

    @property
    def through(self) -> dt.date | None:
        """The last closed day. Closings go oldest first from the site's first day, and a
        day before it that gets events later (an import) is closed then."""
        return max(self.days, default=None)


async def closed(ch: AsyncClickHouse, site: str) -> Closed:
    rows = await ch.query(
        "SELECT span, date, max(version) FROM visitor_counts "
        "WHERE site = {site:String} AND kind = 'closed' GROUP BY span, date",
        {"site": site},
    )
    found = Closed()
    for span, date, version in rows:
        (found.days if span == "day" else found.months)[date] = version
    return found
