-- Articles (issue 4): the rollups of `article_daily`, ordered by article, with month
-- rows, and where each article's readers came from.
--
-- `article_daily` was ordered by (site, date, article_id): one article's page read
-- every article's rows of the period (two million for a year, 1.4 s), and a top ten
-- merged its visitor states from every granule. `article_stats` is ordered by
-- (site, article_id, span, date) in small granules, so one article's rows are read
-- alone, and it has a row per calendar month beside the daily ones (`span` 'month',
-- `date` the month's first day), so a year merges a dozen states per article, not
-- 365. Queries read month rows for the whole months of a period and day rows for
-- the days around them, as for `breakdown_daily` (dashboard/queries.py).
--
-- `article_sources` holds an article's page views and visitors per source (the
-- source's name, 'Internal' for a page reached from the site, else 'Direct / None',
-- as dashboard/queries.py's ARTICLE_SOURCE names them for raw events), day and month
-- rows alike; an article's page used to read them from raw events.
--
-- Filled from `article_daily` (it holds the whole history; raw events may be kept
-- less long) and, for sources, from the raw events there are; each fill runs only
-- while its rows are missing. Then the views are made and `article_daily` goes.
-- Apply with the aggregators stopped (see 0007).
--
-- Cost: `article_stats` makes twice the rows `article_daily` made, and
-- `article_sources` is one more view per insert (measured in BENCHMARKS.md,
-- bench/rollup_insert.py).
CREATE TABLE IF NOT EXISTS article_stats
(
    site LowCardinality(String),
    article_id String,
    span LowCardinality(String),
    date Date,
    pageviews SimpleAggregateFunction(sum, UInt64),
    engaged_ms SimpleAggregateFunction(sum, UInt64),
    visits AggregateFunction(uniq, UInt64, DateTime64(3, 'UTC')),
    visitors AggregateFunction(uniq, UInt64),
    title AggregateFunction(argMax, String, DateTime64(3, 'UTC'))
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(date)
ORDER BY (site, article_id, span, date)
SETTINGS index_granularity = 256, non_replicated_deduplication_window = 10000;

INSERT INTO article_stats (site, article_id, span, date, pageviews, engaged_ms, visits, visitors, title)
SELECT site, article_id, 'day', date, pageviews, engaged_ms, visits, visitors, title
FROM article_daily
WHERE (SELECT count() FROM article_stats WHERE span = 'day') = 0;

INSERT INTO article_stats (site, article_id, span, date, pageviews, engaged_ms, visits, visitors, title)
SELECT
    site,
    article_id,
    'month',
    toStartOfMonth(date) AS month,
    sum(pageviews),
    sum(engaged_ms),
    uniqMergeState(visits),
    uniqMergeState(visitors),
    argMaxMergeState(title)
FROM article_daily
WHERE (SELECT count() FROM article_stats WHERE span = 'month') = 0
GROUP BY site, article_id, month;

CREATE TABLE IF NOT EXISTS article_sources
(
    site LowCardinality(String),
    article_id String,
    span LowCardinality(String),
    date Date,
    source String,
    pageviews SimpleAggregateFunction(sum, UInt64),
    visitors AggregateFunction(uniq, UInt64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(date)
ORDER BY (site, article_id, span, date, source)
SETTINGS index_granularity = 256, non_replicated_deduplication_window = 10000;

INSERT INTO article_sources (site, article_id, span, date, source, pageviews, visitors)
SELECT
    site,
    article_id,
    span,
    if(span = 'month', toStartOfMonth(date), date) AS day_or_month,
    if(source_name != '', source_name, if(source = 'internal', 'Internal', 'Direct / None')) AS label,
    count(),
    uniqState(visitor_id)
FROM events
ARRAY JOIN ['day', 'month'] AS span
WHERE type = 'pageview' AND article_id != ''
    AND (SELECT count() FROM article_sources) = 0
GROUP BY site, article_id, span, day_or_month, label;

CREATE MATERIALIZED VIEW IF NOT EXISTS article_stats_mv TO article_stats AS
SELECT
    site,
    article_id,
    span,
    if(span = 'month', toStartOfMonth(date), date) AS date,
    countIf(type = 'pageview') AS pageviews,
    toUInt64(sum(engaged_ms)) AS engaged_ms,
    uniqStateIf(visitor_id, visit_start, type = 'pageview') AS visits,
    uniqStateIf(visitor_id, type = 'pageview') AS visitors,
    argMaxStateIf(title, ts, type = 'pageview' AND title != '') AS title
FROM events
ARRAY JOIN ['day', 'month'] AS span
WHERE article_id != ''
GROUP BY site, article_id, span, date;

CREATE MATERIALIZED VIEW IF NOT EXISTS article_sources_mv TO article_sources AS
SELECT
    site,
    article_id,
    span,
    if(span = 'month', toStartOfMonth(date), date) AS date,
    if(source_name != '', source_name, if(source = 'internal', 'Internal', 'Direct / None')) AS source,
    count() AS pageviews,
    uniqState(visitor_id) AS visitors
FROM events
ARRAY JOIN ['day', 'month'] AS span
WHERE type = 'pageview' AND article_id != ''
GROUP BY site, article_id, span, date, source;

DROP VIEW IF EXISTS article_daily_mv;

DROP TABLE IF EXISTS article_daily
