"""The ClickHouse tables' names: one registry for the components that share them.

The aggregator writes the events and owns the migrations that make every table
(aggregator/migrations/, frozen files that name the tables themselves); the
dashboard reads the rollups and keeps the records of sites, users and tokens.
Their SQL (aggregator/sql.py, dashboard/sql/) names a table by these, never by a
literal, and a test holds each to a table the migrations make.
"""

from __future__ import annotations

EVENTS = "events"
"""Raw events, a row each (0002); the rollups' materialized views read its inserts."""
SITE_HOURLY = "site_hourly"
"""A site's sums per UTC hour, its visitors as `uniq` states (0003)."""
SITE_VISITORS = "site_visitors"
"""A site's visitors per site-local day (0011)."""
SITE_TOTALS = "site_totals"
"""A site's all-time page views and visits: what the hot counters are reseeded from (0003)."""
ARTICLE_TOTALS = "article_totals"
"""An article's all-time page views, for the same reseed (0003)."""
BREAKDOWN_STATS = "breakdown_stats"
"""Per site-local day, the numbers of each value of the properties it has (0010)."""
VISITS = "visits"
"""A row per visit: its entry attributes, exit page and sums (0018; it replaced 0008's
`visit_exits`). Read with FINAL: a visit's rows from several inserts are merged then."""
ARTICLE_STATS = "article_stats"
"""Per site-local day, each article's numbers and title (0016)."""
ARTICLE_SOURCES = "article_sources"
"""Per site-local day, an article's page views by where they came from (0009)."""
CLOSED_COUNTS = "closed_counts"
"""The counts of closed days and spans (0013; `footfall.closed_counts`)."""

SITES = "sites"
"""The site registry's record (0001)."""
USERS = "users"
"""Dashboard users (0004)."""
API_TOKENS = "api_tokens"
"""API tokens, by the hash of their secret (0004)."""

SCHEMA_MIGRATIONS = "schema_migrations"
"""The migrations applied, made by `aggregator.schema` itself before any migration."""

RECORDS = (SITES, USERS, API_TOKENS, SCHEMA_MIGRATIONS)
"""The service's own records; every other table holds sites' traffic, a row of one site
(its `site` column), and a read of a site's numbers reads its rows only."""
