"""What docker-compose.yml runs, run as processes: the same commands, the same environment.

The environment of each footfall service is the image's FOOTFALL_* variables
(Dockerfile `ENV`) plus the service's `environment`, interpolated from
deploy/footfall.env.example as Compose would from `.env`. What cannot be the
same without Docker is replaced, and only that:

* FOOTFALL_REDIS_URL: the test's redis-server (compose: `redis`, with a password);
* FOOTFALL_CLICKHOUSE_DSN: chdb in a temporary folder (compose: the ClickHouse
  server over HTTP). One process may own a chdb folder, so the processes take
  turns on it: migrate, then `site add`, then collector + aggregator (which
  owns it) until the event is in ClickHouse, then the dashboard, which reads
  what they wrote. On the server they all run at once;
* FOOTFALL_DATA_DIR (compose: the image's home) and FOOTFALL_HOST (compose:
  0.0.0.0) point at a temporary folder and the loopback;
* `--port 8000` becomes a free port: here the collector, the aggregator and the
  dashboard share one network namespace.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
import yaml

from app.redis_server import free_port
from footfall import keys
from tests.conftest import BROWSER_UA
from tests.processes import (
    Component,
    clean_environ,
    clickhouse_query,
    get,
    run_footfall,
    wait_for,
)

ROOT = Path(__file__).parent.parent
SITE = "news.example"
_VARIABLE = re.compile(r"\$\{(?P<name>\w+)(?:(?P<op>:-|:\?)(?P<arg>[^}]*))?\}")


def dotenv(path: Path) -> dict[str, str]:
    lines = [line for line in path.read_text().splitlines() if "=" in line]
    return dict(line.split("=", 1) for line in lines if not line.startswith("#"))


def interpolate(value: str, variables: dict[str, str]) -> str:
    """Compose's `${NAME}`, `${NAME:-default}` and `${NAME:?error}`."""

    def one(match: re.Match[str]) -> str:
        name, op, arg = match["name"], match["op"], match["arg"]
        if variables.get(name):
            return variables[name]
        if op == ":?":
            raise AssertionError(f"compose would stop: {arg}")
        return arg if op == ":-" else ""

    return _VARIABLE.sub(one, value)


def service_environment(service: str, overrides: dict[str, str]) -> dict[str, str]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    variables = dotenv(ROOT / "deploy" / "footfall.env.example")
    image = dict(re.findall(r"\b(FOOTFALL_\w+)=(\S+)", (ROOT / "Dockerfile").read_text()))
    service_env = compose["services"][service]["environment"]
    composed = {k: interpolate(str(v), variables) for k, v in service_env.items()}
    return {**clean_environ(), **image, **composed, **overrides}


def service_command(service: str, port: int) -> list[str]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    command = list(compose["services"][service]["command"])
    return [str(port) if arg == "8000" else arg for arg in command]


@pytest.fixture
def deployment(tmp_path, redis_server, redis_db):
    """Environment of each service, as composed, with the test's Redis and chdb."""
    overrides = {
        "FOOTFALL_REDIS_URL": redis_server.url,
        "FOOTFALL_CLICKHOUSE_DSN": f"chdb://{tmp_path / 'clickhouse'}",
        "FOOTFALL_DATA_DIR": str(tmp_path / "data"),
        "FOOTFALL_HOST": "127.0.0.1",
    }
    return lambda service: service_environment(service, overrides)


