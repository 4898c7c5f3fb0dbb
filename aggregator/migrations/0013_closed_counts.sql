-- Closed days' numbers: `visitor_counts` with the sums beside the visitors (issue 4).
--
-- `visitor_counts` (0012) held each closed day's visitors; a query still read the
-- period's page views, visits and engaged time from the rollups' day and month rows,
-- and, by article, picked the top articles from `article_stats`, whose rows are
-- ordered by article: a year's scan. `closed_counts` holds every number of a closed
-- day (or month) that a rollup answers, so a query reads the closed part of its
-- period from here alone and merges states only for the open days:
--
-- * 'site' (`site_visitors`): visitors (the sums stay in `site_hourly`, small);
-- * a property of `breakdown_stats` ('page', 'source', ...; `value` its value):
--   visitors, visits, page views;
-- * 'article' (`key` the article) and 'articles' (`value` the article): an
--   article's visitors, visits, page views, engaged time, and 'article' its title;
--   the same numbers twice, ordered by article for one article's page, and by day
--   for the period's top articles;
-- * 'article_source' (`key` the article, `value` the source): visitors, page views;
-- * 'exit_page' (`value` the path; visits on the day they started): visitors, visits;
-- * 'closed': a day or month closed. A closing writes its rows, then its marker,
--   all with one `version`; a day closed again after late events leaves its older
--   rows, and queries read a reclosed day's rows at its marker's latest version.
--
-- Partitioned by year, not month: a year's query reads two parts, not thirteen
-- (a lookup of ten articles: 42 -> 14 ms in chdb, BENCHMARKS.md).
--
-- The table starts empty and `visitor_counts` goes: the aggregator closes every past
-- day again by itself (a year of 10 million page views in about 40 s), and queries
-- merge states for the days not closed yet meanwhile.
CREATE TABLE IF NOT EXISTS closed_counts
(
    site LowCardinality(String),
    kind LowCardinality(String),
    span LowCardinality(String),
    date Date,
    key String,
    value String,
    visitors UInt64,
    visits UInt64,
    pageviews UInt64,
    engaged_ms UInt64,
    title String,
    version DateTime64(3, 'UTC')
)
ENGINE = MergeTree
PARTITION BY toYear(date)
ORDER BY (site, kind, key, span, date, value)
SETTINGS index_granularity = 256;

DROP TABLE IF EXISTS visitor_counts;
