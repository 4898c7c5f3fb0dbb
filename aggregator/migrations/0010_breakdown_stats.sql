-- Breakdowns (issue 4): the rows of `breakdown_daily` in small granules, as
-- `breakdown_stats`.
--
-- `breakdown_daily` kept its rows in granules of 8,192: merging the visitor states of
-- a breakdown's few values read, and decoded, the states of every row in the
-- granules around them (a month's row of a source sits among thousands of pages'
-- rows). `breakdown_stats` has granules of 256 rows: 12mo breakdowns took half the
-- time, a day's about as long (bench/dashboard.py's calls, each table in turn in one
-- run; ordered by value instead of date, a day's page breakdown took twice as long).
-- Its month rows are told from day rows by `span` ('day', 'month'; `date` is the
-- month's first day), as in `article_stats`, where `breakdown_daily` prefixed their
-- property with 'month:'.
--
-- Filled from `breakdown_daily` (its day and month rows), then the view is made and
-- `breakdown_daily` goes. Apply with the aggregators stopped (see 0007). The view
-- makes the same rows as `breakdown_daily`'s did.
CREATE TABLE IF NOT EXISTS breakdown_stats
(
    site LowCardinality(String),
    property LowCardinality(String),
    span LowCardinality(String),
    date Date,
    value String,
    visits SimpleAggregateFunction(sum, UInt64),
    pageviews SimpleAggregateFunction(sum, UInt64),
    visitors AggregateFunction(uniq, UInt64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(date)
ORDER BY (site, property, span, date, value)
SETTINGS index_granularity = 256, non_replicated_deduplication_window = 10000;

INSERT INTO breakdown_stats (site, property, span, date, value, visits, pageviews, visitors)
SELECT
    site,
    if(startsWith(property, 'month:'), substring(property, 7), property),
    if(startsWith(property, 'month:'), 'month', 'day'),
    date,
    value,
    visits,
    pageviews,
    visitors
FROM breakdown_daily
WHERE (SELECT count() FROM breakdown_stats) = 0;

CREATE MATERIALIZED VIEW IF NOT EXISTS breakdown_stats_mv TO breakdown_stats AS
SELECT
    site,
    property_value.1 AS property,
    span,
    if(span = 'month', toStartOfMonth(date), date) AS date,
    property_value.2 AS value,
    countIf(property_value.1 != 'page') AS visits,
    countIf(property_value.1 = 'page') AS pageviews,
    uniqState(visitor_id) AS visitors
FROM events
ARRAY JOIN arrayConcat(
    if(new_visit = 1, [
        ('source', source), ('source_name', source_name), ('referrer_host', referrer_host),
        ('utm_source', utm_source), ('utm_medium', utm_medium), ('utm_campaign', utm_campaign),
        ('utm_content', utm_content), ('utm_term', utm_term),
        ('country', country), ('device', device), ('browser', browser), ('os', os),
        ('entry_page', path)
    ], []),
    if(type = 'pageview', [('page', path)], [])
) AS property_value
ARRAY JOIN ['day', 'month'] AS span
GROUP BY site, property, span, date, value;

DROP VIEW IF EXISTS breakdown_daily_mv;

DROP TABLE IF EXISTS breakdown_daily
