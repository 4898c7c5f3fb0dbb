"""Aggregator throughput against a raw-insert baseline measured in the same run, and freshness.

    .venv/bin/python bench/aggregator.py [--events 200000] [--batch-sizes 2000,5000]
        [--rounds 3] [--freshness-seconds 30] [--rate 1000] [--profile OUT]

What it does:

1. starts a real redis-server (`app.redis_server.EmbeddedRedis`, AOF on with
   `appendfsync everysec`, as `footfall serve` runs it) in a temporary folder, puts
   the site `bench.example` (Asia/Ho_Chi_Minh) in the mirror (`ff:sites`), and fills
   a template stream once with `--events` realistic events exactly as the collector
   stores them (bench/aggregator_events.py: ~60 % page views, ~35 % engagements, ~5 %
   custom events with props; a few thousand visitors with visits of several pages,
   50 user agents, referrers from Google, Facebook, Zalo, Cốc Cốc..., landing URLs
   with `fbclid`/`utm_*`, a few thousand articles, countries);
2. throughput: for each batch size, `--rounds` rounds of two measurements,
   alternating which goes first, each in a process of its own on a fresh chdb
   folder (bench/aggregator_worker.py; one process may open one chdb folder), with
   `ff:{bench.example}:events` copied anew from the template and the AOF rewritten before:
   * aggregator: `Aggregator(...).drain()` from start to return (everything
     decoded, enriched, inserted with the deduplication token and settings,
     acknowledged, counted) -> events/s; the time of each phase (read, enrich,
     insert, ack) is measured on the side;
   * baseline: the same entries enriched beforehand (timed apart: "enrichment
     alone") and inserted raw, `client.insert('events', rows, column_names=COLUMNS,
     settings=<same deduplication settings>)`, in batches of the same size, with the
     materialized views in place -> rows/s;
   and the ratio aggregator/baseline per round. Before each timed part the worker
   waits (up to `--quiet-wait` s) for other processes to leave the machine idle and
   records the CPU used by itself, Redis and everything else ("others");
3. after each measurement checks that ClickHouse holds exactly the N events and the
   expected rollups (site totals, hourly, article totals) and, for the aggregator,
   that the stream and its pending list are empty, no dead letter was written and
   the hot counters equal the expected totals;
4. freshness: starts `footfall serve` on the embedded default in a temporary data
   dir (its own Redis and chdb), creates the site with public counters (page views)
   through the Sites API, drives a steady load of page views at `--rate` per second
   for `--freshness-seconds` (wrk with bench/aggregator_load.lua, which paces it) and
   meanwhile, every `--probe-interval` s, sends one page view of a new article
   `probe-K` and polls, every `--poll-interval` s, both `/api/counters?d=...&a=probe-K`
   and the hot counter in Redis until the view shows (timeout `--probe-timeout` s: a
   miss); then checks that every event the collector accepted reached ClickHouse and
   the counters, exactly once;
5. prints the tables (medians over rounds, min-max) and stops every process it
   started.

Every server binds 127.0.0.1 on a free port. `--profile OUT` adds one more aggregator
drain (first batch size) under `py-spy record` (raw collapsed stacks to OUT) and prints
the top functions; that run is not in the table. `--events 0` skips the throughput
part, `--freshness-seconds 0` the freshness part. `--chdb-dir /dev/shm` puts the
throughput part's chdb folders on tmpfs: on this VM the kernel's file-system work for
chdb's part files varies a lot from run to run (see BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402
from aggregator_events import (  # noqa: E402
    AGENTS,
    DOMAIN,
    TIMEZONE,
    expected_counts,
    http_pageviews,
    stream_entries,
)
from aggregator_worker import own_cpu_seconds  # noqa: E402

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
from bench.profiles import Frame, print_profile  # noqa: E402
from footfall import keys  # noqa: E402
from footfall.sites import Site, site_to_json  # noqa: E402

BENCH = Path(__file__).resolve().parent
WORKER = BENCH / "aggregator_worker.py"
LOAD = BENCH / "aggregator_load.lua"
TEMPLATE = "bench:template"
# The collector's single-worker rate this is compared with: BENCHMARKS.md, "Collector
# (issue 2)", 1 worker, median over rounds (2026-11-28). Not measured here.
COLLECTOR_RATE = 4_096  # BENCHMARKS.md, collector, 1 worker, after its rework
GOAL_FACTOR = 3
FRESHNESS_GOAL_S = 2.0
BROWSER = AGENTS[0]
PHASE_NAMES = ("read", "enrich", "insert", "ack")


# ----------------------------------------------------------------------------- processes


def cmdline(pid: int) -> list[str]:
    with contextlib.suppress(OSError), open(f"/proc/{pid}/cmdline", "rb") as f:
        return [part.decode(errors="replace") for part in f.read().split(b"\0") if part]
    return []


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FOOTFALL_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env.update(extra)
    return env


# ----------------------------------------------------------------------------- throughput


def fill_template(store: redis.Redis, n: int, seed: int) -> dict[str, int]:
    """The template stream, once: `n` entries as the collector stores them; expected counts."""
    started = time.perf_counter()
    entries = stream_entries(n, seed)
    expected = expected_counts(entries)
    store.delete(TEMPLATE)
    pipe = store.pipeline(transaction=False)
    for i, entry in enumerate(entries, 1):
        pipe.xadd(TEMPLATE, entry)
        if i % 2000 == 0:
            pipe.execute()
    pipe.execute()
    if store.xlen(TEMPLATE) != n:
        raise RuntimeError(f"template stream holds {store.xlen(TEMPLATE)} entries, not {n}")
    size = sum(len(e["e"]) for e in entries) / n
    print(f"{n:,} events generated and stored in {time.perf_counter() - started:.1f} s: "
          f"{expected['pageviews']:,} page views ({100 * expected['pageviews'] / n:.1f} %), "
          f"{expected['engagements']:,} engagements, {expected['custom']:,} custom events, "
          f"{expected['visits']:,} visits; {size:.0f} bytes of msgpack per event")  # fmt: skip
    return expected


def reset_stream(store: redis.Redis) -> None:
    """Everything but the template and the sites mirror gone; the site's stream = the template."""
    keep = {TEMPLATE.encode(), keys.SITES.encode()}
    stale = [k for k in store.scan_iter(count=1000) if k not in keep]
    if stale:
        store.delete(*stale)
    store.copy(TEMPLATE, keys.stream(DOMAIN))
    # A fresh AOF, so that no rewrite starts during the timed part.
    wait_for_aof_rewrite(store)
    try:
        store.bgrewriteaof()
    except redis.exceptions.ResponseError as e:
        if "already in progress" not in str(e):
            raise
    wait_for_aof_rewrite(store)


