"""One registry of metrics for every component; /metrics serves it.

Names follow Prometheus's conventions; each metric is declared here once, so a
grep for its name finds every place that moves it. Counters and histograms move
where the thing happens; the gauges of the pipeline's state (stream, online
visitors) are read from Redis when /metrics is scraped (`aggregator/gauges.py`).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from footfall.loop_histogram import LoopHistogram

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
QUERIES_OVER_MEMORY = Counter(
    "footfall_queries_over_memory_total",
    "Dashboard and Stats API queries ClickHouse refused for memory, each answered 503: "
    "over the query's budget (`query_memory_mb`) or the engine's total (`chdb_memory_mb`).",
    ["limit"],
    registry=REGISTRY,
)
EMBEDDED_RESTARTS = Counter(
    "footfall_embedded_restarts_total",
    "Times `footfall serve` started its embedded Redis again after it exited.",
    registry=REGISTRY,
)
STORE_ERRORS = Counter(
    "footfall_store_errors_total",
    "Failed calls to ClickHouse or Redis, by store: the aggregator's (each retried), the "
    "collector's and the dashboard's (each answered 503).",
    ["store"],
    registry=REGISTRY,
)
HTTP_SECONDS = LoopHistogram(
    "footfall_http_request_seconds",
    "Time to answer an HTTP request, by method, route (its pattern, never the raw URL) and status.",
    ["method", "route", "status"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=REGISTRY,
)

# Read at scrape time by the aggregator; NaN (and no per-site series) while Redis
# does not answer. Several aggregators report the same values: take max() of them.
STREAM_LENGTH = Gauge(
    "footfall_stream_length",
    "Events in the Redis stream: not yet acknowledged (acknowledged ones are deleted).",
    registry=REGISTRY,
)
STREAM_LAG = Gauge(
    "footfall_stream_lag",
    "Events in the stream not yet delivered to any aggregator (the consumer group's lag).",
    registry=REGISTRY,
)
STREAM_PENDING = Gauge(
    "footfall_stream_pending",
    "Events delivered to an aggregator and not yet acknowledged.",
    registry=REGISTRY,
)
DEAD_LETTERS = Gauge(
    "footfall_dead_letters",
    "Events in the dead-letter stream, waiting for an operator.",
    registry=REGISTRY,
)
ONLINE_VISITORS = Gauge(
    "footfall_online_visitors",
    "Visitors online now, per registered site (within the site's online window).",
    ["site"],
    registry=REGISTRY,
)
