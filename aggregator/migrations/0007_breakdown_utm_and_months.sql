-- Breakdowns (issue 4): UTM content and term join the visit properties of
-- `breakdown_daily`, and every property also gets a row per calendar month, so that
-- a long period merges a dozen monthly visitor states per value instead of hundreds
-- of daily ones.
--
-- A month row has `date` = the month's first day and `property` = 'month:' followed
-- by the property ('month:page', 'month:source_name'...); its numbers are those of
-- the month's daily rows, merged. Queries read month rows for the whole months of a
-- period and daily rows for the days around them (dashboard/queries.py).
--
-- The same view as before (one part per insert, no new view): its query is replaced
-- in place (MODIFY QUERY, no gap in what it rolls up). Before that, what the old view
-- lacks is filled from what is there: UTM content and term from `events`, month rows
-- from the daily rows. Each fill runs only while the table has none of the rows it
-- makes, so a migration interrupted halfway can run again. Events an aggregator
-- inserts between a fill and the query's replacement miss the new rows: apply it with
-- the aggregators stopped (`footfall serve` migrates before its aggregator starts;
-- with separate processes, stop the aggregators, `footfall migrate`, start them).
--
-- Cost: the view makes twice the rows it made (day and month), plus two per visit;
-- measured per insert in BENCHMARKS.md (bench/rollup_insert.py).
INSERT INTO breakdown_daily (site, date, property, value, visits, pageviews, visitors)
SELECT
    site,
    date,
    property_value.1 AS property,
    property_value.2 AS value,
    count() AS visits,
    toUInt64(0) AS pageviews,
    uniqState(visitor_id) AS visitors
FROM events
ARRAY JOIN [('utm_content', utm_content), ('utm_term', utm_term)] AS property_value
WHERE new_visit = 1
    AND (SELECT count() FROM breakdown_daily WHERE property IN ('utm_content', 'utm_term')) = 0
GROUP BY site, date, property, value;

INSERT INTO breakdown_daily (site, date, property, value, visits, pageviews, visitors)
SELECT
    site,
    toStartOfMonth(date) AS month,
    concat('month:', property) AS month_property,
    value,
    sum(visits),
    sum(pageviews),
    uniqMergeState(visitors)
FROM breakdown_daily
WHERE NOT startsWith(property, 'month:')
    AND (SELECT count() FROM breakdown_daily WHERE startsWith(property, 'month:')) = 0
GROUP BY site, month, month_property, value;

ALTER TABLE breakdown_daily_mv MODIFY QUERY
SELECT
    site,
    if(month, toStartOfMonth(date), date) AS date,
    if(month, concat('month:', property_value.1), property_value.1) AS property,
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
ARRAY JOIN [false, true] AS month
GROUP BY site, date, property, value