def wait_for_aof_rewrite(store: redis.Redis, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = store.info("persistence")
        if not info["aof_rewrite_in_progress"] and not info["aof_rewrite_scheduled"]:
            return
        time.sleep(0.1)
    raise RuntimeError(f"Redis still rewriting its AOF after {timeout} s")


def run_worker(
    mode: str, batch: int, args: argparse.Namespace, tmp: Path, redis_server: EmbeddedRedis,
    expected: dict, *, wait_go: bool = False, profile_out: Path | None = None,
) -> dict:  # fmt: skip
    chdb = Path(tempfile.mkdtemp(prefix=f"chdb-{mode}-{batch}-", dir=args.chdb_dir or tmp))
    command = [
        sys.executable, str(WORKER), "--mode", mode, "--redis", redis_server.url,
        "--redis-pid", str(redis_server.process.pid if redis_server.process else 0),
        "--chdb", str(chdb), "--batch-size", str(batch), "--expected", json.dumps(expected),
        "--quiet-wait", str(args.quiet_wait),
    ] + (["--wait-go"] if wait_go else [])  # fmt: skip
    limit = 300 + args.events / 500  # generous: a drain of 200,000 takes ~30 s here
    try:
        if not wait_go:
            done = subprocess.run(
                command, cwd=ROOT, capture_output=True, text=True, timeout=limit, check=False
            )
            stdout, stderr, code = done.stdout, done.stderr, done.returncode
        else:
            stdout, stderr, code = profiled(command, args, limit, profile_out)
    finally:
        shutil.rmtree(chdb, ignore_errors=True)
    for line in stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line.removeprefix("RESULT "))
    raise RuntimeError(f"{mode} worker failed ({code}):\n{stdout[-2000:]}\n{stderr[-4000:]}")


