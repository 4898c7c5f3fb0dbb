-- closed_counts in granules of 1,024 rows, not 256 (issue 17, 100 M page views a year).
--
-- ClickHouse keeps each part's primary index in memory, and reads a part's marks of a
-- column whole into the mark cache (`FOOTFALL_CHDB_CACHE_MB`, 64 MiB by default). At 256
-- rows a granule, the 100 M bench's closed_counts (1.47 B rows, 5.75 M granules) held
-- 241 MiB of primary index, and one article's numbers at 12mo loaded 96 MB of marks: more
-- than the cache, so every such query loaded them again (1.3-2.4 s; 63 ms with a cache
-- they fit in). A quarter as many granules hold a quarter of each.
--
-- The rows are copied, so the closed days stay closed: to a table of the new form, then
-- back under the table's name; the markers (`closed`) after the counts each time, so that
-- a marker is never there without its counts. Run again after an interruption, it starts
-- over from what `closed_counts` holds (at worst nothing: the aggregator then closes every
-- past day anew). Apply with the aggregators stopped (see 0007).
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
    entries UInt64,
    bounces UInt64,
    duration_ms UInt64,
    title String,
    version DateTime64(3, 'UTC')
)
ENGINE = MergeTree
PARTITION BY toYear(date)
ORDER BY (site, kind, span, date, key, value)
SETTINGS index_granularity = 1024;

DROP TABLE IF EXISTS closed_counts_copy;

CREATE TABLE IF NOT EXISTS closed_counts_copy
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
    entries UInt64,
    bounces UInt64,
    duration_ms UInt64,
    title String,
    version DateTime64(3, 'UTC')
)
ENGINE = MergeTree
PARTITION BY toYear(date)
ORDER BY (site, kind, span, date, key, value)
SETTINGS index_granularity = 1024;

INSERT INTO closed_counts_copy SELECT * FROM closed_counts WHERE kind != 'closed';

INSERT INTO closed_counts_copy SELECT * FROM closed_counts WHERE kind = 'closed';

DROP TABLE IF EXISTS closed_counts;

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
    entries UInt64,
    bounces UInt64,
    duration_ms UInt64,
    title String,
    version DateTime64(3, 'UTC')
)
ENGINE = MergeTree
PARTITION BY toYear(date)
ORDER BY (site, kind, span, date, key, value)
SETTINGS index_granularity = 1024;

INSERT INTO closed_counts SELECT * FROM closed_counts_copy WHERE kind != 'closed';

INSERT INTO closed_counts SELECT * FROM closed_counts_copy WHERE kind = 'closed';

DROP TABLE IF EXISTS closed_counts_copy
