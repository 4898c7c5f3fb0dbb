"""One registry of metrics for every component; /metrics serves it.

Names follow Prometheus's conventions; each metric is declared here once, so a
grep for its name finds every place that moves it.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

EVENTS_ACCEPTED = Counter(
    "footfall_events_accepted_total",
    "Events stored in the Redis stream by the collector.",
    registry=REGISTRY,
)
EVENTS_REFUSED = Counter(
    "footfall_events_refused_total",
    "Events the collector did not store, by reason (bots, invalid input, Redis down...).",
    ["reason"],
    registry=REGISTRY,
)
COMMIT_BATCH_EVENTS = Histogram(
    "footfall_commit_batch_events",
    "Events per group commit to Redis.",
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000),
    registry=REGISTRY,
)
BATCH_EVENTS = Histogram(
    "footfall_aggregator_batch_events",
    "Events per batch inserted into ClickHouse.",
    buckets=(1, 10, 50, 100, 250, 500, 1000, 2000, 5000),
    registry=REGISTRY,
)
INSERT_SECONDS = Histogram(
    "footfall_aggregator_insert_seconds",
    "Time to insert one batch into ClickHouse.",
    registry=REGISTRY,
)
EVENTS_INSERTED = Counter(
    "footfall_aggregator_events_inserted_total",
    "Events inserted into ClickHouse and acknowledged.",
    registry=REGISTRY,
)
EVENTS_DEAD = Counter(
    "footfall_aggregator_events_dead_total",
    "Events moved to the dead-letter stream, by reason.",
    ["reason"],
    registry=REGISTRY,
)
STORE_ERRORS = Counter(
    "footfall_aggregator_errors_total",
    "Failed calls to ClickHouse or Redis (each retried).",
    ["store"],
    registry=REGISTRY,
)
