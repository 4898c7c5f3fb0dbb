"""Connections to Redis and ClickHouse, made one way for every component.

Redis commands are never retried by the client: a script that may have run must
not run twice, so a failure goes up to the caller (the collector answers 503).
A Redis URL with the scheme `redis+cluster://` (or `rediss+cluster://`) names
any node of a Redis Cluster; the client then is redis-py's `RedisCluster`, which
routes each command to the node of its key's slot. `run_script_each` runs one
script per key group (per site) in one round trip on either.
ClickHouse is reached through clickhouse-connect only; its chdb backend has no
async client, so async code calls the sync client from a thread.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import copy
import functools
import importlib.util
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, Self, TypeVar

import redis
import redis.asyncio
import redis.asyncio.cluster
import redis.asyncio.retry
import redis.cluster
import redis.exceptions
from clickhouse_connect import get_client
from clickhouse_connect.driver.client import Client as ClickHouse
from redis.backoff import NoBackoff
from redis.commands.core import AsyncScript
from redis.retry import Retry

from footfall.private_files import private_dir

__all__ = [
    "IDLE_S",
    "AsyncClickHouse",
    "ClickHouse",
    "async_redis",
    "clickhouse",
    "is_cluster",
    "run_script_each",
    "sync_redis",
]
T = TypeVar("T")
log = logging.getLogger(__name__)

_REDIS_OPTIONS = {
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
    "retry": Retry(NoBackoff(), 0),
}
_ASYNC_REDIS_OPTIONS = {**_REDIS_OPTIONS, "retry": redis.asyncio.retry.Retry(NoBackoff(), 0)}


CLUSTER_SCHEMES = ("redis+cluster://", "rediss+cluster://")


def async_redis(url: str) -> redis.asyncio.Redis:
    if url.startswith(CLUSTER_SCHEMES):
        cluster = redis.asyncio.cluster.RedisCluster
        return cluster.from_url(_node_url(url), **_ASYNC_REDIS_OPTIONS)  # type: ignore[return-value]
    return redis.asyncio.Redis.from_url(url, **_ASYNC_REDIS_OPTIONS)


def sync_redis(url: str) -> redis.Redis:
    if url.startswith(CLUSTER_SCHEMES):
        cluster = redis.cluster.RedisCluster
        return cluster.from_url(_node_url(url), **_REDIS_OPTIONS)  # type: ignore[return-value]
    return redis.Redis.from_url(url, **_REDIS_OPTIONS)


def is_cluster(client: object) -> bool:
    """Whether `client` talks to a Redis Cluster (made from a `redis+cluster://` URL)."""
    return isinstance(client, redis.asyncio.cluster.RedisCluster | redis.cluster.RedisCluster)


def _node_url(url: str) -> str:
    return url.replace("+cluster://", "://", 1)


async def run_script_each(
    client: redis.asyncio.Redis,
    script: AsyncScript,
    calls: list[tuple[list[Any], list[Any]]],
) -> list[Any]:
    """Run `script` once per (keys, args) in `calls`, all in one round trip; each call's
    reply, or the exception it raised, in order.

    One call is a plain script call. Several go in one pipeline, not a transaction:
    on a Redis Cluster each call goes to the node of its keys' slot, so the keys of
    one call must share a slot (one site's). A call Redis answered NOSCRIPT (a
    restarted server) did not run: it runs again through the script, which loads it.
    """
    if len(calls) == 1:
        keys, args = calls[0]
        try:
            return [await script(keys=keys, args=args)]
        except Exception as e:  # the caller decides what a failed call means
            return [e]
    try:
        async with client.pipeline(transaction=False) as pipe:
            for keys, args in calls:
                # EVALSHA by its name: redis-py's cluster pipeline blocks its evalsha().
                pipe.execute_command("EVALSHA", script.sha, len(keys), *keys, *args)
            replies = await pipe.execute(raise_on_error=False)
    except Exception as e:  # the caller decides what a failed call means
        return [e] * len(calls)
    for i, reply in enumerate(replies):
        if isinstance(reply, redis.exceptions.NoScriptError):
            keys, args = calls[i]
            try:
                replies[i] = await script(keys=keys, args=args)
            except Exception as e:  # the caller decides what a failed call means
                replies[i] = e
    return replies


# The engine compiles an expression to machine code the third time it meets it: 50-250 ms
# once per expression, which in chdb blocks the one thread every query of the process
# waits for, for queries of 10-80 ms. A dashboard call then took 140-240 ms at its
# third and fourth runs (BENCHMARKS.md, seventh pass); the aggregator's drain is the
# same either way. A server keeps its compiled expressions for every client, and its
# defaults stand.
CHDB_SETTINGS = {
    "compile_expressions": 0,
    "compile_aggregate_expressions": 0,
    "compile_sort_description": 0,
}


MIB = 1 << 20

# chdb's caches, each given the one size `cache_mb`: ClickHouse's defaults (5 GiB each for
# marks and primary indexes) are a server's, sized to its RAM, not a process's.
CHDB_CACHES = (
    "mark_cache_size",
    "index_mark_cache_size",
    "primary_index_cache_size",
    "query_condition_cache_size",
)


def clickhouse(dsn: str, *, memory_mb: int = 0, cache_mb: int = 0) -> ClickHouse:
    """A client for `chdb:///dir` (in-process engine) or `http://user:pass@host:8123/db`.

    For chdb, `memory_mb` bounds everything the engine holds (queries, inserts, merges,
    caches: ClickHouse's `max_server_memory_usage`), and `cache_mb` each of its caches;
    0 leaves ClickHouse's default. A server sets its own. The engine takes them when the
    process first opens it.
    """
    if not dsn.startswith("chdb://"):
        return get_client(dsn=dsn)
    _require_chdb()
    path = dsn.removeprefix("chdb://")
    if path:
        private_dir(Path(path))
    options = {}
    if memory_mb:
        options["max_server_memory_usage"] = memory_mb * MIB
    if cache_mb:
        options |= dict.fromkeys(CHDB_CACHES, cache_mb * MIB)
    client = get_client(dsn=dsn, chdb_options=options or None)
    for name, value in CHDB_SETTINGS.items():
        client.set_client_setting(name, value)
    return client


class EmbeddedEngineMissing(RuntimeError):
    """A chdb:// DSN in an installation without the `embedded` extra (the server image)."""


def _require_chdb() -> None:
    # chdb is an optional extra: say how to get it, or how to do without it, in one line.
    if importlib.util.find_spec("chdb") is None:
        raise EmbeddedEngineMissing(
            "the chdb:// DSN needs the embedded ClickHouse: pip install 'footfall[embedded]' "
            "(or set FOOTFALL_CLICKHOUSE_DSN to a ClickHouse server, http://user:pass@host:8123/db)"
        )


GIVE_BACK = "SYSTEM JEMALLOC PURGE"
"""Returns the memory chdb's allocator keeps after its queries to the system: 80 MiB
after one query of a few million groups (BENCHMARKS.md, memory)."""
IDLE_S = 5.0
"""How long an in-process engine waits with no call before it gives its memory back
(`GIVE_BACK`): a dashboard page's calls come within a second, and a live aggregator
calls every second or so."""


class _Idle:
    """When an `AsyncClickHouse` (and its copies) gives its memory back: `after_s` with no
    call running, or never (None)."""

    def __init__(self, after_s: float | None):
        self.after_s = after_s
        self.running = 0
        self.timer: asyncio.TimerHandle | None = None

    def busy(self) -> None:
        self.running += 1
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def done(self, loop: asyncio.AbstractEventLoop, give_back: Callable[[], None]) -> None:
        self.running -= 1
        if self.running == 0 and self.after_s is not None:
            self.timer = loop.call_later(self.after_s, give_back)


QUIET_S = 0.1
"""How long background work waits after the last call made for someone: the queries of a
dashboard page's calls follow each other closer than that."""


class _Turns:
    """Whose turn the one thread is: calls made for someone (a dashboard's query, an insert)
    go first, background work (closing days) once they have been quiet for `QUIET_S`, or
    once it has waited as long as its last call took: under calls that never stop, it
    still has about half the thread."""

    def __init__(self) -> None:
        self.foreground = 0
        self.last_done = -QUIET_S
        self.last_background_s = 0.0

    async def quiet(self, loop: asyncio.AbstractEventLoop) -> None:
        give_up = loop.time() + max(QUIET_S, self.last_background_s)
        while self.foreground or loop.time() - self.last_done < QUIET_S:
            if loop.time() >= give_up:
                return
            await asyncio.sleep(QUIET_S / 4)


class AsyncClickHouse:
    """Runs a sync ClickHouse client's calls on one worker thread, for async code.

    One thread serializes the calls: chdb's engine is not to be entered from
    several threads of a process at once, and a single connection to a server
    needs no more. Work no one waits for runs `in_background`: its calls let those made
    for someone go first. With `give_back_after_s` (an in-process engine's), the engine
    gives the memory its allocator keeps back to the system once no call has come for
    that long: idle, `footfall serve` keeps what it holds, not its busiest moment.
    """

    def __init__(self, client: ClickHouse, *, give_back_after_s: float | None = None):
        self.client = client
        self.query_settings: dict[str, Any] = {}
        self.background = False
        self._executor = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="clickhouse")
        self._idle = _Idle(give_back_after_s)
        self._turns = _Turns()

    def with_query_settings(self, **settings: Any) -> Self:
        """The same client on the same thread, whose `query` calls run with `settings` too:
        the dashboard's memory budget per query, which the aggregator does not share."""
        budgeted = copy.copy(self)
        budgeted.query_settings = {**self.query_settings, **settings}
        return budgeted

    def in_background(self) -> Self:
        """The same client on the same thread, whose calls wait for a quiet moment (see
        `_Turns`): under `footfall serve` a closing's statements, each seconds long on a
        large site, would otherwise hold the dashboard's queries behind them."""
        background = copy.copy(self)
        background.background = True
        return background

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        if self.background:
            await self._turns.quiet(loop)
        else:
            self._turns.foreground += 1
        self._idle.busy()
        started = loop.time()
        try:
            return await loop.run_in_executor(
                self._executor, functools.partial(fn, *args, **kwargs)
            )
        finally:
            self._idle.done(loop, self._give_back)
            if self.background:
                self._turns.last_background_s = loop.time() - started
            else:
                self._turns.foreground -= 1
                self._turns.last_done = loop.time()

    def _give_back(self) -> None:
        self._idle.timer = None
        done = self._executor.submit(self.client.command, GIVE_BACK)
        done.add_done_callback(_log_failure)

    async def query(self, sql: str, parameters: dict[str, Any] | None = None) -> list[tuple]:
        result = await self.run(
            self.client.query, sql, parameters=parameters, settings=self.query_settings or None
        )
        return result.result_rows

    async def command(self, sql: str, parameters: dict[str, Any] | None = None) -> None:
        await self.run(self.client.command, sql, parameters=parameters)

    async def insert(
        self,
        table: str,
        rows: list[list[Any]],
        columns: list[str],
        settings: dict[str, Any] | None = None,
    ) -> None:
        await self.run(self.client.insert, table, rows, column_names=columns, settings=settings)

    def close(self) -> None:
        if self._idle.timer is not None:
            self._idle.timer.cancel()
        self._executor.shutdown(wait=True)


def _log_failure(done: concurrent.futures.Future[Any]) -> None:
    # Memory given back is a saving, never a reason to fail: a failure is only noted.
    if (error := done.exception()) is not None:
        log.warning("clickhouse: %s failed: %s", GIVE_BACK, error)
