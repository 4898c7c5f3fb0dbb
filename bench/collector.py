"""Collector throughput on loopback, against a bare aiohttp baseline measured in the same run.

    .venv/bin/python bench/collector.py [--duration 10] [--connections 50] [--workers 1,2]
        [--clients N] [--collector-env FOOTFALL_RATE_LIMIT_IP=0 ...]

What it does:

1. starts a real redis-server (`app.redis_server.EmbeddedRedis`, AOF on with
   `appendfsync everysec`, as `footfall serve` runs it) in a temporary folder, and
   registers the site `bench.example` in the collector's mirror (`ff:sites`);
2. for each worker count, starts `footfall collector --workers N` and the bare app
   (`bench/bare_app.py`: aiohttp on uvloop, 202 "ok", no work) with the same N;
3. drives each with wrk and `bench/event.lua` (sendBeacon-like POSTs over a few
   hundred articles and a few dozen browsers): a warm-up run each, then `--rounds`
   rounds of one bounded run per target, alternating which goes first; before each
   run it waits (up to `--quiet-wait` s) for other processes to leave the machine
   idle, and it records the CPU each party used (server, redis, wrk, others);
4. after every collector run, compares the growth of the stream `ff:{bench.example}:events`
   (XLEN) with the stored 202s wrk read plus the requests wrk left in flight at its
   deadline, and (1 worker) with the collector's own accepted counter (/metrics);
5. prints the table (median over rounds) and the gzipped snippet size, and stops
   every process it started.

Every server binds 127.0.0.1 on a free port. `--profile OUT` adds one more
collector run (1 worker) under `py-spy record` (raw collapsed stacks to OUT) and
prints the top functions; that run is not in the table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402

from app.redis_server import EmbeddedRedis, find_redis_server, free_port  # noqa: E402
from bench.machine import (  # noqa: E402
    NOISY,
    Server,
    children_cpu_seconds,
    cpu_seconds,
    exit_on_signal,
    machine_busy_seconds,
    median,
    wait_for_quiet,
)
from bench.profiles import print_profile  # noqa: E402
from footfall import keys  # noqa: E402
from footfall.sites import Site, site_to_json  # noqa: E402

BENCH = Path(__file__).resolve().parent
LUA = BENCH / "event.lua"
DOMAIN = "bench.example"
SNIPPET = ROOT / "collector" / "static" / "snippet.js"
SNIPPET_LIMIT = 1500
RATIO_GOAL = 0.5
CPU_COLUMNS = ("server", "redis", "wrk", "others")
BROWSER = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)


# ----------------------------------------------------------------------------- processes


# ----------------------------------------------------------------------------- load


@dataclass
class Run:
    target: str
    workers: int
    duration: float
    requests: int
    statuses: dict[int, int]
    dropped_202: int
    errors: dict[str, int]
    latency_us: dict[str, float]
    sent: int
    cpu: dict[str, float] = field(default_factory=dict)
    stream_added: int | None = None
    accepted_metric: int | None = None
    commits: int | None = None

    @property
    def rps(self) -> float:
        return self.requests / self.duration

    @property
    def stored(self) -> int:
        """202s that the collector stored (a 202 with X-Footfall-Dropped was not stored)."""
        return self.statuses.get(202, 0) - self.dropped_202

    @property
    def accepted_per_s(self) -> float:
        return self.stored / self.duration

    @property
    def in_flight(self) -> int:
        """Requests wrk sent but whose answer it did not read before its deadline."""
        return self.sent - sum(self.statuses.values())

    @property
    def not_202(self) -> dict[int, int]:
        return {s: n for s, n in self.statuses.items() if s != 202}


def run_wrk(url: str, args: argparse.Namespace, seconds: int) -> tuple[dict, str]:
    command = [
        "wrk",
        "--threads", str(args.threads),
        "--connections", str(args.connections),
        "--duration", f"{seconds}s",
        "--timeout", "5s",
        "--latency",
        "--script", str(LUA),
        url + "/api/event",
    ]  # fmt: skip
    env = {**os.environ, "BENCH_DOMAIN": DOMAIN, "BENCH_CLIENTS": str(args.clients)}
    done = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=seconds + 60, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    for line in done.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            return json.loads(line.removeprefix("BENCH_JSON ")), done.stdout
    raise RuntimeError(f"wrk printed no BENCH_JSON line:\n{done.stdout}\n{done.stderr}")


def measure(
    server: Server, args: argparse.Namespace, seconds: int, redis_server: EmbeddedRedis,
    store: redis.Redis | None,
) -> Run:  # fmt: skip
    """One bounded wrk run against `server`, with CPU use and (given `store`) stream growth."""
    if args.quiet_wait:
        wait_for_quiet(args.quiet_wait)
    redis_pid = redis_server.process.pid if redis_server.process else 0
    server_pids = server.pids()
    before_len = store.xlen(keys.stream(DOMAIN)) if store is not None else 0
    count_accepted = store is not None and server.workers == 1
    before_metrics = collector_metrics(server) if count_accepted else {}
    before = (
        cpu_seconds(server_pids), cpu_seconds([redis_pid]), children_cpu_seconds(),
        machine_busy_seconds(),
    )  # fmt: skip
    started = time.monotonic()
    result, text = run_wrk(server.url, args, seconds)
    wall = time.monotonic() - started
    after = (
        cpu_seconds(server_pids), cpu_seconds([redis_pid]), children_cpu_seconds(),
        machine_busy_seconds(),
    )  # fmt: skip
    cpu = {
        name: 100 * (b - a) / wall
        for name, a, b in zip(("server", "redis", "wrk", "machine"), before, after, strict=True)
    }
    # What other processes of the machine (not this benchmark's) used meanwhile.
    cpu["others"] = max(0.0, cpu.pop("machine") - cpu["server"] - cpu["redis"] - cpu["wrk"])
    run = Run(
        target=server.name,
        workers=server.workers,
        duration=result["duration_us"] / 1e6,
        requests=result["requests"],
        statuses={int(k): v for k, v in result["statuses"].items()},
        dropped_202=result["dropped_202"],
        errors=result["errors"],
        latency_us=result["latency_us"],
        sent=result["sent"],
        cpu=cpu,
    )
    if store is not None:
        run.stream_added = settled_xlen(store) - before_len
    if count_accepted:
        after_metrics = collector_metrics(server)
        run.accepted_metric = after_metrics["accepted"] - before_metrics["accepted"]
        run.commits = after_metrics["commits"] - before_metrics["commits"]
    if args.verbose:
        print(text.rstrip())
    return run


def settled_xlen(store: redis.Redis, quiet: float = 0.3, timeout: float = 10.0) -> int:
    """XLEN once it stopped growing: requests wrk abandoned at its deadline still finish."""
    deadline = time.monotonic() + timeout
    last = store.xlen(keys.stream(DOMAIN))
    while time.monotonic() < deadline:
        time.sleep(quiet)
        now = store.xlen(keys.stream(DOMAIN))
        if now == last:
            return now
        last = now
    return last


def collector_metrics(server: Server) -> dict[str, int]:
    """The collector's own counts: events it stored, and group commits (Redis script calls).

    Per process: with several workers a GET reaches one of them, so only 1 worker is read.
    """
    wanted = {
        "footfall_events_accepted_total": "accepted",
        "footfall_commit_batch_events_count": "commits",
    }
    found = {}
    with urllib.request.urlopen(server.url + "/metrics", timeout=10) as response:
        for line in response.read().decode().splitlines():
            name, _, value = line.partition(" ")
            if name in wanted:
                found[wanted[name]] = int(float(value))
    if len(found) != len(wanted):
        raise RuntimeError(f"/metrics lacks some of {sorted(wanted)}")
    return found


def preflight(server: Server) -> None:
    """One event by hand: the site is known and the browser is not taken for a bot."""
    body = json.dumps(
        {"n": "pageview", "u": f"https://{DOMAIN}/news/preflight.html", "d": DOMAIN}
    ).encode()
    request = urllib.request.Request(
        server.url + "/api/event",
        data=body,
        headers={"User-Agent": BROWSER, "Content-Type": "text/plain;charset=UTF-8"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status, dropped = response.status, response.headers.get("X-Footfall-Dropped")
            text = response.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        status, dropped, text = e.code, e.headers.get("X-Footfall-Dropped"), e.read().decode()
    if status != 202 or dropped:
        raise RuntimeError(f"{server.name}: preflight event got {status} {dropped or ''} {text}")


# ----------------------------------------------------------------------------- profile


def profile(server: Server, args: argparse.Namespace, out: Path) -> None:
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    seconds = args.duration
    command = [
        py_spy, "record", "--pid", str(server.process.pid), "--duration", str(seconds),
        "--rate", "200", "--format", "raw", "--output", str(out), "--nonblocking",
        "--full-filenames",
    ]  # fmt: skip
    spy = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        time.sleep(1.0)  # py-spy attaches
        run = run_wrk(server.url, args, seconds)[0]
        output, _ = spy.communicate(timeout=seconds + 60)
    finally:
        if spy.poll() is None:
            spy.kill()
            spy.wait()
    print(f"\nprofile: {run['requests'] / (run['duration_us'] / 1e6):,.0f} req/s under py-spy "
          f"(not in the table); raw stacks in {out}")  # fmt: skip
    if spy.returncode != 0 or not out.exists():
        print(f"py-spy failed:\n{output}")
        return
    print_profile(
        out,
        args.profile_top,
        ("collector", "footfall"),
        hide_inclusive=("collector (", "run (", "run_collectors ("),
    )


# ----------------------------------------------------------------------------- report


def run_problems(r: Run) -> list[str]:
    """What went wrong in one run: refused or dropped events, socket errors, lost events."""
    where = f"{r.target} w={r.workers}"
    problems = []
    errors = {k: v for k, v in r.errors.items() if v and k != "status"}
    if r.dropped_202:
        problems.append(f"{where}: {r.dropped_202} events dropped (202)")
    if errors:
        problems.append(f"{where}: socket errors {errors}")
    if r.not_202:
        problems.append(f"{where}: non-202 answers {r.not_202}")
    if r.stream_added is not None:
        if r.stream_added < r.stored:
            problems.append(f"{where}: the stream holds FEWER events than 202s read: lost events")
        elif r.stream_added > r.stored + r.in_flight:
            problems.append(f"{where}: the stream holds more events than requests sent")
    if r.accepted_metric is not None and r.accepted_metric != r.stream_added:
        problems.append(f"{where}: accepted counter {r.accepted_metric} != stream growth")
    return problems


def ms(us: float) -> str:
    return f"{us / 1000:.2f} ms"


def report(runs: list[Run], args: argparse.Namespace) -> dict:
    print("\n" + "=" * 100)
    print(f"{dt.date.today()}: wrk {args.threads} thread(s), {args.connections} connections, "
          f"{args.duration} s per run, {args.rounds} round(s); median over rounds "
          f"(min-max); CPU in % of one core")  # fmt: skip
    print("| target | workers | req/s | stored events/s | p50 | p99 "
          "| CPU server / redis / wrk / others | collector/bare |")  # fmt: skip
    print("|" + "---|" * 8)
    summary: dict = {"runs": [], "table": []}
    for workers in args.workers:
        bare = [r for r in runs if r.workers == workers and r.target == "bare"]
        coll = [r for r in runs if r.workers == workers and r.target == "collector"]
        ratios = [c.rps / b.rps for b, c in zip(bare, coll, strict=True)]
        ratio = median([r.rps for r in coll]) / median([r.rps for r in bare])
        best = max(r.rps for r in coll) / max(r.rps for r in bare)
        quiet = [
            c.rps / b.rps
            for b, c in zip(bare, coll, strict=True)
            if max(b.cpu["others"], c.cpu["others"]) <= NOISY
        ]
        for name, group in (("bare", bare), ("collector", coll)):
            row = {
                "target": name,
                "workers": workers,
                "rps": median([r.rps for r in group]),
                "rps_all": [round(r.rps) for r in group],
                "stored_per_s": median([r.accepted_per_s for r in group]),
                "p50_us": median([r.latency_us["p50"] for r in group]),
                "p99_us": median([r.latency_us["p99"] for r in group]),
                "cpu": {k: median([r.cpu[k] for r in group]) for k in CPU_COLUMNS},
            }
            shown, stored = "", "-"
            if name == "collector":
                row.update(ratio=ratio, ratio_best=best, ratio_per_round=ratios)
                row.update(ratio_quiet_rounds=median(quiet) if quiet else None)
                stored = f"{row['stored_per_s']:,.0f}"
                shown = (
                    f"{ratio:.2f} (per round {', '.join(f'{x:.2f}' for x in ratios)}; "
                    f"best/best {best:.2f}"
                )
                if len(quiet) < len(ratios):
                    shown += f"; quiet rounds ({len(quiet)}): "
                    shown += f"{median(quiet):.2f}" if quiet else "none"
                shown += ")"
            summary["table"].append(row)
            spread = f"{min(row['rps_all']):,}-{max(row['rps_all']):,}"
            cpu = " / ".join(f"{row['cpu'][k]:.0f}" for k in CPU_COLUMNS)
            print(f"| {name} | {workers} | {row['rps']:,.0f} ({spread}) | {stored} | "
                  f"{ms(row['p50_us'])} | {ms(row['p99_us'])} | {cpu} | {shown} |")  # fmt: skip

    print(f"\nEvery run (* = other processes used over {NOISY}% of a core meanwhile):")
    problems = [p for r in runs for p in run_problems(r)]
    for r in runs:
        errors = {k: v for k, v in r.errors.items() if v and k != "status"}
        noisy = "*" if r.cpu["others"] > NOISY else " "
        line = (
            f" {noisy}{r.target:<9} w={r.workers} {r.rps:>7,.0f} req/s  p50 "
            f"{ms(r.latency_us['p50'])}  p99 {ms(r.latency_us['p99'])}  "
            f"statuses {dict(sorted(r.statuses.items()))}  in flight at stop {r.in_flight}  "
            f"CPU others {r.cpu['others']:.0f}%"
        )
        if r.dropped_202:
            line += f"  dropped-202 {r.dropped_202}"
        if errors:
            line += f"  socket errors {errors}"
        if r.stream_added is not None:
            line += (
                f"\n{'':13}stream +{r.stream_added:,} = 202s read by wrk {r.stored:,} "
                f"+ {r.stream_added - r.stored} (of {r.in_flight} in flight)"
            )
            if r.accepted_metric is not None:
                line += f"; collector's accepted counter +{r.accepted_metric:,}"
            if r.commits:
                line += (
                    f"; {r.commits:,} group commits, {r.stream_added / r.commits:.1f} events each"
                )
        print(line)
        summary["runs"].append({**r.__dict__, "rps": r.rps, "stored": r.stored})

    checked = [r for r in runs if r.stream_added is not None]
    added = sum(r.stream_added or 0 for r in checked)
    stored = sum(r.stored for r in checked)
    in_flight = sum(r.in_flight for r in checked)
    counted = [r for r in checked if r.accepted_metric is not None]
    exact = all(r.stream_added == r.stored + r.in_flight for r in checked)
    summary["stream_check"] = {
        "runs": len(checked),
        "stream_added": added,
        "stored_202_read_by_wrk": stored,
        "in_flight_at_stop": in_flight,
        "stream_equals_read_plus_in_flight": exact,
        "one_worker_runs": len(counted),
        "collector_accepted_counter": sum(r.accepted_metric or 0 for r in counted),
        "stream_added_one_worker": sum(r.stream_added or 0 for r in counted),
    }
    print(
        f"\nStream check, {len(checked)} measured collector runs: XLEN grew by {added:,}; wrk "
        f"read {stored:,} stored 202s and had {in_flight:,} requests in flight when it "
        f"stopped (sum {stored + in_flight:,}): "
        + ("equal in every run." if exact else "NOT equal in every run (see above).")
    )
    if counted:
        print(
            f"  1-worker runs ({len(counted)}): the collector's footfall_events_accepted_total "
            f"grew by {summary['stream_check']['collector_accepted_counter']:,}, the stream by "
            f"{summary['stream_check']['stream_added_one_worker']:,}."
        )

    source = SNIPPET.read_bytes()
    size = len(gzip.compress(source, 9, mtime=0))
    summary["snippet"] = {"bytes": len(source), "gzip9": size, "limit": SNIPPET_LIMIT}
    print(f"\nSnippet: {len(source):,} bytes, {size:,} bytes gzipped (-9); limit "
          f"{SNIPPET_LIMIT:,}: {'ok' if size <= SNIPPET_LIMIT else 'OVER'}")  # fmt: skip

    one = next((row for row in summary["table"] if "ratio" in row and row["workers"] == 1), None)
    if one:
        verdict = "met" if one["ratio"] >= RATIO_GOAL else "NOT met"
        print(f"Goal collector/bare >= {RATIO_GOAL} with 1 worker: {one['ratio']:.2f}, {verdict}")
    noisy = [r for r in runs if r.cpu["others"] > NOISY]
    if noisy:
        print(f"Note: {len(noisy)} of {len(runs)} runs shared the machine with other busy "
              "processes (*): their figures are low; rerun on a quiet machine.")  # fmt: skip
    for p in problems:
        print(f"PROBLEM: {p}")
    summary["problems"] = problems
    return summary


# ----------------------------------------------------------------------------- main


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per measured run")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up per target")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--workers", default="1,2", help="worker counts, comma-separated")
    parser.add_argument("--rounds", type=int, default=3, help="measured runs per target")
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=60,
        help=f"before each run, wait up to this many seconds for the machine to be idle "
        f"(other processes under {NOISY}%% of a core); 0: do not wait",
    )
    parser.add_argument("--json", type=Path, help="write every figure to this file")
    parser.add_argument("--profile", type=Path, help="py-spy one more 1-worker collector run")
    parser.add_argument("--profile-top", type=int, default=15)
    parser.add_argument("--verbose", action="store_true", help="print wrk's own output")
    parser.add_argument(
        "--clients",
        type=int,
        default=0,
        help="send from this many client addresses (X-Forwarded-For, the collector trusting "
        "127.0.0.1); 0: all from 127.0.0.1",
    )
    parser.add_argument(
        "--collector-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting for the collector, e.g. FOOTFALL_RATE_LIMIT_IP=0 (repeatable); by "
        "default the rate limits count every event but are too high to refuse any",
    )
    args = parser.parse_args()
    args.workers = [int(w) for w in str(args.workers).split(",") if w.strip()]
    if args.connections < args.threads:
        parser.error("--connections must be at least --threads")
    return args


def server_env(redis_url: str, data_dir: Path, args: argparse.Namespace) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FOOTFALL_")}
    env.update(
        FOOTFALL_REDIS_URL=redis_url,
        FOOTFALL_DATA_DIR=str(data_dir),
        FOOTFALL_CLICKHOUSE_DSN="http://127.0.0.1:9/unused-by-the-collector",
        FOOTFALL_HOST="127.0.0.1",
        # One load generator is one client: the limits count but never refuse.
        FOOTFALL_RATE_LIMIT_IP="1000000000",
        FOOTFALL_RATE_LIMIT_SITE="1000000000",
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    )
    if args.clients:
        env["FOOTFALL_TRUSTED_PROXIES"] = "127.0.0.1"
    for setting in args.collector_env:
        name, _, value = setting.partition("=")
        env[name] = value
    return env


def start_servers(
    workers: int, env: dict[str, str], logs: Path, started: list[Server]
) -> tuple[Server, Server]:
    """The bare app and the collector, each added to `started` as soon as it runs."""
    python = sys.executable
    bare = Server(
        "bare",
        [python, str(BENCH / "bare_app.py"), "--port", str(port := free_port()),
         "--workers", str(workers)],
        "listening on port", logs / f"bare-{workers}.log", env, port=port, workers=workers,
    )  # fmt: skip
    started.append(bare)
    collector = start_collector(workers, env, logs)
    started.append(collector)
    return bare, collector


def start_collector(workers: int, env: dict[str, str], logs: Path) -> Server:
    """`footfall collector --workers N` on a free port (not yet listening: `wait_listening`)."""
    code = "from app.cli import main; main(prog_name='footfall')"
    return Server(
        "collector",
        [sys.executable, "-c", code, "collector", "--port", str(port := free_port()),
         "--workers", str(workers)],
        "listening on port", logs / f"collector-{workers}.log", env, port=port, workers=workers,
    )  # fmt: skip


def main() -> int:
    args = parse_args()
    signal.signal(signal.SIGTERM, exit_on_signal)
    signal.signal(signal.SIGHUP, exit_on_signal)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started in background
    if not shutil.which("wrk"):
        print("wrk is not installed (Debian: apt-get install wrk)", file=sys.stderr)
        return 2
    print(f"cores: {os.cpu_count()}; wrk: {args.threads} thread(s), {args.connections} "
          f"connections; {args.duration} s runs after {args.warmup} s warm-up; "
          f"workers {args.workers}; {args.rounds} round(s); clients {args.clients or 1}; "
          f"collector settings {args.collector_env or 'default'}")  # fmt: skip
    runs: list[Run] = []
    servers: list[Server] = []
    with tempfile.TemporaryDirectory(prefix="footfall-bench-") as tmp:
        redis_server = EmbeddedRedis(Path(tmp) / "redis", appendonly=True)
        store: redis.Redis | None = None
        try:
            redis_server.start()
            store = redis.Redis.from_url(redis_server.url)
            store.hset(keys.SITES, DOMAIN, site_to_json(Site(domain=DOMAIN, public_counters=True)))
            version = subprocess.run(
                [find_redis_server(), "--version"], capture_output=True, text=True, check=False
            ).stdout.split(" sha=")[0]
            print(f"{version} ({find_redis_server()}) on port {redis_server.port}: "
                  "appendonly yes, appendfsync everysec")  # fmt: skip
            env = server_env(redis_server.url, Path(tmp) / "data", args)
            for workers in args.workers:
                bare, collector = start_servers(workers, env, Path(tmp), servers)
                for server in (bare, collector):
                    server.wait_listening()
                preflight(collector)
                print(f"\n{workers} worker(s): bare {bare.url}, collector {collector.url}")
                for server in (bare, collector):
                    store_or_none = store if server is collector else None
                    measure(server, args, args.warmup, redis_server, store_or_none)
                for round_ in range(args.rounds):
                    order = (bare, collector) if round_ % 2 == 0 else (collector, bare)
                    for server in order:
                        run = measure(
                            server, args, args.duration, redis_server,
                            store if server is collector else None,
                        )  # fmt: skip
                        runs.append(run)
                        cpu = ", ".join(f"{k} {v:.0f}%" for k, v in run.cpu.items())
                        print(f"  round {round_ + 1} {server.name:<9} {run.rps:>9,.0f} req/s  "
                              f"p50 {ms(run.latency_us['p50'])}  p99 "
                              f"{ms(run.latency_us['p99'])}  CPU {cpu}", flush=True)  # fmt: skip
                if args.profile and workers == 1:
                    profile(collector, args, args.profile)
                for server in (bare, collector):
                    server.stop()
            summary = report(runs, args)
            if args.json:
                args.json.write_text(json.dumps(summary, indent=2, default=str))
        finally:
            for server in servers:
                server.stop()
            if store is not None:
                store.close()
            redis_server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
