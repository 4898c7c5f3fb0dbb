"""The single box heals itself: `footfall serve` under real signals, counted afterwards.

Each test runs `footfall serve` on the embedded default in its own process and
sends it page views from a thread, noting every answer. The embedded Redis is
killed (SIGKILL, as the out-of-memory killer does) under that load, again and
again, then made unable to start; `footfall serve` itself is killed and started
again. Every event answered 202 must be counted exactly once, and nothing but
503 may be answered while Redis is down.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import http.client
import json
import os
import signal
import subprocess
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path

import pytest

from app.redis_server import free_port
from tests.conftest import BROWSER_UA
from tests.processes import Component, clean_environ, get, run_footfall, wait_for

SITE = "heal.example"
BACK_WITHIN = 5.0
"""Seconds after a kill within which /ready must answer 200 again (a restart takes ~0.2 s)."""


class Serve:
    """`footfall serve` on a data dir of its own, with its admin token."""

    def __init__(self, data_dir: Path, log: Path, wrapper: tuple[str, ...] = ()):
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **clean_environ(),
            "FOOTFALL_DATA_DIR": str(data_dir),
            "FOOTFALL_RATE_LIMIT_IP": "0",  # every event comes from 127.0.0.1
            "FOOTFALL_BATCH_WAIT_MS": "50",
        }
        self.component = Component(["serve", "--port", str(self.port)], self.env, log, wrapper)
        self.component.wait_ready(self.url + "/ready")
        self.token = self.path("admin-token").read_text().strip()

    def path(self, name: str) -> Path:
        """A file of the data dir, as the server sees it (in its own mount namespace)."""
        return (
            Path(f"/proc/{self.component.process.pid}/root") / self.data_dir.relative_to("/") / name
        )

    @property
    def redis_pid(self) -> int:
        return int(self.path("redis/redis.pid").read_text())

    def kill_redis(self) -> float:
        """SIGKILL the embedded Redis; returns when (monotonic), once it is dead and reaped."""
        pid = self.redis_pid
        os.kill(pid, signal.SIGKILL)
        killed_at = time.monotonic()
        wait_for(lambda: gone(pid), f"Redis (pid {pid}) to be reaped", BACK_WITHIN)
        return killed_at

    def restarts(self) -> int:
        return self.api("/api/v1/status")["embedded_redis"]["restarts"]

    def wait_restarts(self, count: int) -> None:
        """Until the status counts `count` restarts (the counter moves right after the
        server answers, so /ready may say 200 an instant before)."""
        wait_for(lambda: self.restarts() == count, f"restart {count} to be counted", 5)

    def api(self, path: str) -> dict:
        status, body = get(self.url + path, {"Authorization": f"Bearer {self.token}"})
        assert status == 200, body
        return json.loads(body)

    def add_site(self) -> None:
        request = urllib.request.Request(
            self.url + "/api/v1/sites",
            data=json.dumps(
                {"domain": SITE, "public_counters": True, "counter_measure": "pageviews"}
            ).encode(),
            headers={"Authorization": f"Bearer {self.token}"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 201

    def counted(self) -> int:
        today = dt.datetime.now(dt.UTC).date()
        days = f"{today - dt.timedelta(days=1)},{today + dt.timedelta(days=1)}"
        query = f"site_id={SITE}&period=custom&date={days}&metrics=pageviews"
        return self.api(f"/api/v1/stats/aggregate?{query}")["results"]["pageviews"]["value"]

    def wait_counted(self, answers: Counter[int]) -> None:
        """Wait for every event answered 202 to be counted; fail on more than those and
        the ones whose answer never came (stored or not, nobody knows)."""
        expected = answers[202]
        wait_for(lambda: self.counted() >= expected, f"{expected} page views counted", 90)
        time.sleep(1)  # a double count would show by now: the stream is drained
        assert expected <= self.counted() <= expected + answers[UNANSWERED]
        # The hot counters (Redis) agree with ClickHouse: kept, or reseeded.
        counters = json.loads(get(f"{self.url}/api/counters?d={SITE}")[1])
        assert counters["total"] == self.counted()

    def back_within(self, seconds: float, since: float | None = None) -> None:
        """/ready answers 200 within `seconds` of `since` (monotonic; default: now)."""
        deadline = (since or time.monotonic()) + seconds
        while time.monotonic() < deadline:
            if get(self.url + "/ready")[0] == 200:
                return
            time.sleep(0.05)
        raise AssertionError(f"/ready was not 200 again within {seconds} s")

    def kill(self) -> None:
        """SIGKILL serve and its Redis (which has a session of its own): nothing left over."""
        redis_pid = self.redis_pid if self.path("redis/redis.pid").exists() else None
        self.component.kill()
        if redis_pid and not gone(redis_pid):
            os.kill(redis_pid, signal.SIGKILL)


UNANSWERED = 0
"""An event whose answer never came (the server died): it may or may not be stored."""


class Load:
    """Page views sent one after another from a thread, each answer noted, until `stop`,
    `limit` events, or a request left unanswered."""

    def __init__(self, port: int, limit: int = 20_000):
        self.port = port
        self.limit = limit
        self.answers: Counter[int] = Counter()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._send, name="load")
        self._thread.start()

    def _send(self) -> None:
        body = json.dumps({"n": "pageview", "u": f"https://{SITE}/a.html"}).encode()
        headers = {"User-Agent": BROWSER_UA, "Content-Type": "text/plain"}
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        for _ in range(self.limit):
            if self._stopping.is_set():
                break
            try:
                connection.request("POST", "/api/event", body, headers)
                response = connection.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                self.answers[UNANSWERED] += 1
                break
            self.answers[response.status] += 1
        connection.close()

    def wait(self, events: int) -> None:
        """Until `events` more answers were received."""
        target = self.answers.total() + events
        wait_for(lambda: self.answers.total() >= target, f"{events} more answers", 60)

    def stop(self) -> Counter[int]:
        self._stopping.set()
        self._thread.join(30)
        assert set(self.answers) <= {202, 503, UNANSWERED}, self.answers
        return self.answers


@pytest.fixture
def serve(tmp_path):
    server = Serve(tmp_path / "data", tmp_path / "serve.log")
    server.add_site()
    yield server
    server.kill()


def gone(pid: int) -> bool:
    """Not running and reaped: no zombie left behind."""
    return not Path(f"/proc/{pid}").exists()


def test_a_killed_embedded_redis_is_back_within_seconds_and_every_202_counts_once(serve):
    load = Load(serve.port)
    load.wait(300)
    serve.back_within(BACK_WITHIN, since=serve.kill_redis())
    load.wait(300)  # stored again after the restart
    answers = load.stop()
    serve.wait_restarts(1)
    embedded = serve.api("/api/v1/status")["embedded_redis"]
    assert (embedded["state"], embedded["restarts"]) == ("running", 1)
    assert embedded["problem"] == "was killed by signal 9"
    assert "footfall_embedded_restarts_total 1.0" in get(serve.url + "/metrics")[1].decode()
    assert answers[UNANSWERED] == 0
    serve.wait_counted(answers)


def test_three_kills_in_a_row_recover_then_an_unreadable_aof_stops_serve(serve):
    load = Load(serve.port)
    for restarts in (1, 2, 3):
        load.wait(200)
        serve.back_within(BACK_WITHIN, since=serve.kill_redis())
        serve.wait_restarts(restarts)
    load.wait(200)
    serve.wait_counted(load.stop())

    aof = serve.path("redis/appendonlydir")
    incremental = next(aof.glob("*.incr.aof"))
    incremental.write_bytes(b"*3\r\n$3\r\nSET\r\ngarbage that is not RESP\x00\xff")
    serve.kill_redis()
    code = serve.component.process.wait(60)
    assert code == 3
    output = serve.component.output()
    assert "footfall serve stopped: the embedded Redis failed 5 times in a row" in output
    assert "Bad file format reading the append only file" in output
    assert "valkey-check-aof --fix" in output
    status = run_footfall(serve.env, "status")
    assert status.returncode == 1
    assert "the last `footfall serve` stopped" in status.stderr
    assert "Bad file format" in status.stderr


def test_ctrl_c_stops_serve_and_then_its_redis_which_is_not_restarted(tmp_path):
    """Ctrl+C signals the terminal's whole process group: serve alone must get it, and
    stop its Redis last, once nothing needs it."""
    serve = Serve(tmp_path / "data", tmp_path / "serve.log", wrapper=("setsid",))
    try:
        redis_pid = serve.redis_pid
        os.killpg(serve.component.process.pid, signal.SIGINT)
        assert serve.component.process.wait(60) == 0
        assert gone(redis_pid)
        assert "restarting it" not in serve.component.output()
        log = (serve.data_dir / "redis" / "redis.log").read_text()  # serve is gone
        assert "Received SIGINT" not in log  # not from the terminal: serve stopped it
        assert "Received SIGTERM" in log
    finally:
        serve.kill()


def test_serve_killed_then_started_again_loses_nothing_and_stops_its_leftover_redis(
    serve, tmp_path
):
    load = Load(serve.port)
    load.wait(500)
    leftover = serve.redis_pid
    serve.component.process.kill()  # serve alone: its Redis child lives on, orphaned
    serve.component.process.wait(10)
    answers = load.stop()
    assert not gone(leftover)

    again = Serve(serve.data_dir, tmp_path / "serve-again.log")
    try:
        wait_for(lambda: gone(leftover), "the leftover Redis to be stopped", 10)
        assert again.redis_pid != leftover
        assert "left running by a footfall process that was killed" in again.component.output()
        again.wait_counted(answers)
    finally:
        again.kill()


TMPFS_MB = 64


def mount_namespaces_work() -> bool:
    done = subprocess.run(["unshare", "-m", "--propagation", "private", "true"], check=False,
                          capture_output=True)  # fmt: skip
    return done.returncode == 0


@pytest.mark.skipif(not mount_namespaces_work(), reason="needs a mount namespace (root)")
def test_a_full_disk_loses_no_acknowledged_event_and_recovers_without_a_restart(tmp_path):
    """The data dir on a small tmpfs of the server's own (a private mount namespace, as
    ../shared/fresh/fresh-machine makes), filled until writes fail, then freed."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    mount = f'mount -t tmpfs -o size={TMPFS_MB}m,mode=0700 tmpfs {data_dir} && exec "$@"'
    wrapper = ("unshare", "-m", "--propagation", "private", "bash", "-c", mount, "bash")
    serve = Serve(data_dir, tmp_path / "serve.log", wrapper)
    try:
        serve.add_site()
        load = Load(serve.port)
        load.wait(300)
        filler = Filler(serve.path("filler"))
        wait_for(lambda: get(serve.url + "/ready")[0] == 503, "/ready to say the disk is full")
        assert "free on the data dir's disk" in serve.api("/api/v1/status")["problems"]["disk"]
        refused = load.answers[503]
        load.wait(100)
        assert load.answers[503] > refused  # Redis refuses writes: the collector says 503
        filler.stop()
        serve.back_within(30)
        stored = load.answers[202]
        load.wait(300)
        assert load.answers[202] > stored
        answers = load.stop()
        assert answers[UNANSWERED] == 0
        serve.wait_counted(answers)
        assert serve.restarts() == 0
    finally:
        serve.kill()


class Filler:
    """Keeps the file system of `path` full, taking whatever space frees up (a failed
    insert's files removed, say), until `stop`; then removes `path`."""

    def __init__(self, path: Path):
        self.path = path
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
        self._stopping = threading.Event()
        self._fill()
        self._thread = threading.Thread(target=self._keep_full, name="filler")
        self._thread.start()

    def _fill(self) -> None:
        for block in (1 << 20, 4096, 1):
            with contextlib.suppress(OSError):
                while True:
                    os.write(self._fd, b"\0" * block)

    def _keep_full(self) -> None:
        while not self._stopping.wait(0.01):
            self._fill()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(10)
        os.close(self._fd)
        self.path.unlink()
