"""How a row of ClickHouse's `visits` table (migration 0018) is read, by the aggregator's
closing and the dashboard's queries alike.

A visit's `exit` is its latest page view's time (ms, 13 digits) then path, so that
`max` keeps the latest: its exit page is the path after the time. A visit whose page
views were all lost (engagement events only) has an empty `exit`.
"""

EXIT_PAGE = "substring(exit, 14)"
"""A visit's exit page."""
VIEWED = "exit != ''"
"""A visit with a page view."""
