"""The dashboard's SQL: every statement it sends ClickHouse is here, by name.

* `scope`: the site scope. Each stats query reads one site's rows: every table it
  reads is named through `scope.rows`, the one place the site condition is written,
  and it is sent through `scope.SiteScope`, which binds that condition to its site.
* `shapes`: what stats queries share: the period's bounds, time buckets, rows
  summed per group, their order and pages.
* `raw_events`: stats queries over raw `events`.
* `visits`: stats queries over the `visits` table (a row per visit), under visit filters.
* `site`: a site's totals, time series and breakdowns over its rollups.
* `articles`: the top articles, one article's numbers and its sources.
* `days`: numbers over days, from the counts of closed days and the rollups' open days.
* `records`: the records of sites, users and API tokens.

Tables are named from the kernel's registry, `footfall.tables`.
"""

PING = "SELECT 1"
"""Whether ClickHouse answers (the dashboard's readiness)."""
