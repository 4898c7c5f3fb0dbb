-- Visitors of closed days as numbers (issue 4).
--
-- A site's visitor ids are salted per site-local day, so no id is seen on two days,
-- and a period's visitors are the sum of its days' visitors. While a day is open,
-- its visitors are `uniq` states in the rollups, and a query decodes every hash of
-- every state it merges (about 60 ns each: a year of a busy page, hundreds of ms).
-- Once a day is over, its visitors no longer change (but for late events, which the
-- aggregator handles), so the aggregator closes it (aggregator/closing.py): it stores
-- every rollup's visitors of that day here as counts, and, when a month's last day is
-- closed, the month's sums. Queries read the counts of closed days and months and
-- merge states only for the days after them (dashboard/queries.py).
--
-- `kind` names the states a count comes from: 'site' (`site_visitors`), a property
-- of `breakdown_stats` ('page', 'source', ...; `value` its value), 'article' and
-- 'article_visits' (`article_stats`' visitors and visits, `key` the article),
-- 'article_source' (`article_sources`, `key` the article, `value` the source),
-- 'exit_page' (`visit_exits`' visitors by exit page, on the day their visit started).
-- Rows of `kind` 'closed' mark a day or month closed; a closing writes its rows,
-- then its marker, all with one `version`, and queries read a day's or month's rows
-- at its marker's version (a day closed again after late events leaves older rows).
CREATE TABLE IF NOT EXISTS visitor_counts
(
    site LowCardinality(String),
    kind LowCardinality(String),
    span LowCardinality(String),
    date Date,
    key String,
    value String,
    visitors UInt64,
    version DateTime64(3, 'UTC')
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(date)
ORDER BY (site, kind, key, span, date, value)
SETTINGS index_granularity = 256
