"""Connections to Redis and ClickHouse, made one way for every component.

Redis commands are never retried by the client: a script that may have run must
not run twice, so a failure goes up to the caller (the collector answers 503).
ClickHouse is reached through clickhouse-connect only; its chdb backend has no
async client, so async code calls the sync client from a thread.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import importlib.util
import os
from collections.abc import Callable
from typing import Any, TypeVar

import redis
import redis.asyncio
from clickhouse_connect import get_client
from clickhouse_connect.driver.client import Client as ClickHouse
from redis.backoff import NoBackoff
from redis.retry import Retry

__all__ = ["AsyncClickHouse", "ClickHouse", "async_redis", "clickhouse", "sync_redis"]
T = TypeVar("T")

_REDIS_OPTIONS = {
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
    "retry": Retry(NoBackoff(), 0),
}


def async_redis(url: str) -> redis.asyncio.Redis:
    return redis.asyncio.Redis.from_url(url, **_REDIS_OPTIONS)


def sync_redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, **_REDIS_OPTIONS)


def clickhouse(dsn: str) -> ClickHouse:
    """A client for `chdb:///dir` (in-process engine) or `http://user:pass@host:8123/db`."""
    if dsn.startswith("chdb://"):
        _require_chdb()
        path = dsn.removeprefix("chdb://")
        if path:
            os.makedirs(path, exist_ok=True)
    return get_client(dsn=dsn)


class EmbeddedEngineMissing(RuntimeError):
    """A chdb:// DSN in an installation without the `embedded` extra (the server image)."""


def _require_chdb() -> None:
    # chdb is an optional extra: say how to get it, or how to do without it, in one line.
    if importlib.util.find_spec("chdb") is None:
        raise EmbeddedEngineMissing(
            "the chdb:// DSN needs the embedded ClickHouse: pip install 'footfall[embedded]' "
            "(or set FOOTFALL_CLICKHOUSE_DSN to a ClickHouse server, http://user:pass@host:8123/db)"
        )


class AsyncClickHouse:
    """Runs a sync ClickHouse client's calls on one worker thread, for async code.

    One thread serializes the calls: chdb's engine is not to be entered from
    several threads of a process at once, and a single connection to a server
    needs no more.
    """

    def __init__(self, client: ClickHouse):
        self.client = client
        self._executor = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="clickhouse")

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args, **kwargs))

    async def query(self, sql: str, parameters: dict[str, Any] | None = None) -> list[tuple]:
        result = await self.run(self.client.query, sql, parameters=parameters)
        return result.result_rows

    async def insert(
        self,
        table: str,
        rows: list[list[Any]],
        columns: list[str],
        settings: dict[str, Any] | None = None,
    ) -> None:
        await self.run(self.client.insert, table, rows, column_names=columns, settings=settings)

    def close(self) -> None:
        self._executor.shutdown(wait=True)
