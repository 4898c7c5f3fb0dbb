"""A real Redis Cluster for the tests: three masters on free loopback ports, no replicas.

Each node is a server (the embedded Redis's binary) run with `--cluster-enabled
yes`, its data and node table in its own folder, and a password, as every server
footfall starts has; the bundled cli's `--cluster create` assigns the 16384
slots, and the cluster is used once every node reports `cluster_state:ok`.
"""

from __future__ import annotations

import secrets
import socket
import subprocess
import time
from pathlib import Path

import redis.cluster

from app.redis_server import RedisServerError, find_redis_cli, find_redis_server, free_port

MASTERS = 3
BUS_OFFSET = 10_000
"""A node's cluster bus listens on its port + 10000."""


class RedisCluster:
    def __init__(self, data_dir: str | Path, masters: int = MASTERS):
        self.data_dir = Path(data_dir)
        self.ports = [_free_node_port() for _ in range(masters)]
        self.password = secrets.token_urlsafe(24)
        self.processes: list[subprocess.Popen[bytes]] = []

    @property
    def url(self) -> str:
        """footfall's URL of a cluster: any node, scheme `redis+cluster`."""
        return self.url_as("", self.password)

    def url_as(self, user: str, password: str) -> str:
        return f"redis+cluster://{user}:{password}@127.0.0.1:{self.ports[0]}"

    def node(self, port: int) -> redis.Redis:
        """A plain client of one node."""
        return redis.Redis(port=port, password=self.password)

    def start(self, timeout: float = 30.0) -> RedisCluster:
        for port in self.ports:
            folder = self.data_dir / str(port)
            folder.mkdir(parents=True, exist_ok=True)
            args = [
                find_redis_server(),
                "--bind", "127.0.0.1",
                "--port", str(port),
                "--dir", str(folder.resolve()),
                "--cluster-enabled", "yes",
                "--cluster-config-file", "nodes.conf",
                "--cluster-node-timeout", "5000",
                "--appendonly", "no",
                "--save", "",
                "--logfile", "redis.log",
                "--requirepass", self.password,
            ]  # fmt: skip
            self.processes.append(subprocess.Popen(args, stdout=subprocess.DEVNULL))
        deadline = time.monotonic() + timeout
        try:
            for port in self.ports:
                while self._cli(port, "ping") != "PONG":
                    self._before(deadline, f"node {port} to answer")
            subprocess.run(
                [find_redis_cli(), "-a", self.password, "--no-auth-warning", "--cluster", "create",
                 *(f"127.0.0.1:{port}" for port in self.ports), "--cluster-yes"],
                check=True, capture_output=True, timeout=timeout,
            )  # fmt: skip
            for port in self.ports:
                while "cluster_state:ok" not in self._cli(port, "cluster", "info"):
                    self._before(deadline, f"node {port} to join the cluster")
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self, timeout: float = 10.0) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes = []

    def port_of(self, key: str) -> int:
        """The port of the node that serves `key`'s slot."""
        with redis.cluster.RedisCluster(
            host="127.0.0.1", port=self.ports[0], password=self.password
        ) as client:
            return int(client.get_node_from_key(key).port)

    def _cli(self, port: int, *args: str) -> str:
        result = subprocess.run(
            [find_redis_cli(), "-h", "127.0.0.1", "-p", str(port),
             "-a", self.password, "--no-auth-warning", *args],
            capture_output=True, text=True, timeout=5,
        )  # fmt: skip
        return result.stdout.strip()

    @staticmethod
    def _before(deadline: float, what: str) -> None:
        if time.monotonic() > deadline:
            raise RedisServerError(f"timed out waiting for {what}")
        time.sleep(0.05)

    def __enter__(self) -> RedisCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _free_node_port() -> int:
    """A free port whose cluster bus port (+10000) is a port, and free too."""
    for _ in range(1000):
        port = free_port()
        if port + BUS_OFFSET <= 65535 and _is_free(port + BUS_OFFSET):
            return port
    raise RedisServerError("no free port pair for a cluster node")


def _is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True
