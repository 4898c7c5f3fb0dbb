"""What a running footfall process needs around its components, on the embedded default.

The data dir holds the embedded Redis (`redis/`) and its password
(`redis-password`), chdb (`clickhouse/`), the generated admin token
(`admin-token`) and first admin's password (`admin-password`, for `serve
--demo`) and, while `footfall serve` runs, a `server.json` naming its URL, so
the CLI can reach the server that owns the chdb folder instead of opening it.
The folder is its user's alone (0700), and so is every file in it (0600).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

from app.redis_server import EmbeddedRedis
from app.redis_supervisor import RedisSupervisor, gave_up_file
from footfall.private_files import private_dir, write_private
from footfall.settings import Settings

REDIS_DIR = "redis"
SERVER_FILE = "server.json"
TOKEN_FILE = "admin-token"
PASSWORD_FILE = "admin-password"
REDIS_PASSWORD_FILE = "redis-password"
DEMO_ADMIN_EMAIL = "admin@localhost"


@contextlib.contextmanager
def redis_available(settings: Settings) -> Iterator[Settings]:
    """The settings with a Redis URL: the configured one, or an embedded server's for the
    duration of the block, its data (AOF) under the data dir."""
    if settings.redis_url:
        yield settings
        return
    with embedded_redis(settings) as server:
        yield settings.replace(redis_url=server.url)


@contextlib.contextmanager
def supervised_redis(
    settings: Settings, on_give_up: Callable[[str], None]
) -> Iterator[tuple[Settings, RedisSupervisor | None]]:
    """As `redis_available`, an embedded server being restarted whenever it exits (see
    `redis_supervisor`); None for a configured Redis, which its own operator runs."""
    if settings.redis_url:
        yield settings, None
        return
    with embedded_redis(settings) as server:
        supervisor = RedisSupervisor(server, on_give_up).start()
        try:
            yield settings.replace(redis_url=server.url), supervisor
        finally:
            supervisor.stop()


def embedded_redis(settings: Settings) -> EmbeddedRedis:
    """The data dir's Redis server (not started), with its password (made once)."""
    password = _secret(settings, REDIS_PASSWORD_FILE, 24)
    redis_dir = settings.data_dir / REDIS_DIR
    return EmbeddedRedis(redis_dir, password=password, server=settings.redis_server)


def embedded_redis_gave_up(settings: Settings) -> str | None:
    """Why the last `footfall serve` on this data dir gave its embedded Redis up, if it did."""
    with contextlib.suppress(OSError):
        return gave_up_file(settings.data_dir / REDIS_DIR).read_text().strip()
    return None


def with_admin_token(settings: Settings) -> Settings:
    """The settings with an admin token: the configured one, else the data dir's (made once)."""
    if settings.admin_token:
        return settings
    return settings.replace(admin_token=_secret(settings, TOKEN_FILE, 32))


def with_admin_login(settings: Settings) -> Settings:
    """The settings with a first admin to log in as: the configured one, else
    `admin@localhost` with the data dir's password (made once)."""
    if settings.admin_email:
        return settings
    return settings.replace(
        admin_email=DEMO_ADMIN_EMAIL, admin_password=_secret(settings, PASSWORD_FILE, 12)
    )


def _secret(settings: Settings, name: str, size: int) -> str:
    """A secret kept in the data dir, readable by its owner only, made on first use."""
    path = private_dir(settings.data_dir) / name
    if not path.exists():
        with contextlib.suppress(FileExistsError):  # another process made it first
            write_private(path, secrets.token_urlsafe(size), os.O_EXCL)
    path.chmod(0o600)  # one left by an older version may have had another mode
    return path.read_text().strip()


@contextlib.contextmanager
def announced(settings: Settings, url: str) -> Iterator[None]:
    """Write server.json (the server's URL and Redis) for the block's duration."""
    path = private_dir(settings.data_dir) / SERVER_FILE
    # It names the Redis URL, password included: the CLI's way into the server's Redis.
    pid = os.getpid()
    info = {"url": url, "redis_url": settings.redis_url, "pid": pid, "started": _started(pid)}
    write_private(path, json.dumps(info))
    try:
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def refuse_if_served(settings: Settings) -> None:
    """Raise if a `footfall serve` runs on this data dir: one process owns its stores."""
    url = running_server(settings)
    if url:
        raise RuntimeError(f"a footfall serve already runs on {settings.data_dir}, at {url}")


def running_server(settings: Settings) -> str | None:
    """The URL of a live `footfall serve` on this data dir, if any."""
    info = _server_info(settings)
    return str(info["url"]) if info else None


def running_redis(settings: Settings) -> str | None:
    """The Redis URL of a live `footfall serve` on this data dir, if any."""
    info = _server_info(settings)
    return str(info["redis_url"]) if info else None


def _server_info(settings: Settings) -> dict | None:
    """server.json, if the process it names still runs; a stale one (left by a killed
    server, or naming a pid now reused by another process) is removed."""
    path = settings.data_dir / SERVER_FILE
    try:
        info = json.loads(path.read_text())
        pid = int(info["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if _started(pid) is None or _started(pid) != info.get("started"):
        with contextlib.suppress(OSError):
            path.unlink()
        return None
    return info


def _started(pid: int) -> int | None:
    """When process `pid` started (clock ticks since boot): with the pid, it names one
    process, where a pid alone may have been reused. None: no such process of this user."""
    try:
        os.kill(pid, 0)
    except OSError:
        return None
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
    except OSError:
        return 0  # no /proc (macOS): the pid alone must do
    except (IndexError, ValueError):
        return None
