"""A reply Redis never delivers: the collector answers what really happened, and the
aggregator finds what a lost read delivered to it.

A TCP proxy between a client and a real Redis breaks the connection once, either
after Redis ran the call (its reply dropped) or before the call reaches Redis.
For the collector's commit script, the first must answer 202 (the events are
stored: a 503 would invite a retry that counts them twice), the second 503
(nothing stored). For the aggregator's read, the entries Redis delivered with the
lost reply wait in its pending list: it must insert them without a restart.
"""

from __future__ import annotations

import asyncio
import contextlib

import pytest
import redis.exceptions

from aggregator.consumer import Aggregator
from app.redis_server import EmbeddedRedis
from footfall import keys
from footfall.connections import AsyncClickHouse, async_redis
from tests.helpers import pageview, stream_events


class BreakingProxy:
    """Forwards a Redis connection; armed, it breaks the next one carrying `command`,
    either before the call reaches Redis or after Redis answered it."""

    def __init__(self, target: EmbeddedRedis, command: bytes = b"EVALSHA"):
        self.target = target
        self.command = command
        self.mode = ""  # "", "drop-call" or "drop-reply"
        self._server: asyncio.Server | None = None
        self.url = ""

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.url = self.target.url_at(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        assert self._server is not None
        self._server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target.port)
        calling = asyncio.Event()

        async def upstream() -> None:
            while data := await reader.read(65536):
                if self.command in data and self.mode == "drop-call":
                    self.mode = ""
                    break
                if self.command in data and self.mode == "drop-reply":
                    calling.set()
                up_writer.write(data)
                await up_writer.drain()

        async def downstream() -> None:
            while data := await up_reader.read(65536):
                if calling.is_set() and not data.startswith(b"-"):  # not NOSCRIPT: it ran
                    self.mode = ""
                    break
                calling.clear()
                writer.write(data)
                await writer.drain()

        tasks = [asyncio.create_task(upstream()), asyncio.create_task(downstream())]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:
            task.cancel()
        for w in (writer, up_writer):
            with contextlib.suppress(Exception):
                w.close()


@pytest.fixture
async def proxy(redis_server: EmbeddedRedis):
    proxy = BreakingProxy(redis_server)
    await proxy.start()
    yield proxy
    await proxy.close()


async def test_events_stored_before_a_lost_reply_are_answered_202(
    make_client, add_site, proxy, redis_db
):
    client = await make_client(redis_url=proxy.url)
    await add_site("news.example")
    assert (await client.post("/api/event", json=pageview())).status == 202
    proxy.mode = "drop-reply"
    response = await client.post("/api/event", json=pageview("https://news.example/b.html"))
    assert proxy.mode == ""  # the reply was dropped
    assert response.status == 202
    assert len(stream_events(redis_db)) == 2


async def test_events_that_never_reached_redis_are_answered_503(
    make_client, add_site, proxy, redis_db
):
    client = await make_client(redis_url=proxy.url)
    await add_site("news.example")
    assert (await client.post("/api/event", json=pageview())).status == 202
    proxy.mode = "drop-call"
    response = await client.post("/api/event", json=pageview("https://news.example/b.html"))
    assert proxy.mode == ""
    assert response.status == 503
    assert len(stream_events(redis_db)) == 1


async def test_entries_a_lost_read_delivered_are_inserted_without_a_restart(
    client, add_site, redis_server, redis_db, settings, ch, clock
):
    await add_site("news.example")
    for i in range(9):
        page = pageview(f"https://news.example/{i}.html")
        assert (await client.post("/api/event", json=page)).status == 202
    proxy = BreakingProxy(redis_server, command=b"XREADGROUP")
    await proxy.start()
    connection = async_redis(proxy.url)
    aggregator = Aggregator(settings, connection, AsyncClickHouse(ch), consumer="a", clock=clock)
    try:
        await aggregator.prepare()
        proxy.mode = "drop-reply"
        with pytest.raises(redis.exceptions.ConnectionError):
            await aggregator.step()
        assert proxy.mode == ""  # Redis delivered the entries; their reply was dropped
        pending = redis_db.xpending(keys.stream("news.example"), keys.CONSUMER_GROUP)
        assert pending["pending"] == 9
        assert await aggregator.drain() == 9
    finally:
        await connection.aclose()
        await proxy.close()
    assert ch.query("SELECT count() FROM events").result_rows == [(9,)]
    assert redis_db.xlen(keys.stream("news.example")) == 0
