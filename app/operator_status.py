"""The operator's status of `footfall serve`: the pipeline's state, its embedded Redis, its disk.

`footfall status` draws it (`status_screen`), reading it here when no server owns
the data dir, else from the server's `GET /api/v1/status` (`status_api`).
"""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

import redis.asyncio

from aggregator.pipeline_state import gather
from footfall.connections import AsyncClickHouse
from footfall.status import EmbeddedRedisStatus, Status

LOW_DISK_BYTES = 256 << 20
"""Free space below which the data dir's disk is a problem (or below 5 % of a small one):
Redis and ClickHouse refuse writes when it runs out."""


async def operator_status(
    redis_client: redis.asyncio.Redis,
    clickhouse: AsyncClickHouse | None,
    now_ms: int,
    *,
    embedded_redis: EmbeddedRedisStatus | None = None,
    data_dir: Path | None = None,
) -> Status:
    """The pipeline's state (`aggregator.pipeline_state`), with the state of the embedded
    Redis when this process runs one, and the free space on the data dir's disk."""
    status = await gather(redis_client, clickhouse, now_ms)
    status.embedded_redis = embedded_redis
    if embedded_redis and embedded_redis.state != "running":
        status.problems["embedded redis"] = f"{embedded_redis.state}: {embedded_redis.problem}"
    if data_dir is not None:
        with contextlib.suppress(OSError):
            disk = shutil.disk_usage(data_dir)
            status.disk_free_bytes = disk.free
            if disk.free < min(LOW_DISK_BYTES, disk.total // 20):
                status.problems["disk"] = f"{disk.free / 1e6:,.1f} MB free on the data dir's disk"
    return status