def profiled(
    command: list[str], args: argparse.Namespace, limit: float, out: Path | None
) -> tuple[str, str, int]:
    """Run the worker, attach py-spy to it between READY and DRAINED."""
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    worker = subprocess.Popen(
        command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    spy: subprocess.Popen | None = None
    lines: list[str] = []
    try:
        assert worker.stdout is not None and worker.stdin is not None
        for line in worker.stdout:
            lines.append(line)
            if line.startswith("READY"):
                break
        spy = subprocess.Popen(
            [py_spy, "record", "--pid", str(worker.pid), "--rate", "200", "--format", "raw",
             "--output", str(out), "--nonblocking", "--full-filenames"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        time.sleep(1.5)  # py-spy attaches
        worker.stdin.write("go\n")
        worker.stdin.flush()
        for line in worker.stdout:
            lines.append(line)
            if line.startswith("DRAINED"):
                break
        spy.send_signal(signal.SIGINT)
        spy_output, _ = spy.communicate(timeout=60)
        if spy.returncode not in (0, -signal.SIGINT):
            print(f"py-spy exited {spy.returncode}:\n{spy_output}")
        rest, stderr = worker.communicate(timeout=limit)
        lines.append(rest)
        return "".join(lines), stderr, worker.returncode
    finally:
        for process in (spy, worker):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()


def throughput(
    args: argparse.Namespace, tmp: Path, redis_server: EmbeddedRedis, store: redis.Redis,
    expected: dict,
) -> list[dict]:  # fmt: skip
    results = []
    for batch in args.batch_sizes:
        print(f"\nbatch size {batch:,}:")
        for round_ in range(args.rounds):
            order = ("aggregator", "baseline") if round_ % 2 == 0 else ("baseline", "aggregator")
            for mode in order:
                reset_stream(store)
                result = run_worker(mode, batch, args, tmp, redis_server, expected)
                result["round"] = round_ + 1
                results.append(result)
                print_result(result)
    return results


def rate(result: dict) -> float:
    return result["events"] / result["seconds"]


def print_result(r: dict) -> None:
    cpu = ", ".join(f"{k} {v:.0f}%" for k, v in r["cpu"].items())
    line = f"  round {r['round']} {r['mode']:<10} {rate(r):>8,.0f} /s  ({r['seconds']:.2f} s"
    spread = r["insert_ms"]
    line += (f"; {r['inserts']} inserts, {r['insert_seconds']:.2f} s, each p50 "
             f"{spread['p50']:.0f} ms, max {spread['max']:.0f} ms")  # fmt: skip
    if r["mode"] == "aggregator":
        split = ", ".join(f"{k} {100 * v / r['seconds']:.0f}%" for k, v in r["phases"].items())
        line += f"; time in {split}"
    else:
        line += (f"; enrichment alone {r['events'] / r['enrich_seconds']:,.0f} /s "
                 f"in {r['enrich_seconds']:.2f} s")  # fmt: skip
    line += f")  CPU {cpu}"
    if r["quiet_waited"] > 5:
        line += f"  (waited {r['quiet_waited']:.0f} s for a quiet machine)"
    print(line, flush=True)
    for problem in r["problems"]:
        print(f"  PROBLEM: {problem}")


# ----------------------------------------------------------------------------- profile


def profile_run(
    args: argparse.Namespace, tmp: Path, redis_server: EmbeddedRedis, store: redis.Redis,
    expected: dict,
) -> dict:  # fmt: skip
    batch = args.batch_sizes[0]
    reset_stream(store)
    result = run_worker(
        "aggregator", batch, args, tmp, redis_server, expected, wait_go=True,
        profile_out=args.profile,
    )  # fmt: skip
    print(f"\nprofile: batch {batch:,}, {rate(result):,.0f} events/s under py-spy (not in the "
          f"table); raw stacks in {args.profile}")  # fmt: skip
    for problem in result["problems"]:
        print(f"  PROBLEM: {problem}")
    if args.profile.exists():
        print_profile(args.profile, args.profile_top, ("aggregator", "footfall"), thread_of)
    return result


def thread_of(stack: str, frames: list[Frame]) -> str:
    """py-spy samples the Python threads only when they run (not `--idle`): the event
    loop's thread and the `clickhouse` executor thread that calls chdb; chdb's own
    worker threads have no Python frames and are not seen."""
    if "concurrent/futures/thread.py" not in stack:
        return "event loop thread"
    if frames[-1][1] == "chdb":
        return "ClickHouse executor thread: in chdb"
    return "ClickHouse executor thread: Python (clickhouse-connect)"


# ----------------------------------------------------------------------------- freshness


def http(
    method: str, url: str, body: dict | None = None, token: str = ""
) -> tuple[int, dict, dict]:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"User-Agent": BROWSER, "Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status, head, text = response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as e:
        status, head, text = e.code, dict(e.headers), e.read()
    try:
        return status, head, json.loads(text)
    except ValueError:
        return status, head, {"text": text.decode(errors="replace")}


def serve_redis_url(data: Path) -> str:
    """The URL (password included) of the Redis `footfall serve` started for itself, from the
    server.json it writes in its data dir."""
    return json.loads((data / "server.json").read_text())["redis_url"]


def serve_redis_pid(server: Server) -> int:
    for pid in server.pids()[1:]:
        if any(name in " ".join(cmdline(pid)[:1]) for name in ("redis-server", "valkey-server")):
            return pid
    raise RuntimeError("footfall serve started no Redis server")


def serve_metrics(url: str) -> dict[str, float]:
    wanted = {
        "footfall_events_accepted_total",
        "footfall_aggregator_events_inserted_total",
        "footfall_aggregator_batch_events_count",
        "footfall_aggregator_batch_events_sum",
        "footfall_aggregator_insert_seconds_count",
        "footfall_aggregator_insert_seconds_sum",
    }
    found: dict[str, float] = {}
    with urllib.request.urlopen(url + "/metrics", timeout=10) as response:
        for line in response.read().decode().splitlines():
            name, _, value = line.partition(" ")
            if name in wanted:
                found[name] = float(value)
    return found


async def run_probes(
    args: argparse.Namespace, base: str, redis_url: str, start_in: float
) -> list[dict]:
    """Probe K: one page view of article probe-K, then polls until its view shows."""
    import aiohttp
    import redis.asyncio

    article_pageviews_key = keys.article_pageviews(DOMAIN)
    store = redis.asyncio.Redis.from_url(redis_url)
    timeout = aiohttp.ClientTimeout(total=args.probe_timeout)
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), timeout=timeout)
    run_id = f"{int(time.time()) % 100_000}"

    async def probe(k: int) -> dict:
        article = f"probe-{run_id}-{k}"
        body = {"n": "pageview", "u": f"https://{DOMAIN}/probe/{article}.html", "d": DOMAIN,
                "a": article, "ti": f"Probe {k}"}  # fmt: skip
        headers = {"User-Agent": BROWSER, "Content-Type": "text/plain;charset=UTF-8"}
        sent = time.perf_counter()
        result: dict = {"k": k, "article": article, "redis_s": None, "http_s": None,
                        "polls": 0, "last_views": 0}  # fmt: skip
        try:
            data = json.dumps(body)
            async with session.post(base + "/api/event", data=data, headers=headers) as r:
                await r.read()
                result["status"] = r.status
                result["dropped"] = r.headers.get("X-Footfall-Dropped")
        except (aiohttp.ClientError, TimeoutError) as e:
            result["status"], result["error"] = 0, type(e).__name__
            return result
        accepted = time.perf_counter()
        result["answer_s"] = accepted - sent
        if result["status"] != 202 or result["dropped"]:
            return result
        counters = f"{base}/api/counters?d={DOMAIN}&a={article}"
        deadline = accepted + args.probe_timeout
        n = 0
        while (result["redis_s"] is None or result["http_s"] is None) and (
            time.perf_counter() < deadline
        ):
            if result["redis_s"] is None and await store.hget(article_pageviews_key, article):
                result["redis_s"] = time.perf_counter() - accepted
            if result["http_s"] is None:
                with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                    async with session.get(counters) as r:
                        views = (await r.json()).get("views", 0) if r.status == 200 else 0
                    result["polls"] += 1
                    result["last_views"] = views
                    if views >= 1:
                        result["http_s"] = time.perf_counter() - accepted
            n += 1
            pause = accepted + n * args.poll_interval - time.perf_counter()
            if pause > 0:
                await asyncio.sleep(pause)
        return result

    try:
        await asyncio.sleep(start_in)
        started = time.perf_counter()
        stop_at = started + max(0.0, args.freshness_seconds - start_in - 3.0)
        tasks = []
        for k in range(args.probes):
            if time.perf_counter() > stop_at:
                break
            tasks.append(asyncio.create_task(probe(k)))
            pause = started + (k + 1) * args.probe_interval - time.perf_counter()
            if pause > 0:
                await asyncio.sleep(pause)
        return await asyncio.gather(*tasks)
    finally:
        await session.close()
        await store.aclose()


def count_in_chdb(path: Path) -> dict[str, int]:
    """Counted by another process once the server stopped: one process may open a chdb folder."""
    script = (
        "import json, clickhouse_connect\n"
        f"c = clickhouse_connect.get_client(dsn={'chdb://' + str(path)!r})\n"
        "one = lambda q: c.query(q).result_rows[0]\n"
        "print(json.dumps({'events': one('SELECT count() FROM events')[0],\n"
        "  'distinct_stream_ids': one('SELECT uniqExact(stream_id) FROM events')[0],\n"
        "  'site_totals_pageviews': one('SELECT sum(pageviews) FROM site_totals')[0]}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip
    if out.returncode != 0:
        raise RuntimeError(f"counting in chdb failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def freshness(args: argparse.Namespace, tmp: Path) -> dict:
    data = tmp / "serve-data"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # One load generator is one client: the limits count but never refuse (as in
    # bench/collector.py).
    env = clean_env(FOOTFALL_DATA_DIR=str(data), FOOTFALL_HOST="127.0.0.1",
                    FOOTFALL_RATE_LIMIT_IP="1000000000",
                    FOOTFALL_RATE_LIMIT_SITE="1000000000")  # fmt: skip
    code = "from app.cli import main; main(prog_name='footfall')"
    print(f"\nfreshness: footfall serve on {base} (data dir {data}), page views at "
          f"{args.rate:,.0f}/s for {args.freshness_seconds:.0f} s, a probe every "
          f"{args.probe_interval * 1000:.0f} ms (up to {args.probes}), polls every "
          f"{args.poll_interval * 1000:.0f} ms")  # fmt: skip
    server = Server(
        "serve", [sys.executable, "-c", code, "serve", "--port", str(port)],
        "footfall is running at", tmp / "serve.log", env,
    )  # fmt: skip
    load: subprocess.Popen | None = None
    summary: dict = {"problems": []}
    problems = summary["problems"]
    try:
        server.wait_listening()
        token = (data / "admin-token").read_text().strip()
        site = {"domain": DOMAIN, "timezone": TIMEZONE, "public_counters": True,
                "counter_measure": "pageviews"}  # fmt: skip
        status, _, body = http("POST", base + "/api/v1/sites", site, token)
        if status != 201:
            raise RuntimeError(f"creating the site: {status} {body}")
        redis_url = serve_redis_url(data)
        store = redis.Redis.from_url(redis_url)
        redis_pid = serve_redis_pid(server)
        status, head, body = http(
            "POST", base + "/api/event",
            {"n": "pageview", "u": f"https://{DOMAIN}/preflight.html", "d": DOMAIN},
        )  # fmt: skip
        if status != 202 or head.get("X-Footfall-Dropped"):
            raise RuntimeError(f"preflight event: {status} {head.get('X-Footfall-Dropped')}")
        wait_for_stream_drained(store, 30)
        waited = wait_for_quiet(args.quiet_wait)
        before_metrics = serve_metrics(base)
        serve_pids = [p for p in server.pids() if p != redis_pid]
        requests = tmp / "load-requests.txt"
        requests.write_text(
            "".join(f"{agent}\t{body.decode()}\n" for agent, body in http_pageviews(4096))
        )
        before = (
            cpu_seconds(serve_pids), cpu_seconds([redis_pid]), children_cpu_seconds(),
            own_cpu_seconds(), machine_busy_seconds(),
        )  # fmt: skip
        started = time.monotonic()
        load = subprocess.Popen(
            ["wrk", "--threads", "1", "--connections", str(args.load_connections),
             "--duration", f"{args.freshness_seconds:.0f}s", "--timeout", "10s", "--latency",
             "--script", str(LOAD), base + "/api/event"],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "BENCH_REQUESTS": str(requests), "BENCH_RATE": str(args.rate)},
        )  # fmt: skip
        probes = asyncio.run(run_probes(args, base, redis_url, start_in=2.0))
        out, err = load.communicate(timeout=args.freshness_seconds + 60)
        wall = time.monotonic() - started
        after = (
            cpu_seconds(serve_pids), cpu_seconds([redis_pid]), children_cpu_seconds(),
            own_cpu_seconds(), machine_busy_seconds(),
        )  # fmt: skip
        after_metrics = serve_metrics(base)
        names = ("serve", "redis", "wrk", "probes", "machine")
        cpu = {name: 100 * (b - a) / wall for name, a, b in zip(names, before, after, strict=True)}
        lines = [line for line in out.splitlines() if line.startswith("BENCH_JSON ")]
        if load.returncode != 0 or not lines:
            raise RuntimeError(f"wrk failed ({load.returncode}):\n{out}\n{err[-2000:]}")
        sent = json.loads(lines[-1].removeprefix("BENCH_JSON "))
        ours = cpu["serve"] + cpu["redis"] + cpu["wrk"] + cpu["probes"]
        cpu["others"] = max(0.0, cpu.pop("machine") - ours)

        drained = wait_for_stream_drained(store, 60)
        final_metrics = serve_metrics(base)  # the requests wrk left in flight are done now
        time.sleep(1.2)  # the counters' in-process cache (1 s)
        _, _, counters = http("GET", f"{base}/api/counters?d={DOMAIN}")
        dead = store.xlen(keys.DEAD_LETTERS)
        probe_views = [
            int(store.hget(keys.article_pageviews(DOMAIN), p["article"]) or 0) for p in probes
        ]
        store.close()
        code_ = server.stop()
        counts = count_in_chdb(data / "clickhouse")

        statuses = {int(k): v for k, v in sent["statuses"].items()}
        sent["rate"] = sent["requests"] / (sent["duration_us"] / 1e6)
        sent["in_flight"] = sent["sent"] - sum(statuses.values())
        stored_load = statuses.get(202, 0) - sent["dropped_202"]
        stored_probes = sum(1 for p in probes if p.get("status") == 202 and not p.get("dropped"))
        answered = stored_load + stored_probes + 1  # + the preflight
        accepted = int(final_metrics.get("footfall_events_accepted_total", -1))
        delta = {k: after_metrics.get(k, 0) - before_metrics.get(k, 0) for k in after_metrics}
        summary.update(
            quiet_waited=waited,
            load=sent,
            cpu=cpu,
            wall=wall,
            probes=probes,
            answered_202=answered,
            accepted_counter=accepted,
            drained=drained,
            counters_total=counters.get("total"),
            dead_letters=dead,
            clickhouse=counts,
            serve_exit=code_,
            metrics_delta=delta,
        )
        if not drained:
            problems.append("freshness: the stream did not drain within 60 s after the load")
        errors = {k: v for k, v in sent["errors"].items() if v and k != "status"}
        if errors:
            problems.append(f"freshness: wrk socket errors {errors}")
        others = {s: n for s, n in statuses.items() if s != 202}
        if others or sent["dropped_202"]:
            problems.append(f"freshness: load answers {others}, dropped {sent['dropped_202']}")
        if not answered <= accepted <= answered + sent["in_flight"]:
            problems.append(
                f"freshness: the collector accepted {accepted} events; 202s read: {answered}, "
                f"and {sent['in_flight']} requests were in flight when wrk stopped"
            )
        for name, value in (
            ("counters total", counters.get("total")),
            ("ClickHouse events", counts["events"]),
            ("ClickHouse distinct stream ids", counts["distinct_stream_ids"]),
            ("ClickHouse site_totals page views", counts["site_totals_pageviews"]),
        ):
            if value != accepted:
                problems.append(f"freshness: {name} {value} != {accepted} events accepted")
        if dead:
            problems.append(f"freshness: {dead} dead letters")
        if code_ not in (0, None):
            problems.append(f"freshness: footfall serve exited {code_}")
        wrong = [p["article"] for v, p in zip(probe_views, probes, strict=True)
                 if p.get("status") == 202 and v != 1]  # fmt: skip
        if wrong:
            problems.append(f"freshness: {len(wrong)} probe articles' views are not exactly 1")
        return summary
    finally:
        if load is not None and load.poll() is None:
            load.kill()
            load.wait()
        server.stop()


def wait_for_stream_drained(store: redis.Redis, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stream = keys.stream(DOMAIN)
        groups = store.xinfo_groups(stream) if store.exists(stream) else []
        if store.xlen(stream) == 0 and not sum(g["pending"] for g in groups):
            return True
        time.sleep(0.05)
    return False


# ----------------------------------------------------------------------------- report


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def report_throughput(results: list[dict], args: argparse.Namespace) -> dict:
    print("\n" + "=" * 100)
    print(f"{dt.date.today()}: {args.events:,} events, {args.rounds} round(s) per batch size; "
          "median over rounds (min-max); CPU in % of one core")  # fmt: skip
    print("| batch | aggregator events/s | aggregator's time, %: read / enrich / insert / ack "
          "| one insert, p50: aggregator / baseline | baseline rows/s | aggregator/baseline "
          "| enrichment alone events/s | CPU aggregator: process / redis / others "
          "| CPU baseline |")  # fmt: skip
    print("|" + "---|" * 9)
    table = []
    for batch in args.batch_sizes:
        agg = [r for r in results if r["mode"] == "aggregator" and r["batch_size"] == batch]
        base = [r for r in results if r["mode"] == "baseline" and r["batch_size"] == batch]
        agg_rates, base_rates = [rate(r) for r in agg], [rate(r) for r in base]
        per_round = [a / b for a, b in zip(agg_rates, base_rates, strict=True)]
        enrich = [r["events"] / r["enrich_seconds"] for r in base]
        phases = [k for k in PHASE_NAMES if all(k in r["phases"] for r in agg)]
        split = {k: median([r["phases"][k] / r["seconds"] for r in agg]) for k in phases}
        row = {
            "batch": batch,
            "aggregator": median(agg_rates),
            "aggregator_all": [round(x) for x in agg_rates],
            "time_split": split,
            "insert_ms_p50": median([r["insert_ms"]["p50"] for r in agg]),
            "baseline_insert_ms_p50": median([r["insert_ms"]["p50"] for r in base]),
            "baseline": median(base_rates),
            "baseline_all": [round(x) for x in base_rates],
            "ratio": median(agg_rates) / median(base_rates),
            "ratio_per_round": per_round,
            "enrichment": median(enrich),
            "enrichment_all": [round(x) for x in enrich],
            "cpu_aggregator": {k: median([r["cpu"][k] for r in agg]) for k in agg[0]["cpu"]},
            "cpu_baseline": {k: median([r["cpu"][k] for r in base]) for k in base[0]["cpu"]},
        }
        table.append(row)

        def spread(values: list[int]) -> str:
            return f"{min(values):,}-{max(values):,}"

        cpu_a = " / ".join(f"{v:.0f}" for v in row["cpu_aggregator"].values())
        cpu_b = " / ".join(f"{v:.0f}" for v in row["cpu_baseline"].values())
        rounds = ", ".join(f"{x:.2f}" for x in per_round)
        print(f"| {batch:,} | {row['aggregator']:,.0f} ({spread(row['aggregator_all'])}) "
              f"| {' / '.join(f'{100 * v:.0f}' for v in split.values())} "
              f"| {row['insert_ms_p50']:.0f} / {row['baseline_insert_ms_p50']:.0f} ms "
              f"| {row['baseline']:,.0f} "
              f"({spread(row['baseline_all'])}) | **{row['ratio']:.2f}** (rounds: {rounds}) "
              f"| {row['enrichment']:,.0f} ({spread(row['enrichment_all'])}) | {cpu_a} "
              f"| {cpu_b} |")  # fmt: skip
    goal = GOAL_FACTOR * args.collector_rate
    for row in table:
        verdict = "met" if row["aggregator"] >= goal else "NOT met"
        print(f"Goal >= {GOAL_FACTOR} x the collector's single-worker {args.collector_rate:,} "
              f"events/s (BENCHMARKS.md) = {goal:,} events/s, batch {row['batch']:,}: "
              f"{row['aggregator']:,.0f} events/s = {row['aggregator'] / args.collector_rate:.2f}"
              f" x, {verdict}")  # fmt: skip
    noisy = [r for r in results if r["cpu"]["others"] > NOISY]
    if noisy:
        print(f"Note: {len(noisy)} of {len(results)} runs shared the machine with other busy "
              f"processes (others > {NOISY}% of a core): their figures are low.")  # fmt: skip
    problems = [p for r in results for p in r["problems"]]
    checked = len(results)
    if not problems:
        print(f"Checks: after each of the {checked} runs ClickHouse held exactly "
              f"{args.events:,} events ({args.events:,} distinct stream ids) and the expected "
              "rollups; after each aggregator run the stream and its pending list were empty, "
              "no dead letter, hot counters equal to the expected totals.")  # fmt: skip
    for p in problems:
        print(f"PROBLEM: {p}")
    return {"table": table, "runs": results, "problems": problems}


def report_freshness(summary: dict, args: argparse.Namespace) -> None:
    probes = summary["probes"]
    ok = [p for p in probes if p.get("status") == 202 and not p.get("dropped")]
    load, cpu = summary["load"], summary["cpu"]
    latency = load["latency_us"]
    print("\n" + "=" * 100)
    print(f"freshness: load {load['rate']:,.0f} page views/s achieved (asked {args.rate:,.0f}/s; "
          f"{load['requests']:,} answers in {load['duration_us'] / 1e6:.1f} s); answers p50 "
          f"{latency['p50'] / 1000:.1f} ms, p99 {latency['p99'] / 1000:.1f} ms, max "
          f"{latency['max'] / 1000:.0f} ms")  # fmt: skip
    print("  CPU in % of one core: " + ", ".join(f"{k} {v:.0f}" for k, v in cpu.items()))
    delta = summary["metrics_delta"]
    batches = delta.get("footfall_aggregator_batch_events_count", 0)
    if batches:
        inserted = delta["footfall_aggregator_batch_events_sum"]
        insert_ms = 1000 * delta["footfall_aggregator_insert_seconds_sum"] / batches
        print(f"  the aggregator inserted {inserted:,.0f} events in {batches:,.0f} batches "
              f"({inserted / batches:.1f} per batch), {insert_ms:.1f} ms per insert on "
              "average")  # fmt: skip
    answer = sorted(p["answer_s"] for p in ok)
    print(f"{len(probes)} probes, {len(ok)} answered 202 (p50 {1000 * percentile(answer, 50):.0f}"
          f" ms); time from the 202 to visible:")  # fmt: skip
    print("| where | p50 | p99 | max | misses (> timeout) |")
    print("|---|---|---|---|---|")
    for label, key in (
        ("hot counter in Redis (HGET)", "redis_s"),
        ("`/api/counters` (1 s in-process cache)", "http_s"),
    ):
        seen = [p[key] for p in ok if p[key] is not None]
        misses = len(ok) - len(seen)
        if seen:
            p50, p99, top = (1000 * percentile(seen, q) for q in (50, 99, 100))
            print(f"| {label} | {p50:.0f} ms | {p99:.0f} ms | {top:.0f} ms | {misses} |")
        else:
            print(f"| {label} | - | - | - | {misses} |")
    seen = [p["http_s"] for p in ok if p["http_s"] is not None]
    if seen:
        p99 = percentile(seen, 99)
        missed = len(ok) - len(seen)
        verdict = "met" if p99 <= FRESHNESS_GOAL_S and not missed else "NOT met"
        print(f"Goal p99 <= {FRESHNESS_GOAL_S:.0f} s (to `/api/counters`): {p99:.2f} s, {verdict}")
    ch = summary["clickhouse"]
    print(f"Checks: the collector accepted {summary['accepted_counter']:,} events "
          f"(footfall_events_accepted_total); 202s read: {summary['answered_202']:,} (load, "
          f"probes, preflight), {load['in_flight']} requests in flight when wrk stopped; counters "
          f"total {summary['counters_total']:,}; ClickHouse {ch['events']:,} events, "
          f"{ch['distinct_stream_ids']:,} distinct stream ids, site_totals "
          f"{ch['site_totals_pageviews']:,}; stream drained: {summary['drained']}; dead "
          f"letters {summary['dead_letters']}; serve exited {summary['serve_exit']}")  # fmt: skip
    for p in summary["problems"]:
        print(f"PROBLEM: {p}")


# ----------------------------------------------------------------------------- main


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000, help="0: no throughput part")
    parser.add_argument("--batch-sizes", default="2000,10000", help="comma-separated")
    parser.add_argument("--rounds", type=int, default=3, help="measurements per batch size")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--quiet-wait", type=float, default=60,
        help=f"before each timed part, wait up to this many seconds for the machine to be "
        f"idle (other processes under {NOISY}%% of a core); 0: do not wait",
    )  # fmt: skip
    parser.add_argument(
        "--chdb-dir", type=Path,
        help="make the throughput part's chdb folders under this folder (default: the run's "
        "temporary folder, on disk); /dev/shm takes the file system out of the figures",
    )  # fmt: skip
    parser.add_argument("--freshness-seconds", type=float, default=30, help="0: no freshness")
    parser.add_argument("--rate", type=float, default=1000, help="load, page views per second")
    parser.add_argument("--load-connections", type=int, default=50, help="wrk connections")
    parser.add_argument("--probes", type=int, default=200)
    parser.add_argument("--probe-interval", type=float, default=0.1)
    parser.add_argument("--poll-interval", type=float, default=0.02)
    parser.add_argument("--probe-timeout", type=float, default=10)
    parser.add_argument(
        "--collector-rate", type=int, default=COLLECTOR_RATE,
        help="the collector's single-worker events/s to compare with (BENCHMARKS.md)",
    )  # fmt: skip
    parser.add_argument("--profile", type=Path, help="py-spy one more aggregator drain")
    parser.add_argument("--profile-top", type=int, default=15)
    parser.add_argument("--json", type=Path, help="write every figure to this file")
    args = parser.parse_args()
    args.batch_sizes = [int(b) for b in str(args.batch_sizes).split(",") if b.strip()]
    if args.freshness_seconds and args.freshness_seconds < 10:
        parser.error("--freshness-seconds must be 0 or at least 10")
    return args


def main() -> int:
    args = parse_args()
    signal.signal(signal.SIGTERM, exit_on_signal)
    signal.signal(signal.SIGHUP, exit_on_signal)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    summary: dict = {"args": {k: str(v) for k, v in vars(args).items()}}
    with tempfile.TemporaryDirectory(prefix="footfall-bench-aggregator-") as name:
        tmp = Path(name)
        if args.events > 0:
            redis_server = EmbeddedRedis(tmp / "redis", appendonly=True)
            store: redis.Redis | None = None
            try:
                redis_server.start()
                store = redis.Redis.from_url(redis_server.url)
                version = subprocess.run(
                    [find_redis_server(), "--version"], capture_output=True, text=True, check=False
                ).stdout.split(" sha=")[0]
                print(f"cores: {os.cpu_count()}; {version} on port {redis_server.port}: "
                      "appendonly yes, appendfsync everysec")  # fmt: skip
                store.hset(keys.SITES, DOMAIN, site_to_json(Site(
                    domain=DOMAIN, timezone=TIMEZONE, public_counters=True,
                    counter_measure="pageviews",
                )))  # fmt: skip
                expected = fill_template(store, args.events, args.seed)
                results = throughput(args, tmp, redis_server, store, expected)
                summary["throughput"] = report_throughput(results, args)
                summary["chdb_version"] = results[0]["chdb_version"] if results else None
                if args.profile:
                    summary["profile_run"] = profile_run(args, tmp, redis_server, store, expected)
            finally:
                if store is not None:
                    store.close()
                redis_server.stop()
        if args.freshness_seconds > 0:
            fresh = freshness(args, tmp)
            report_freshness(fresh, args)
            summary["freshness"] = fresh
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
