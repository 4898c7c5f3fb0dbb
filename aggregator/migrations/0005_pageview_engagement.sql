-- Engagement per page view: each page view joined to its engagement events (the
-- snippet's heartbeats every ~30 s and the last one when the page is hidden or
-- left) by the page-view id `pv` the snippet puts on all of them.
--
-- One row per (site, date, pageview_id) once merged (read with GROUP BY, never
-- FINAL):
--   article_id, path  the page's (max: an event without them does not blank them)
--   pageviews         1 when the page view itself arrived, 0 for engagement alone
--                     (its page view fell on the previous day, or was never sent)
--   engagements       engagement events received
--   engaged_ms        engaged time, the sum of the engagement events' `e`
--   scroll_depth      deepest scroll in percent (the snippet sends the maximum so
--                     far, so the last one wins); -1 when never reported
-- `date` is each event's own day in the site's timezone: a page view read across
-- midnight has a row on each day, joined again by grouping over both days.
-- Events without a page-view id (Plausible's tracker, server-side senders) are not
-- in this table; their engaged time is still in `article_daily` and `site_hourly`.
--
-- Per article over days: engaged time per page view and mean deepest scroll:
--   SELECT article_id, count() AS pageviews,
--          avg(engaged_ms) AS engaged_ms_per_pageview,
--          avgIf(scroll_depth, scroll_depth >= 0) AS scroll_depth
--   FROM (
--       SELECT pageview_id, max(article_id) AS article_id, sum(pageviews) AS viewed,
--              sum(engaged_ms) AS engaged_ms, max(scroll_depth) AS scroll_depth
--       FROM pageview_engagement
--       WHERE site = {site:String} AND date BETWEEN {from:Date} AND {to:Date}
--       GROUP BY pageview_id
--   )
--   WHERE viewed > 0 AND article_id != ''
--   GROUP BY article_id
--
-- Why per page view and not per article and day: the mean of each page view's
-- deepest scroll needs each page view's maximum, which arrives over several
-- events and batches; only a row per page view can hold it exactly. It costs one
-- more materialized view per insert (measured: BENCHMARKS.md, aggregator).
CREATE TABLE IF NOT EXISTS pageview_engagement
(
    site LowCardinality(String),
    date Date,
    pageview_id String,
    article_id SimpleAggregateFunction(max, String),
    path SimpleAggregateFunction(max, String),
    pageviews SimpleAggregateFunction(sum, UInt64),
    engagements SimpleAggregateFunction(sum, UInt64),
    engaged_ms SimpleAggregateFunction(sum, UInt64),
    scroll_depth SimpleAggregateFunction(max, Int8)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(date)
ORDER BY (site, date, pageview_id)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS pageview_engagement_mv TO pageview_engagement AS
SELECT
    site,
    date,
    pageview_id,
    max(article_id) AS article_id,
    max(path) AS path,
    countIf(type = 'pageview') AS pageviews,
    countIf(type = 'engagement') AS engagements,
    toUInt64(sum(engaged_ms)) AS engaged_ms,
    max(scroll_depth) AS scroll_depth
FROM events
WHERE pageview_id != '' AND type IN ('pageview', 'engagement')
GROUP BY site, date, pageview_id