def post_in_two_packets(port: int, body: bytes) -> str:
    """An event whose headers and body arrive separately, as a proxy may forward them."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(
            f"POST /api/event HTTP/1.1\r\nHost: {SITE}\r\nUser-Agent: {BROWSER_UA}\r\n"
            f"Content-Type: text/plain\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        )
        connection.sendall(body)
        return connection.recv(4096).decode()


def test_the_composed_commands_carry_an_event_from_the_collector_into_clickhouse(
    deployment, tmp_path, redis_db
):
    migrated = run_footfall(deployment("migrate"), *service_command("migrate", 0))
    assert migrated.returncode == 0, migrated.stderr
    assert "applied" in migrated.stdout
    # The operator's step: `docker compose run --rm migrate site add news.example`.
    added = run_footfall(deployment("migrate"), "site", "add", SITE)
    assert added.returncode == 0, added.stderr

    port, aggregator_port = free_port(), free_port()
    collector = Component(service_command("collector", port), deployment("collector"),
                          tmp_path / "collector.log")  # fmt: skip
    aggregator = Component(service_command("aggregator", aggregator_port),
                           deployment("aggregator"), tmp_path / "aggregator.log")  # fmt: skip
    try:
        collector.wait_ready(f"http://127.0.0.1:{port}/ready")
        aggregator.wait_ready(f"http://127.0.0.1:{aggregator_port}/ready")
        for service, port_of_service in (("collector", port), ("aggregator", aggregator_port)):
            check = compose_health_check(service, port_of_service)
            assert health_check(deployment(service), check) == 0, service

        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/event",
            data=json.dumps({"n": "pageview", "u": f"https://{SITE}/a/1.html"}).encode(),
            headers={"User-Agent": BROWSER_UA, "Content-Type": "text/plain"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 202
        split = json.dumps({"n": "pageview", "u": f"https://{SITE}/a/2.html"}).encode()
        assert post_in_two_packets(port, split).startswith("HTTP/1.1 202")

        wait_for(
            lambda: redis_db.xlen(keys.stream(SITE)) == 0, "the aggregator to take both events"
        )
        assert collector.terminate() == 0, collector.output()
        assert aggregator.terminate() == 0, aggregator.output()
    finally:
        collector.kill()
        aggregator.kill()

    dsn = deployment("aggregator")["FOOTFALL_CLICKHOUSE_DSN"]
    assert clickhouse_query(dsn, "SELECT path FROM events ORDER BY path") == [
        ["/a/1.html"],
        ["/a/2.html"],
    ]

    # The dashboard on the same data, now that the aggregator has let go of the chdb folder.
    port = free_port()
    dashboard = Component(service_command("dashboard", port), deployment("dashboard"),
                          tmp_path / "dashboard.log")  # fmt: skip
    try:
        dashboard.wait_ready(f"http://127.0.0.1:{port}/ready")
        assert health_check(deployment("dashboard"), f"http://127.0.0.1:{port}/health") == 0
        token = deployment("dashboard")["FOOTFALL_ADMIN_TOKEN"]
        status, body = get(
            f"http://127.0.0.1:{port}/api/v1/sites", {"Authorization": f"Bearer {token}"}
        )
        assert status == 200 and SITE in body.decode()
        assert dashboard.terminate() == 0, dashboard.output()
    finally:
        dashboard.kill()


def compose_health_check(service: str, port: int) -> str:
    """The URL the service's compose health check asks, on the port the test gave it."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    url = compose["services"][service]["healthcheck"]["test"][-1]
    return url.replace(":8000/", f":{port}/")


def health_check(env: dict[str, str], target: str) -> int:
    """The container's HEALTHCHECK command, run with the service's environment."""
    return subprocess.run(
        [sys.executable, "-m", "footfall.healthcheck", target], env=env, timeout=30, check=False
    ).returncode


def test_a_stale_or_missing_heartbeat_is_unhealthy(tmp_path):
    env = {**clean_environ(), "FOOTFALL_DATA_DIR": str(tmp_path)}
    assert health_check(env, "--aggregator") == 1
    (tmp_path / "aggregator.alive").touch()
    assert health_check(env, "--aggregator") == 0
    old = 1_000_000_000
    os.utime(tmp_path / "aggregator.alive", (old, old))
    assert health_check(env, "--aggregator") == 1
    assert health_check(env, f"http://127.0.0.1:{free_port()}/health") == 1
