-- Dashboard users and API tokens. Small and mutable, like `sites`: ReplacingMergeTree
-- read with FINAL, where a newer `version` of a row replaces the older and `deleted`
-- hides it. Neither table holds a secret in clear: passwords are argon2 hashes, tokens
-- their SHA-256.
CREATE TABLE IF NOT EXISTS users
(
    email String,
    password_hash String,
    role LowCardinality(String),
    sites Array(String),
    updated_at DateTime64(3, 'UTC'),
    deleted Bool,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY email;

CREATE TABLE IF NOT EXISTS api_tokens
(
    id String,
    name String,
    secret_hash String,
    scopes Array(LowCardinality(String)),
    sites Array(String),
    created_at DateTime64(3, 'UTC'),
    created_by String,
    deleted Bool,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY id
