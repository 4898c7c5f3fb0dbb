-- Visits, a row each (issue 17): its entry attributes, exit page, page views, events,
-- engaged time and duration, so that a filter on a visit's property (a click on a
-- source, a country, an entry page...) reads the period's visits, not every event of
-- them grouped by visit at each query.
--
-- Kept exact with the visit fields the collector decides (`visit_start`, `new_visit`):
-- the entry attributes are the entry page view's (its row alone carries them: the other
-- rows carry '', and `max` keeps the entry's), the exit is the latest page view's path
-- (`exit`: the time in ms, 13 digits, then the path, so the largest is the latest; a
-- tuple's subcolumn read under FINAL gave the unmerged part's value in chdb 4.4), and
-- the sums add every event of the visit. Rows of one visit from several inserts are
-- merged in the background; a read merges what is not yet merged with FINAL.
--
-- It replaces `visit_exits` (0008), a row per visit too: its exit page is read here,
-- so an insert costs no more views than before. Filled from the raw events there are
-- (a row per event: parts merge them into one per visit; grouping ten million events
-- by visit at once took chdb past its memory budget), then the view is made. Apply
-- with the aggregators stopped (see 0007).
CREATE TABLE IF NOT EXISTS visits
(
    site LowCardinality(String),
    visit_start DateTime64(3, 'UTC'),
    visitor_id UInt64,
    source_name SimpleAggregateFunction(max, LowCardinality(String)),
    referrer_host SimpleAggregateFunction(max, LowCardinality(String)),
    utm_source SimpleAggregateFunction(max, LowCardinality(String)),
    utm_medium SimpleAggregateFunction(max, LowCardinality(String)),
    utm_campaign SimpleAggregateFunction(max, LowCardinality(String)),
    utm_content SimpleAggregateFunction(max, String),
    utm_term SimpleAggregateFunction(max, String),
    country SimpleAggregateFunction(max, LowCardinality(String)),
    device SimpleAggregateFunction(max, LowCardinality(String)),
    browser SimpleAggregateFunction(max, LowCardinality(String)),
    browser_version SimpleAggregateFunction(max, LowCardinality(String)),
    os SimpleAggregateFunction(max, LowCardinality(String)),
    os_version SimpleAggregateFunction(max, LowCardinality(String)),
    entry_page SimpleAggregateFunction(max, String),
    exit SimpleAggregateFunction(max, String) COMMENT 'its latest page view: ms (13 digits), then path',
    pageviews SimpleAggregateFunction(sum, UInt64),
    events SimpleAggregateFunction(sum, UInt64) COMMENT 'page views and custom events',
    engaged_ms SimpleAggregateFunction(sum, UInt64),
    duration_ms SimpleAggregateFunction(sum, UInt64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(visit_start)
ORDER BY (site, visit_start, visitor_id)
SETTINGS non_replicated_deduplication_window = 10000;

INSERT INTO visits (site, visit_start, visitor_id, source_name, referrer_host, utm_source, utm_medium, utm_campaign, utm_content, utm_term, country, device, browser, browser_version, os, os_version, entry_page, exit, pageviews, events, engaged_ms, duration_ms)
SELECT
    site,
    visit_start,
    visitor_id,
    if(new_visit = 1, source_name, '') AS source_name,
    if(new_visit = 1, referrer_host, '') AS referrer_host,
    if(new_visit = 1, utm_source, '') AS utm_source,
    if(new_visit = 1, utm_medium, '') AS utm_medium,
    if(new_visit = 1, utm_campaign, '') AS utm_campaign,
    if(new_visit = 1, utm_content, '') AS utm_content,
    if(new_visit = 1, utm_term, '') AS utm_term,
    if(new_visit = 1, country, '') AS country,
    if(new_visit = 1, device, '') AS device,
    if(new_visit = 1, browser, '') AS browser,
    if(new_visit = 1, browser_version, '') AS browser_version,
    if(new_visit = 1, os, '') AS os,
    if(new_visit = 1, os_version, '') AS os_version,
    if(new_visit = 1, path, '') AS entry_page,
    if(type = 'pageview', concat(leftPad(toString(toUnixTimestamp64Milli(ts)), 13, '0'), path), '') AS exit,
    toUInt64(type = 'pageview') AS pageviews,
    toUInt64(type != 'engagement') AS events,
    toUInt64(engaged_ms) AS engaged_ms,
    toUInt64(duration_ms) AS duration_ms
FROM events
WHERE visit_start > 0 AND (SELECT count() FROM visits) = 0;

CREATE MATERIALIZED VIEW IF NOT EXISTS visits_mv TO visits AS
SELECT
    site,
    visit_start,
    visitor_id,
    maxIf(source_name, new_visit = 1) AS source_name,
    maxIf(referrer_host, new_visit = 1) AS referrer_host,
    maxIf(utm_source, new_visit = 1) AS utm_source,
    maxIf(utm_medium, new_visit = 1) AS utm_medium,
    maxIf(utm_campaign, new_visit = 1) AS utm_campaign,
    maxIf(utm_content, new_visit = 1) AS utm_content,
    maxIf(utm_term, new_visit = 1) AS utm_term,
    maxIf(country, new_visit = 1) AS country,
    maxIf(device, new_visit = 1) AS device,
    maxIf(browser, new_visit = 1) AS browser,
    maxIf(browser_version, new_visit = 1) AS browser_version,
    maxIf(os, new_visit = 1) AS os,
    maxIf(os_version, new_visit = 1) AS os_version,
    maxIf(path, new_visit = 1) AS entry_page,
    maxIf(concat(leftPad(toString(toUnixTimestamp64Milli(ts)), 13, '0'), path), type = 'pageview') AS exit,
    countIf(type = 'pageview') AS pageviews,
    countIf(type != 'engagement') AS events,
    toUInt64(sum(engaged_ms)) AS engaged_ms,
    toUInt64(sum(duration_ms)) AS duration_ms
FROM events
WHERE visit_start > 0
GROUP BY site, visit_start, visitor_id;

DROP VIEW IF EXISTS visit_exits_mv;

DROP TABLE IF EXISTS visit_exits
