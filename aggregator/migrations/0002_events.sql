-- Raw events: one row per page view, engagement or custom event.
-- Ordered for the dashboard's reads: one site, a range of days, often one type.
-- Deduplicated inserts: a batch retried with the same token is dropped.
CREATE TABLE IF NOT EXISTS events
(
    site LowCardinality(String),
    ts DateTime64(3, 'UTC'),
    date Date COMMENT 'the day in the site''s timezone',
    type Enum8('pageview' = 1, 'engagement' = 2, 'custom' = 3),
    name LowCardinality(String),
    visitor_id UInt64,
    visit_start DateTime64(3, 'UTC') COMMENT 'start of the event''s visit; 0 outside any visit',
    new_visit UInt8,
    pageview_number UInt16 COMMENT '1 for a visit''s first page view, 2 for its second...',
    duration_ms UInt32 COMMENT 'time the event adds to its visit''s duration',
    pageview_id String,
    hostname LowCardinality(String),
    path String,
    article_id String,
    title String,
    referrer String,
    referrer_host LowCardinality(String),
    source LowCardinality(String),
    source_name LowCardinality(String),
    utm_source LowCardinality(String),
    utm_medium LowCardinality(String),
    utm_campaign LowCardinality(String),
    utm_content String,
    utm_term String,
    country LowCardinality(String),
    browser LowCardinality(String),
    browser_version LowCardinality(String),
    os LowCardinality(String),
    os_version LowCardinality(String),
    device LowCardinality(String),
    screen_width UInt16,
    engaged_ms UInt32,
    scroll_depth Int8,
    props Map(String, String),
    stream_id String COMMENT 'the Redis stream entry it came from'
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (site, date, type, visitor_id)
SETTINGS non_replicated_deduplication_window = 10000
