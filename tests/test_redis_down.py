"""Redis unreachable: 503 with Retry-After, never a 202 for an event that was not stored."""

from __future__ import annotations

import pytest

from app.redis_server import EmbeddedRedis
from footfall.connections import sync_redis
from tests.helpers import pageview, stream_events


@pytest.fixture
def own_redis(tmp_path):
    """A Redis of this test's own, with AOF, that the test may kill and restart."""
    server = EmbeddedRedis(tmp_path / "redis", appendonly=True).start()
    yield server
    server.stop()


@pytest.fixture
async def client_on_own_redis(make_client, own_redis):
    client = await make_client(redis_url=own_redis.url)
    response = await client.post(
        "/api/v1/sites",
        json={"domain": "news.example", "public_counters": True},
        headers={"Authorization": "Bearer test-admin-token"},
    )
    assert response.status == 201
    return client


async def test_events_get_503_with_retry_after_while_redis_is_down(client_on_own_redis, own_redis):
    client = client_on_own_redis
    assert (await client.post("/api/event", json=pageview())).status == 202
    own_redis.kill()

    for send in (
        client.post("/api/event", json=pageview()),
        client.post("/api/events", json=[pageview(), pageview()]),
    ):
        response = await send
        assert response.status == 503
        assert response.headers["Retry-After"] == "5"
        assert (await response.json())["error"]

    counters = await client.get("/api/counters?d=news.example")
    assert counters.status == 503
    ready = await client.get("/ready")
    assert ready.status == 503
    assert "redis" in (await ready.json())["problems"]


async def test_nothing_refused_is_stored_and_the_collector_recovers(client_on_own_redis, own_redis):
    client = client_on_own_redis
    assert (await client.post("/api/event", json=pageview())).status == 202
    own_redis.stop()  # a clean stop writes the AOF: the accepted event survives
    assert (await client.post("/api/event", json=pageview())).status == 503
    own_redis.start()

    db = sync_redis(own_redis.url)
    assert len(stream_events(db)) == 1
    assert (await client.get("/ready")).status == 200
    assert (await client.post("/api/event", json=pageview())).status == 202
    assert len(stream_events(db)) == 2
    db.close()


async def test_an_unknown_site_while_redis_is_down_is_503_not_404(client_on_own_redis, own_redis):
    own_redis.kill()
    response = await client_on_own_redis.post(
        "/api/event", json=pageview("https://never-seen.example/")
    )
    assert response.status == 503
