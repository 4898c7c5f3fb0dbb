"""The operator's status report: its shape, shared by the server that serves it and the
CLI that draws it.

The aggregator reads the pipeline's part (`aggregator.pipeline_state.gather`);
`footfall serve` adds its embedded Redis and its data dir's disk
(`app.operator_status`), serves it at `GET /api/v1/status`, and `footfall status`
draws it (`app.status_screen`).
"""

from __future__ import annotations

import msgspec


class Consumer(msgspec.Struct):
    name: str
    pending: int
    idle_ms: int


class SiteStatus(msgspec.Struct):
    domain: str
    stored_this_minute: int = 0
    stored_last_minute: int = 0
    online: int = 0
    inserted_last_60s: int | None = None
    """None when ClickHouse was not asked or did not answer."""
    public_counters: bool = False
    """Whether anyone may read its counters (and so its online visitors)."""


class EmbeddedRedisStatus(msgspec.Struct):
    state: str
    """`running`, `restarting`, or `failed` (supervision gave up: `footfall serve` stops)."""
    restarts: int = 0
    problem: str | None = None
    """Why it last exited, or why supervision gave up."""


class Status(msgspec.Struct):
    at_ms: int
    stream_length: int | None = None
    oldest_waiting_ms: int | None = None
    """Arrival time of the oldest event not yet acknowledged (None: the stream is empty)."""
    group_lag: int | None = None
    """Entries not yet delivered to any aggregator (None: unknown, or no group yet)."""
    group_pending: int | None = None
    consumers: list[Consumer] = []
    dead_letters: int | None = None
    newest_in_clickhouse_ms: int | None = None
    """Arrival time of the newest event in ClickHouse in the last 7 days."""
    sites: list[SiteStatus] = []
    embedded_redis: EmbeddedRedisStatus | None = None
    """None: Redis is not the embedded one (or no server runs it)."""
    disk_free_bytes: int | None = None
    """Free space on the data dir's file system (None: not asked)."""
    problems: dict[str, str] = {}


def to_json(status: Status) -> bytes:
    return msgspec.json.encode(status)


def from_json(data: bytes) -> Status:
    return msgspec.json.decode(data, type=Status)
