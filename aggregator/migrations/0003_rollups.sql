-- Rollups, filled by materialized views as each batch of events is inserted.
-- Every target table deduplicates retried blocks like `events` does (inserts set
-- deduplicate_blocks_in_dependent_materialized_views = 1).

-- Site per hour (UTC). Visits, bounces and duration are attributed to the hour
-- the visit started: a visit is a bounce until its second page view arrives,
-- which takes the bounce back.
CREATE TABLE IF NOT EXISTS site_hourly
(
    site LowCardinality(String),
    hour DateTime('UTC'),
    pageviews SimpleAggregateFunction(sum, UInt64),
    visits SimpleAggregateFunction(sum, UInt64),
    bounces SimpleAggregateFunction(sum, Int64),
    visit_duration_ms SimpleAggregateFunction(sum, UInt64),
    engaged_ms SimpleAggregateFunction(sum, UInt64),
    events SimpleAggregateFunction(sum, UInt64),
    visitors AggregateFunction(uniq, UInt64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (site, hour)
SETTINGS non_replicated_deduplication_window = 10000;

-- One view, so that each insert writes one part here, not two: every event counts
-- in the hour it happened (role 1), and a second page view or any time added to a
-- visit counts in the hour the visit started (role 2).
CREATE MATERIALIZED VIEW IF NOT EXISTS site_hourly_mv TO site_hourly AS
SELECT
    site,
    toStartOfHour(if(role = 1, ts, visit_start)) AS hour,
    countIf(role = 1 AND type = 'pageview') AS pageviews,
    toUInt64(sumIf(new_visit, role = 1)) AS visits,
    toInt64(sumIf(new_visit, role = 1)) - toInt64(countIf(role = 2 AND pageview_number = 2)) AS bounces,
    toUInt64(sumIf(duration_ms, role = 2)) AS visit_duration_ms,
    toUInt64(sumIf(engaged_ms, role = 1)) AS engaged_ms,
    countIf(role = 1 AND type != 'engagement') AS events,
    uniqStateIf(visitor_id, role = 1) AS visitors
FROM events
ARRAY JOIN if(visit_start > 0 AND (pageview_number = 2 OR duration_ms > 0), [1, 2], [1]) AS role
GROUP BY site, hour;

-- Article per day (the site's day).
CREATE TABLE IF NOT EXISTS article_daily
(
    site LowCardinality(String),
    date Date,
    article_id String,
    pageviews SimpleAggregateFunction(sum, UInt64),
    engaged_ms SimpleAggregateFunction(sum, UInt64),
    visits AggregateFunction(uniq, UInt64, DateTime64(3, 'UTC')),
    visitors AggregateFunction(uniq, UInt64),
    title AggregateFunction(argMax, String, DateTime64(3, 'UTC'))
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(date)
ORDER BY (site, date, article_id)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS article_daily_mv TO article_daily AS
SELECT
    site,
    date,
    article_id,
    countIf(type = 'pageview') AS pageviews,
    toUInt64(sum(engaged_ms)) AS engaged_ms,
    uniqStateIf(visitor_id, visit_start, type = 'pageview') AS visits,
    uniqStateIf(visitor_id, type = 'pageview') AS visitors,
    argMaxStateIf(title, ts, type = 'pageview' AND title != '') AS title
FROM events
WHERE article_id != ''
GROUP BY site, date, article_id;

-- Breakdowns per day: visits and visitors by the visit's entry attributes, and
-- page views and visitors by page.
CREATE TABLE IF NOT EXISTS breakdown_daily
(
    site LowCardinality(String),
    date Date,
    property LowCardinality(String),
    value String,
    visits SimpleAggregateFunction(sum, UInt64),
    pageviews SimpleAggregateFunction(sum, UInt64),
    visitors AggregateFunction(uniq, UInt64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(date)
ORDER BY (site, property, date, value)
SETTINGS non_replicated_deduplication_window = 10000;

-- One view for both (one part per insert): entry attributes of visits, and pages.
CREATE MATERIALIZED VIEW IF NOT EXISTS breakdown_daily_mv TO breakdown_daily AS
SELECT
    site,
    date,
    property_value.1 AS property,
    property_value.2 AS value,
    countIf(property != 'page') AS visits,
    countIf(property = 'page') AS pageviews,
    uniqState(visitor_id) AS visitors
FROM events
ARRAY JOIN arrayConcat(
    if(new_visit = 1, [
        ('source', source), ('source_name', source_name), ('referrer_host', referrer_host),
        ('utm_source', utm_source), ('utm_medium', utm_medium), ('utm_campaign', utm_campaign),
        ('country', country), ('device', device), ('browser', browser), ('os', os),
        ('entry_page', path)
    ], []),
    if(type = 'pageview', [('page', path)], [])
) AS property_value
GROUP BY site, date, property, value;

-- All-time totals: what the public counters start from.
CREATE TABLE IF NOT EXISTS site_totals
(
    site LowCardinality(String),
    pageviews UInt64,
    visits UInt64
)
ENGINE = SummingMergeTree
ORDER BY site
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS site_totals_mv TO site_totals AS
SELECT site, countIf(type = 'pageview') AS pageviews, toUInt64(sum(new_visit)) AS visits
FROM events
GROUP BY site;

CREATE TABLE IF NOT EXISTS article_totals
(
    site LowCardinality(String),
    article_id String,
    pageviews UInt64
)
ENGINE = SummingMergeTree
ORDER BY (site, article_id)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS article_totals_mv TO article_totals AS
SELECT site, article_id, count() AS pageviews
FROM events
WHERE type = 'pageview' AND article_id != ''
GROUP BY site, article_id
