"""The embedded Redis: a real server on a free loopback port, its data under a folder."""

from __future__ import annotations

from footfall.connections import sync_redis
from footfall.redis_server import EmbeddedRedis


def test_the_embedded_redis_keeps_its_data_across_restarts_with_aof(tmp_path):
    server = EmbeddedRedis(tmp_path / "redis").start()
    try:
        client = sync_redis(server.url)
        client.set("kept", "yes")
        client.close()
        server.stop()
        assert server.process is None
        server.start()
        client = sync_redis(server.url)
        assert client.get("kept") == b"yes"
        client.close()
    finally:
        server.stop()
    assert (tmp_path / "redis" / "redis.log").exists()


def test_two_embedded_servers_get_different_ports(tmp_path):
    with EmbeddedRedis(tmp_path / "a") as a, EmbeddedRedis(tmp_path / "b") as b:
        assert a.port != b.port
        assert sync_redis(a.url).ping() and sync_redis(b.url).ping()
