"""The properties of the Stats API (`event:page`, `visit:source`...): what each is in ClickHouse.

An event property is a column of the event itself; a visit property is a
column of the visit's first page view (its entry), or, for `visit:exit_page`,
the path of its last page view. `key` names the property in a breakdown's
results (Plausible's: `page`, `source`...). `rollup` is its `property` in
`breakdown_stats`, when that table has it (`exit_page`: the `visits` table,
a row per visit, which holds every visit property: `in_visits`). Empty values
are shown as Plausible shows them (`Direct / None` for a visit without
referrer), and the same label in a filter matches them; a property without a
label leaves them out of its breakdown (UTM parameters).
"""

from __future__ import annotations

from dataclasses import dataclass

from footfall import visit_rows
from footfall.web import ApiError

PROPERTIES_DOCS = "https://plausible.io/docs/stats-api#properties"
NOT_SET = "(not set)"
DIRECT = "Direct / None"


@dataclass(frozen=True)
class Property:
    name: str
    column: str
    rollup: str | None = None
    empty: str | None = None

    @property
    def key(self) -> str:
        return self.name.partition(":")[2]

    @property
    def is_visit(self) -> bool:
        return self.name.startswith("visit:")

    @property
    def visit_sql(self) -> str:
        """Its value for a visit, over its events (`dashboard.sql.raw_events.with_visits_of`)."""
        if self.name == "visit:exit_page":
            return "argMaxIf(path, ts, type = 'pageview')"
        return f"anyIf({self.column}, new_visit = 1)"

    @property
    def in_visits(self) -> str:
        """Its value in a row of the `visits` table (a visit property's)."""
        if self.name == "visit:exit_page":
            return visit_rows.EXIT_PAGE
        return "entry_page" if self.name == "visit:entry_page" else self.column

    @property
    def stamped(self) -> str | None:
        """Its column on the rows of a visit's events (`footfall.visit_rows`), a visit
        property's but the exit page's (not known while the visit goes on)."""
        if self.is_visit and self.in_visits in visit_rows.STAMPED:
            return visit_rows.stamped(self.in_visits)
        return None

    @property
    def alias(self) -> str:
        """Its column in the per-visit table of a raw query."""
        return f"v_{self.key}"

    def label(self, value: str) -> str:
        return (self.empty or "") if value == "" else value

    def stored(self, label: str) -> str:
        return "" if self.empty is not None and label == self.empty else label


PROPERTIES: dict[str, Property] = {
    p.name: p
    for p in (
        Property("event:page", "path", "page"),
        Property("event:name", "name"),
        Property("visit:source", "source_name", "source_name", DIRECT),
        Property("visit:referrer", "referrer_host", "referrer_host", DIRECT),
        Property("visit:utm_medium", "utm_medium", "utm_medium"),
        Property("visit:utm_source", "utm_source", "utm_source"),
        Property("visit:utm_campaign", "utm_campaign", "utm_campaign"),
        Property("visit:utm_content", "utm_content", "utm_content"),
        Property("visit:utm_term", "utm_term", "utm_term"),
        Property("visit:country", "country", "country", NOT_SET),
        Property("visit:device", "device", "device", NOT_SET),
        Property("visit:browser", "browser", "browser", NOT_SET),
        Property("visit:browser_version", "browser_version", None, NOT_SET),
        Property("visit:os", "os", "os", NOT_SET),
        Property("visit:os_version", "os_version", None, NOT_SET),
        Property("visit:entry_page", "path", "entry_page"),
        Property("visit:exit_page", "path", "exit_page"),
    )
}


def breakdown_property(name: str | None) -> Property:
    """The `property` of a breakdown, or Plausible's error."""
    if not name:
        raise ApiError(
            400,
            "The `property` parameter is required. Please provide at least one property "
            "to show a breakdown by.",
        )
    if name not in PROPERTIES:
        raise ApiError(
            400,
            f"Invalid property '{name}'. Please provide a valid property for the "
            f"breakdown endpoint: {PROPERTIES_DOCS}",
        )
    return PROPERTIES[name]
