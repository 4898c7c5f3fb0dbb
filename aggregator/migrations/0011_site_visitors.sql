-- Visitors per site-local day and month (issue 4), for the cards and the chart.
--
-- `site_hourly` answers a site's totals and time series: its sums are cheap at any
-- length, but its visitors are a state per hour, and a period's visitors merge every
-- hour's state (4,400 for six months: 140 ms of the cards' query). `site_visitors`
-- holds the same visitors (every event's, in its own day: `site_hourly`'s role 1) per
-- site-local day, and per calendar month (`span` 'month', `date` its first day), so a
-- period merges a state per month or day. Over whole months (month, 6mo, 12mo), queries
-- take the sums from `site_hourly` and the visitors from here when these rows reach back
-- as far as `site_hourly`'s, or the period starts after their first day
-- (dashboard/queries.py); else from `site_hourly` alone, as before.
--
-- Filled from the raw events there are (under a retention, a site's hours older than its
-- oldest raw event keep being answered from `site_hourly`), then the view is made.
-- Apply with the aggregators stopped (see 0007). Cost: one more view per insert
-- (measured in BENCHMARKS.md, bench/rollup_insert.py).
CREATE TABLE IF NOT EXISTS site_visitors
(
    site LowCardinality(String),
    span LowCardinality(String),
    date Date,
    visitors AggregateFunction(uniq, UInt64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(date)
ORDER BY (site, span, date)
SETTINGS non_replicated_deduplication_window = 10000;

INSERT INTO site_visitors (site, span, date, visitors)
SELECT site, span, if(span = 'month', toStartOfMonth(date), date) AS day_or_month, uniqState(visitor_id)
FROM events
ARRAY JOIN ['day', 'month'] AS span
WHERE (SELECT count() FROM site_visitors) = 0
GROUP BY site, span, day_or_month;

CREATE MATERIALIZED VIEW IF NOT EXISTS site_visitors_mv TO site_visitors AS
SELECT
    site,
    span,
    if(span = 'month', toStartOfMonth(date), date) AS date,
    uniqState(visitor_id) AS visitors
FROM events
ARRAY JOIN ['day', 'month'] AS span
GROUP BY site, span, date
