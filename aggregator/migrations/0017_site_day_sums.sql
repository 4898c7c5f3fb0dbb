-- A site's sums per site-local day beside its visitors (issue 17), so that a site whose
-- timezone is not a whole number of hours off UTC (India +5:30, Nepal +5:45,
-- Newfoundland -3:30) reads its cards and its chart by day and month from a rollup:
-- `site_hourly`'s UTC hours do not fall on its days, and it read raw events.
--
-- A visit never crosses the site's midnight (visitor ids change there, so a visit is
-- cut), so each of a visit's events is dated with its start's day. Per day, no role is
-- needed as in `site_hourly`: a day's bounces are its visits less its second page
-- views, its visit duration what its events add. The columns go to `site_visitors`,
-- whose view already groups every event by site and day: a view of their own would be
-- one more part per insert for the aggregator.
--
-- Filled from the raw events there are (days older than the oldest kept under a
-- retention have no sums: they are read as before). Apply with the aggregators
-- stopped (see 0007): an insert between the view's DROP and CREATE would miss it.
ALTER TABLE site_visitors ADD COLUMN IF NOT EXISTS pageviews SimpleAggregateFunction(sum, UInt64);

ALTER TABLE site_visitors ADD COLUMN IF NOT EXISTS visits SimpleAggregateFunction(sum, UInt64);

ALTER TABLE site_visitors ADD COLUMN IF NOT EXISTS bounces SimpleAggregateFunction(sum, Int64);

ALTER TABLE site_visitors ADD COLUMN IF NOT EXISTS visit_duration_ms SimpleAggregateFunction(sum, UInt64);

ALTER TABLE site_visitors ADD COLUMN IF NOT EXISTS engaged_ms SimpleAggregateFunction(sum, UInt64);

ALTER TABLE site_visitors ADD COLUMN IF NOT EXISTS events SimpleAggregateFunction(sum, UInt64);

DROP VIEW IF EXISTS site_visitors_mv;

INSERT INTO site_visitors (site, span, date, visitors, pageviews, visits, bounces, visit_duration_ms, engaged_ms, events)
SELECT
    site,
    'day' AS span,
    date,
    uniqStateIf(visitor_id, 0) AS visitors,
    countIf(type = 'pageview') AS pageviews,
    toUInt64(sum(new_visit)) AS visits,
    toInt64(sum(new_visit)) - toInt64(countIf(visit_start > 0 AND pageview_number = 2)) AS bounces,
    toUInt64(sumIf(duration_ms, visit_start > 0)) AS visit_duration_ms,
    toUInt64(sum(engaged_ms)) AS engaged_ms,
    countIf(type != 'engagement') AS events
FROM events
WHERE (SELECT count() FROM site_visitors WHERE events > 0) = 0
GROUP BY site, date;

CREATE MATERIALIZED VIEW IF NOT EXISTS site_visitors_mv TO site_visitors AS
SELECT
    site,
    'day' AS span,
    date,
    uniqState(visitor_id) AS visitors,
    countIf(type = 'pageview') AS pageviews,
    toUInt64(sum(new_visit)) AS visits,
    toInt64(sum(new_visit)) - toInt64(countIf(visit_start > 0 AND pageview_number = 2)) AS bounces,
    toUInt64(sumIf(duration_ms, visit_start > 0)) AS visit_duration_ms,
    toUInt64(sum(engaged_ms)) AS engaged_ms,
    countIf(type != 'engagement') AS events
FROM events
GROUP BY site, date;
