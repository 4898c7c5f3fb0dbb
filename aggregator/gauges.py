"""The pipeline's state as Prometheus gauges, read from Redis when /metrics is scraped.

The aggregator registers `refresh` as a scrape hook (`footfall.web.SCRAPE_HOOKS`):
the stream's length, the consumer group's lag and pending entries, the dead
letters, and the visitors online per registered site (the sites of the Redis
mirror, so the series are bounded by the registry and a deleted site's series
goes away; without `every_site`, only the sites whose counters are public, whose
numbers anyone may read at /api/counters anyway). It is the same reading as
`footfall status` (`aggregator.pipeline_state.gather`), rendered for Prometheus. Unknown
values (Redis down, no consumer group yet) are NaN, not the last ones seen.
"""

from __future__ import annotations

import math

import redis.asyncio

from aggregator.pipeline_state import gather
from footfall.service_metrics import (
    DEAD_LETTERS,
    ONLINE_VISITORS,
    STREAM_LAG,
    STREAM_LENGTH,
    STREAM_PENDING,
)


async def refresh(client: redis.asyncio.Redis, now_ms: int, *, every_site: bool) -> None:
    status = await gather(client, None, now_ms)
    STREAM_LENGTH.set(_known(status.stream_length))
    STREAM_LAG.set(_known(status.group_lag))
    STREAM_PENDING.set(_known(status.group_pending))
    DEAD_LETTERS.set(_known(status.dead_letters))
    # Cleared and set with no await between: a scrape never sees half of it.
    ONLINE_VISITORS.clear()
    if "redis" not in status.problems:
        for site in status.sites:
            if every_site or site.public_counters:
                ONLINE_VISITORS.labels(site.domain).set(site.online)


def _known(value: int | None) -> float:
    return math.nan if value is None else value
