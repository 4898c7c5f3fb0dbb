"""Stats queries: a site's numbers over a period, from the rollups when they can answer,
raw `events` else.

Every query is about one `Selection`: a site, whose rows only it reads (see
`dashboard.sql.scope`), one `DateRange` of site-local days, and maybe filters; user
input only ever enters as server-side parameters (`{name:Type}`). Each function
answers *quantities* (see `stats_metrics`), summed or merged per group; metrics are
computed from them by the caller. Its modules:

* `selection`: what a query is about;
* `plan`: which source answers it;
* `site`: a site's totals, time series and breakdowns;
* `articles`: the top articles, and one article's numbers and sources;
* `numbers`: what ClickHouse answers, read as quantities.

Their SQL is built in `dashboard.sql`. Sources, first that can answer:

* `site_hourly` (UTC hours) for a site's totals and time series without
  filters, when the site's timezone is a whole number of hours off UTC, with their
  visitors summed over days (`site_visitors`' per site-local day);
* `site_daily` (`site_visitors`' rows: visitors and sums per site-local day) for the
  same in any other timezone, by day or month (by hour: raw events);
* `breakdown_stats` (per site-local day) for breakdowns without filters of the
  properties it has, by visitors and visits (visit properties) or visitors and
  page views (pages);
* `visits` (a row per visit) for breakdowns by exit page without filters, by
  visitors and visits; under filters on visit properties alone, for totals, time
  series by day or month and breakdowns by a visit property; raw queries about
  pages read the events of the visits that pass by the visit's properties stamped
  on them, or, under an exit-page filter, join them to those visits
  (`dashboard.sql.visits`, `plan.visit_road`);
* under one filter on a paired property (a source, a country, a device, a browser, an
  OS) equal to one value (`plan.paired`), the closed days' paired counts
  (`closed_counts.paired`) for the site's totals and time series by day or month, its
  breakdowns and its top articles; their open days from `visits`, or for pages and
  articles the events by the stamped property; under one on a referrer, a UTM tag, an
  entry or an exit page (`closed_counts.CLICKED`), the same but for its page breakdown
  (the counts by page, by their value; an entry or exit page's by their key,
  `closed_counts.pages_keyed`) and its breakdowns by what is not kept among its
  visits (`closed_counts.paired_among`: the others of these), from `visits`; under an
  exit page, the open days' events of the visits whose rows pass;
* under one filter on a page (`event:page` equal to one path: a click on a page row),
  its closed days' counts (`closed_counts.PAGE_KINDS`) for the site's totals and time
  series by day or month, the page breakdown, the top articles and the breakdowns by
  a referrer, a UTM tag, an entry or exit page, and the pages' paired counts by their page
  for breakdowns by a source, a country, a device, a browser or an OS; their open days
  from the page's events (with their visits' rows);
* `article_stats` (per site-local day) for articles without filters, the period's
  top ones looked for first in each closed day's and span's list of its top articles
  (`top_articles`), and `article_sources` for an article's sources;
* raw `events` otherwise (`dashboard.sql.raw_events`).

From a rollup, the closed days of a period (and its closed whole weeks, months and
quarters) are read from their counts, and only the open days (today, mostly) from
the rollup's rows (`closed_days`). Distinct counts (visitors; an article's visits) are
counted per site-local day and summed, from the rollups as from raw events: a raw
query groups by day too, then sums.
"""

from dashboard.queries.articles import (
    ARTICLE_QUANTITIES,
    article_overview,
    article_series,
    article_sources,
    article_totals,
    articles,
)
from dashboard.queries.selection import Selection
from dashboard.queries.site import aggregate, aggregate_compared, breakdown, timeseries

__all__ = [
    "ARTICLE_QUANTITIES",
    "Selection",
    "aggregate",
    "aggregate_compared",
    "article_overview",
    "article_series",
    "article_sources",
    "article_totals",
    "articles",
    "breakdown",
    "timeseries",
]
