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
