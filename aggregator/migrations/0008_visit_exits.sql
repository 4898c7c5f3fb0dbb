-- Exit pages (issue 4): each visit's last page, so that a breakdown by exit page
-- reads one row per visit instead of every event of the period's visits.
--
-- A row per page view (the view does no grouping), replaced by the visit's later
-- page views as parts merge: read with FINAL, one row per (site, visit_start,
-- visitor_id) is the visit's latest page view (`ts` is the version), its `path` the
-- exit page, as raw queries take it (argMax by time). Ordered by the visit's start,
-- as breakdowns select visits: those that started in the period. Plain columns, not
-- aggregate states: reading 700,000 visits' argMax states took longer than reading
-- the raw events (measured, BENCHMARKS.md).
--
-- Its own view (a visit is not a row of any other rollup): one more part per insert
-- (measured: BENCHMARKS.md). Filled from `events` first, while it is empty, then the
-- view is made (see 0007 on applying it with the aggregators stopped).
CREATE TABLE IF NOT EXISTS visit_exits
(
    site LowCardinality(String),
    visit_start DateTime64(3, 'UTC'),
    visitor_id UInt64,
    ts DateTime64(3, 'UTC'),
    path String
)
ENGINE = ReplacingMergeTree(ts)
PARTITION BY toYYYYMM(visit_start)
ORDER BY (site, visit_start, visitor_id)
SETTINGS non_replicated_deduplication_window = 10000;

INSERT INTO visit_exits (site, visit_start, visitor_id, ts, path)
SELECT site, visit_start, visitor_id, max(ts), argMax(path, ts)
FROM events
WHERE type = 'pageview' AND visit_start > 0 AND (SELECT count() FROM visit_exits) = 0
GROUP BY site, visit_start, visitor_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS visit_exits_mv TO visit_exits AS
SELECT site, visit_start, visitor_id, ts, path
FROM events
WHERE type = 'pageview' AND visit_start > 0
