-- The site registry. Small and mutable: a ReplacingMergeTree read with FINAL,
-- where a newer `version` of a domain replaces the older and `deleted` hides it.
CREATE TABLE IF NOT EXISTS sites
(
    domain String,
    timezone String,
    public_counters Bool,
    counter_measure LowCardinality(String),
    counter_offset UInt64,
    online_window UInt32,
    article_pattern String,
    updated_at DateTime64(3, 'UTC'),
    deleted Bool,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY domain
