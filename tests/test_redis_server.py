"""The embedded Redis: a real server on a free loopback port, its data under a folder."""

from __future__ import annotations

import collections
import shutil
import socket
from pathlib import Path

import pytest
import redis
from redis.exceptions import AuthenticationError

from app import redis_server
from app.redis_server import EmbeddedRedis, RedisServerError, find_redis_server, free_port
from footfall.connections import sync_redis


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


def test_a_free_port_is_neither_bound_nor_handed_out_before(monkeypatch):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        monkeypatch.setattr(redis_server, "FREE_PORTS", range(port, port + 2))
        monkeypatch.setattr(redis_server, "_handed_out", collections.deque(maxlen=64))
        assert free_port() == port + 1
        with pytest.raises(RedisServerError, match="no free loopback port"):
            free_port()  # the other was handed out: its server may not have bound yet


def test_free_ports_lie_below_the_kernels_ephemeral_range():
    # Clients' source ports come from that range: one taken between the check and
    # the server's bind was the parallel suite's "address already in use".
    first_ephemeral = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    assert redis_server.FREE_PORTS.stop <= first_ephemeral
    assert all(free_port() in redis_server.FREE_PORTS for _ in range(20))


def test_the_embedded_redis_requires_its_password(tmp_path):
    with EmbeddedRedis(tmp_path / "redis", password="kept-in-a-0600-file") as server:
        with redis.Redis(port=server.port) as stranger, pytest.raises(AuthenticationError):
            stranger.get("anything")
        assert server.url == f"redis://:kept-in-a-0600-file@127.0.0.1:{server.port}/0"
        assert sync_redis(server.url).ping()


def test_the_password_is_not_on_the_command_line_any_local_user_can_read(tmp_path):
    with EmbeddedRedis(tmp_path / "redis") as server:
        assert server.process is not None
        cmdline = Path(f"/proc/{server.process.pid}/cmdline").read_bytes()
        assert server.password.encode() not in cmdline


def test_its_aof_and_log_are_the_service_users_alone(tmp_path):
    with EmbeddedRedis(tmp_path / "redis") as server:
        sync_redis(server.url).set("kept", "yes")
    made = [tmp_path / "redis", *(tmp_path / "redis").rglob("*")]
    assert any(path.suffix == ".aof" for path in made)
    assert [path for path in made if path.stat().st_mode & 0o077] == []


def test_the_bundled_server_is_valkey_with_redis_7_features(tmp_path):
    assert Path(find_redis_server()).name == "valkey-server"
    with EmbeddedRedis(tmp_path / "redis", appendonly=False) as server:
        info = sync_redis(server.url).info("server")
    assert info["server_name"] == "valkey"
    assert tuple(int(n) for n in info["redis_version"].split(".")[:2]) >= (7, 2)


def test_a_configured_server_binary_is_the_one_run(tmp_path):
    """FOOTFALL_REDIS_SERVER, not PATH, chooses: here a copy of the bundled one elsewhere."""
    chosen = tmp_path / "bin" / "my-redis-server"
    chosen.parent.mkdir()
    shutil.copy(find_redis_server(), chosen)
    with EmbeddedRedis(tmp_path / "redis", server=str(chosen)) as server:
        assert server.process is not None
        assert Path(f"/proc/{server.process.pid}/exe").resolve() == chosen.resolve()


def test_a_configured_server_that_cannot_run_is_a_clear_error(tmp_path):
    with pytest.raises(RedisServerError, match=r"FOOTFALL_REDIS_SERVER .* not an executable"):
        EmbeddedRedis(tmp_path / "redis", server=str(tmp_path / "missing")).start()
