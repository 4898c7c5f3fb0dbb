"""What a stats query is about: a `Selection` of one site's days, maybe narrowed by filters."""

from __future__ import annotations

from dataclasses import dataclass

from dashboard.filters import Filter
from dashboard.periods import DateRange


@dataclass(frozen=True)
class Selection:
    """What a query is about: a site's days, narrowed by filters or to one article."""

    site: str
    range: DateRange
    filters: tuple[Filter, ...] = ()

    def params(self) -> dict[str, object]:
        """Its period's parameters: the site's timezone, the period's UTC bounds (ms) and
        its first and last day. The site's is bound by the query's `SiteScope`."""
        t0, t1 = self.range.utc_bounds_ms()
        return {
            "tz": self.range.timezone,
            "t0": t0,
            "t1": t1,
            "d0": self.range.first,
            "d1": self.range.last,
        }
