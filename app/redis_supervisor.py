"""Keeping `footfall serve`'s embedded Redis running: restart it when it exits, or give up.

A server killed by the kernel's out-of-memory killer, or crashing, must not take a
site's counters down until someone notices. A watcher thread waits on the child
(reaping it at once: no zombie), then starts it again on the same port, with the
same password and AOF, after a backoff that grows with each failure in a row. A
run that lasted `STABLE_AFTER` seconds resets the count; `GIVE_UP_AFTER` failures
in a row (a server that cannot start, as with a corrupt AOF, or dies at once)
end the supervision: `on_give_up` is told why, and the reason is kept in the
folder (`gave-up`) for `footfall status` to show after the server has stopped.

Meanwhile the components need no help: the collector answers 503 while the
server is down and stores again once it answers (redis-py reconnects, and a
script the new server lacks is loaded again); the aggregator retries its
pending batch with backoff.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

import msgspec

from app.redis_server import EmbeddedRedis, RedisServerError, find_redis_server
from footfall.private_files import write_private
from footfall.service_metrics import EMBEDDED_RESTARTS
from footfall.status import EmbeddedRedisStatus

log = logging.getLogger(__name__)

STABLE_AFTER = 10.0
"""Seconds a server must run for its exit not to count as one more failure in a row."""
GIVE_UP_AFTER = 5
"""Failures in a row (exits before STABLE_AFTER, or starts that fail) before giving up."""
FIRST_BACKOFF = 0.1
MAX_BACKOFF = 5.0
GAVE_UP_FILE = "gave-up"


class RedisSupervisor:
    """Watches `server` (started already) from a thread until `stop`."""

    def __init__(
        self,
        server: EmbeddedRedis,
        on_give_up: Callable[[str], None],
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ):
        self.server = server
        self.on_give_up = on_give_up
        self._monotonic = monotonic
        self._status = EmbeddedRedisStatus("running")
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._watch, name="redis-supervisor", daemon=True)

    def start(self) -> RedisSupervisor:
        gave_up_file(self.server.data_dir).unlink(missing_ok=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop watching, then stop the server (no restart races the shutdown)."""
        self._stopping.set()
        with self._lock:
            self.server.stop()
        self._thread.join()

    def status(self) -> EmbeddedRedisStatus:
        return msgspec.structs.replace(self._status)

    def _watch(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            started = self._monotonic()
            process = self.server.process
            if process is None:
                return
            code = process.wait()  # reaps it
            if self._stopping.is_set():
                return
            failures = 0 if self._monotonic() - started >= STABLE_AFTER else failures + 1
            if code < 0:
                problem = f"was killed by signal {-code}"
            else:
                problem = f"exited with status {code}: {self.server.last_words()}"
            log.error("the embedded Redis (pid %d) %s; restarting it", process.pid, problem)
            self._status.state, self._status.problem = "restarting", problem
            failures = self._restart(failures)
            if failures >= GIVE_UP_AFTER:
                self._give_up()
                return

    def _restart(self, failures: int) -> int:
        """Start the server again, with backoff; the failures in a row after it."""
        while failures < GIVE_UP_AFTER:
            if self._stopping.wait(min(FIRST_BACKOFF * 2**failures, MAX_BACKOFF)):
                return failures
            with self._lock:
                if self._stopping.is_set():
                    return failures
                try:
                    self.server.start()
                except RedisServerError as e:
                    failures += 1
                    self._status.problem = str(e)
                    log.error("the embedded Redis did not start again: %s", e)
                    continue
            self._status.restarts += 1
            self._status.state = "running"
            EMBEDDED_RESTARTS.inc()
            log.warning(
                "the embedded Redis runs again on port %d (restart %d)",
                self.server.port,
                self._status.restarts,
            )
            return failures
        return failures

    def _give_up(self) -> None:
        folder = self.server.data_dir.resolve()
        reason = (
            f"the embedded Redis failed {GIVE_UP_AFTER} times in a row; last: "
            f"{self._status.problem}. If that names the AOF: back up {folder / 'appendonlydir'}, "
            f"then repair it with the server binary under the name valkey-check-aof: "
            f"ln -s {find_redis_server(self.server.server)} /tmp/valkey-check-aof && "
            f"/tmp/valkey-check-aof --fix {folder / 'appendonlydir' / 'appendonly.aof.manifest'}"
        )
        self._status.state, self._status.problem = "failed", reason
        log.critical("%s", reason)
        at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        write_private(gave_up_file(self.server.data_dir), f"{at} {reason}\n")
        self.on_give_up(reason)


def gave_up_file(folder: Path) -> Path:
    return folder / GAVE_UP_FILE
