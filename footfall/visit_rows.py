"""A visit's row in ClickHouse, in the `visits` table (migration 0018) and stamped on each
of its events (0019): how the aggregator writes them and the dashboard reads them.

A visit's `exit` is its latest page view's time (ms, 13 digits) then path, so that
`max` keeps the latest: its exit page is the path after the time. A visit whose page
views were all lost (engagement events only) has an empty `exit`.

Every event of a visit carries the visit's entry properties, `STAMPED`, each in a
column `visit_<name>` of `events` (the aggregator stamps them from the entry event
each stream entry of the visit carries, `footfall.wire`): a query about pages under
a filter on the visit's properties reads them on the event rows, with no join to
the visit. They equal the visit's row in `visits`, which keeps the same properties
of its entry event.
"""

EXIT_PAGE = "substring(exit, 14)"
"""A visit's exit page."""
VIEWED = "exit != ''"
"""A visit with a page view."""

STAMPED = (
    "source_name", "referrer_host", "utm_source", "utm_medium", "utm_campaign", "utm_content",
    "utm_term", "country", "device", "browser", "browser_version", "os", "os_version",
    "entry_page",
)  # fmt: skip
"""The visit's properties on each of its events: the columns of `visits` of the same name."""


def stamped(name: str) -> str:
    """The column of `events` that holds the visit's property `name` (one of `STAMPED`)."""
    return f"visit_{name}"
