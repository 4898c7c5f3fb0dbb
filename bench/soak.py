"""Soak test: a steady load for minutes while the aggregator and Redis restart; nothing lost.

    .venv/bin/python bench/soak.py [--rate 2000] [--duration 300] [--connections 100]
        [--grace 60] [--sample-every 5] [--aggregator-signals TERM,KILL] [--redis-down 3]
        [--seed 1] [--csv OUT] [--json OUT] [--keep] [--no-restarts] [--visit-gap S]

What it does:

1. plans the load (bench/soak_plan.py, before any clock starts): `app.demo`'s
   visitors (page views and engagements, started warm), one event per slot of
   1 / `--rate` s for `--duration` s, at most rate x duration events, the same plan
   for the same `--seed`, written to a file;
2. starts a real redis-server (`app.redis_server.EmbeddedRedis`, AOF on with
   `appendfsync everysec`, as production runs it) on a free loopback port in a
   temporary folder, and registers the site `soak.example` (Asia/Ho_Chi_Minh,
   public counters of page views) with `footfall site add`, which writes chdb and
   the collector's mirror in Redis;
3. starts `footfall collector` (1 worker) and `footfall aggregator --consumer soak`
   as separate processes, on that Redis and one chdb folder (only the aggregator
   opens it: one process may own a chdb path);
4. runs wrk (one thread, `--connections`, `--timeout 30s`) with bench/soak_load.lua,
   which sends each planned event on its slot as a browser's sendBeacon would, one
   `POST /api/event` each, records how late each went out, counts the answers by
   status, and ends wrk once every request is answered (wrk's `--duration` is the
   run plus `--grace`, a bound for a run that falls behind);
5. meanwhile restarts the aggregator at 1/3 and 2/3 of the run (by default first
   with SIGTERM, a graceful stop, then with SIGKILL, a crash; each restarted at
   once under the same consumer name, so it resumes its pending batch), and Redis
   once at 1/2 (SIGTERM: Redis writes and fsyncs its AOF and exits; down for
   `--redis-down` s, during which the collector answers 503; then started again
   on the same AOF and port);
6. every `--sample-every` s records each process's resident memory (VmRSS from
   /proc, the whole process tree) and Redis's used memory, stream length and
   pending count, into a CSV;
7. after the load: waits until the stream and the pending list are empty, reads
   the collector's `footfall_events_accepted_total` (/metrics), stops the
   aggregator and the collector (SIGTERM), reads the hot counters, and reads
   ClickHouse from a separate process; then checks: 202s counted by wrk = rows in
   `events` (with requests never answered, 202s <= rows <= 202s + unanswered) =
   the collector's accepted counter = distinct stream ids; every row is an event
   sent (matched by page-view id, type, engaged time and scroll depth), and every
   event sent but not stored went out while Redis restarted, unless other refusals
   (429, a dropped 202) or unanswered requests account for it (wrk does not tie an
   answer to its request, so a refused event cannot be looked up one by one);
   page views, visits and article page views in `events` = `site_totals` /
   `article_totals` = the hot counters; no dead letter; the aggregator and the
   collector exit 0 on SIGTERM;
8. prints the memory table (start, each minute, end, per process and life) with a
   verdict on flatness (growth over the second half of each process's life), the
   answers per 10 s around the Redis restart, wrk's lateness and latency, the
   checks, and exits 1 if a check failed.

Every server binds 127.0.0.1. The default rate is half the collector's
single-worker capacity (~4,000 events/s); on a busy machine the stack answers
fewer, which shows as lateness (and as events wrk had no time to send).
`--duration 30 --rate 200` is a quick correctness run (about a minute in all).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402

from app.redis_server import EmbeddedRedis, find_redis_server, free_port  # noqa: E402
from bench.machine import Server, cpu_seconds, exit_on_signal, process_tree  # noqa: E402
from bench.soak_plan import read_plan, write_plan  # noqa: E402
from footfall import keys  # noqa: E402

BENCH = Path(__file__).resolve().parent
SITE = "soak.example"
TIMEZONE = "Asia/Ho_Chi_Minh"
CONSUMER = "soak"
FOOTFALL = [sys.executable, "-c", "from app.cli import main; main(prog_name='footfall')"]
DRAIN_TIMEOUT_S = 180
FLAT_MB_PER_MIN = 1.0  # growth over a life's second half above this is "growing"
MIN_LIFE_S = 60  # a shorter life is mostly start-up: no verdict
ROLES = ("collector", "aggregator", "redis", "load")


def mb(kb: float) -> float:
    return kb / 1024


def rss_kb(pids: list[int]) -> int:
    """Resident memory of `pids` together (VmRSS, kB); 0 for the ones gone."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError), open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
                    break
    return total


# ----------------------------------------------------------------------------- the stack


@dataclass
class Stack:
    """Redis, the collector and the aggregator of one soak, and how many lives each had."""

    tmp: Path
    env: dict[str, str]
    redis_server: EmbeddedRedis
    collector: Server | None = None
    aggregator: Server | None = None
    lives: dict[str, int] = field(default_factory=lambda: {"aggregator": 0, "redis": 1})
    exits: list[dict] = field(default_factory=list)

    def pids(self, role: str) -> list[int]:
        if role == "redis":
            process = self.redis_server.process
            return [process.pid] if process and process.poll() is None else []
        server = self.collector if role == "collector" else self.aggregator
        return server.pids() if server and server.process.poll() is None else []

    def start_collector(self) -> None:
        port = free_port()
        self.collector = Server(
            "collector", [*FOOTFALL, "collector", "--port", str(port), "--workers", "1"],
            "listening on port", self.tmp / "collector.log", self.env, port=port,
        )  # fmt: skip
        self.collector.wait_listening()

    def start_aggregator(self) -> None:
        self.lives["aggregator"] += 1
        life = self.lives["aggregator"]
        self.aggregator = Server(
            "aggregator",
            [*FOOTFALL, "aggregator", "--consumer", CONSUMER, "--port", str(free_port())],
            "consuming", self.tmp / f"aggregator-{life}.log", self.env,
        )  # fmt: skip
        self.aggregator.wait_listening()

    def restart_aggregator(self, signum: int) -> dict:
        """Stop the aggregator with `signum` (SIGTERM: graceful; SIGKILL: a crash), start anew."""
        assert self.aggregator is not None
        started = time.monotonic()
        if signum == signal.SIGKILL:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.aggregator.process.pid, signal.SIGKILL)
        code = self.aggregator.stop(timeout=60)  # SIGTERM, unless the kill came first
        stopped = time.monotonic()
        self.start_aggregator()
        done = {"what": f"aggregator {signal.Signals(signum).name}", "exit": code,
                "stop_s": round(stopped - started, 2),
                "restart_s": round(time.monotonic() - stopped, 2)}  # fmt: skip
        self.exits.append(done)
        return done

    def restart_redis(self, down_s: float) -> dict:
        """SIGTERM (Redis fsyncs its AOF and exits), `down_s` s down, then the same AOF and port."""
        started = time.monotonic()
        self.redis_server.stop(timeout=60)
        stopped = time.monotonic()
        time.sleep(down_s)
        self.redis_server.start(timeout=60)
        self.lives["redis"] += 1
        return {"what": "redis SIGTERM", "stop_s": round(stopped - started, 2),
                "down_s": round(time.monotonic() - stopped, 2)}  # fmt: skip

    def stop(self) -> None:
        for server in (self.aggregator, self.collector):
            if server is not None:
                server.stop()
        self.redis_server.stop()


def server_env(tmp: Path, redis_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FOOTFALL_")}
    env.update(
        FOOTFALL_REDIS_URL=redis_url,
        FOOTFALL_DATA_DIR=str(tmp / "data"),
        FOOTFALL_CLICKHOUSE_DSN=f"chdb://{tmp / 'clickhouse'}",
        FOOTFALL_HOST="127.0.0.1",
        # The load sends each visitor's address in X-Forwarded-For, as a proxy would.
        FOOTFALL_TRUSTED_PROXIES="127.0.0.1",
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    )
    return env


def add_site(env: dict[str, str]) -> None:
    """`footfall site add`, before the aggregator owns the chdb folder."""
    done = subprocess.run(
        [*FOOTFALL, "site", "add", SITE, "--timezone", TIMEZONE, "--public-counters",
         "--counter-measure", "pageviews"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"footfall site add failed:\n{done.stdout}\n{done.stderr}")


# ----------------------------------------------------------------------------- sampling


def redis_state(store: redis.Redis) -> dict[str, int | None]:
    """Used memory, keys, stream length and pending count; None while Redis is down."""
    try:
        used = int(store.info("memory")["used_memory"])
        stream = keys.stream(SITE)
        length = store.xlen(stream)
        groups = store.xinfo_groups(stream) if length or store.exists(stream) else []
        pending = sum(g["pending"] for g in groups)
        size = store.dbsize()
    except (redis.exceptions.RedisError, OSError):
        return {"redis_used_kb": None, "redis_keys": None, "stream": None, "pending": None}
    return {"redis_used_kb": used // 1024, "redis_keys": size, "stream": length,
            "pending": pending}  # fmt: skip


def sample(stack: Stack, load_pid: int | None, store: redis.Redis, t: float, phase: str) -> dict:
    row: dict = {"t_s": round(t, 1), "phase": phase}
    for role in ROLES:
        pids = process_tree(load_pid) if role == "load" and load_pid else stack.pids(role)
        row[f"{role}_rss_kb"] = rss_kb(pids) if role != "load" or load_pid else None
    row["aggregator_life"] = stack.lives["aggregator"]
    row["redis_life"] = stack.lives["redis"]
    row.update(redis_state(store))
    return row


# ----------------------------------------------------------------------------- the run


def schedule(args: argparse.Namespace) -> list[tuple[float, str]]:
    """(seconds after the load started, what): the aggregator at 1/3 and 2/3, Redis at 1/2;
    nothing with --no-restarts."""
    if args.no_restarts:
        return []
    first, second = args.aggregator_signals
    return [
        (args.duration / 3, f"aggregator:{first}"),
        (args.duration / 2, "redis"),
        (2 * args.duration / 3, f"aggregator:{second}"),
    ]


def disrupt(stack: Stack, what: str, args: argparse.Namespace) -> dict:
    if what == "redis":
        return stack.restart_redis(args.redis_down)
    return stack.restart_aggregator(signal.Signals["SIG" + what.split(":")[1]])


def start_load(
    args: argparse.Namespace, collector: Server, plan: Path, log: Path
) -> subprocess.Popen:
    """wrk sending the plan (bench/soak_load.lua); it ends once every request is answered."""
    command = ["wrk", "--threads", "1", "--connections", str(args.connections),
               "--duration", f"{math.ceil(args.duration + args.grace)}s", "--timeout", "30s",
               "--script", str(BENCH / "soak_load.lua"), collector.url]  # fmt: skip
    return subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=log.open("wb"), text=True,
        env={**os.environ, "SOAK_PLAN": str(plan), "SOAK_SENT": str(plan.with_suffix(".sent"))},
    )  # fmt: skip


def soak(args: argparse.Namespace, stack: Stack, store: redis.Redis, plan: Path) -> dict:
    """The load with the disruptions on schedule, sampling throughout; the load's counts."""
    assert stack.collector is not None
    rows: list[dict] = []
    events: list[dict] = []
    log = stack.tmp / "load.log"
    load = start_load(args, stack.collector, plan, log)
    t0 = time.monotonic()
    cpu_before = {role: cpu_seconds(stack.pids(role)) for role in ("collector", "redis")}
    todo = schedule(args)
    next_sample = 0.0
    load_cpu = 0.0
    try:
        while load.poll() is None and time.monotonic() - t0 < args.duration + args.grace + 30:
            now = time.monotonic() - t0
            if todo and now >= todo[0][0]:
                _, what = todo.pop(0)
                from_epoch_ms = int(time.time() * 1000)
                done = disrupt(stack, what, args)
                # On the epoch clock, to place the events missing from ClickHouse.
                done.update(at_s=round(now, 1), from_epoch_ms=from_epoch_ms,
                            to_epoch_ms=int(time.time() * 1000))  # fmt: skip
                events.append(done)
                print(f"  {now:6.1f} s  {done}", flush=True)
                now = time.monotonic() - t0  # the restart took seconds
            if now >= next_sample:
                # The load's own CPU, read while it runs: is it the bottleneck?
                load_cpu = cpu_seconds(process_tree(load.pid)) or load_cpu
                rows.append(sample(stack, load.pid, store, now, "load"))
                print_progress(rows[-1])
                while next_sample <= now:  # after a restart's pause: back on the grid
                    next_sample += args.sample_every
            time.sleep(0.1)
        out, _ = load.communicate(timeout=60)
    finally:
        if load.poll() is None:
            load.kill()
            load.wait()
    with log.open("a") as f:
        f.write(out)
    result = next((json.loads(line.removeprefix("SOAK_JSON ")) for line in out.splitlines()
                   if line.startswith("SOAK_JSON ")), None)  # fmt: skip
    if result is None:
        raise RuntimeError(f"wrk gave no result (exit {load.returncode}):\n{log.read_text()}")
    wall = time.monotonic() - t0
    cpu = {role: 100 * (cpu_seconds(stack.pids(role)) - before) / wall
           for role, before in cpu_before.items()}  # fmt: skip
    cpu["wrk (until its last sample)"] = 100 * load_cpu / wall
    return {"load": result, "samples": rows, "disruptions": events, "t_end": wall,
            "cpu_percent": cpu}  # fmt: skip


def print_progress(row: dict) -> None:
    parts = [f"{row['t_s']:6.1f} s"]
    for role in ROLES:
        if row.get(f"{role}_rss_kb"):
            parts.append(f"{role} {mb(row[f'{role}_rss_kb']):.0f} MB")
    parts.append(f"stream {row['stream']} pending {row['pending']}")
    print("  " + ", ".join(parts), flush=True)


def drain(args: argparse.Namespace, stack: Stack, store: redis.Redis, run: dict) -> bool:
    """Until the stream and the pending list are empty, sampling on; True if they did."""
    t0 = time.monotonic() - run["t_end"]
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    next_sample = time.monotonic()
    while time.monotonic() < deadline:
        state = redis_state(store)
        if time.monotonic() >= next_sample:
            run["samples"].append(sample(stack, None, store, time.monotonic() - t0, "drain"))
            next_sample += args.sample_every
        if state["stream"] == 0 and state["pending"] == 0:
            run["samples"].append(sample(stack, None, store, time.monotonic() - t0, "end"))
            return True
        time.sleep(0.2)
    return False


def collector_accepted(collector: Server) -> int | None:
    with urllib.request.urlopen(collector.url + "/metrics", timeout=10) as response:
        for line in response.read().decode().splitlines():
            name, _, value = line.partition(" ")
            if name == "footfall_events_accepted_total":
                return int(float(value))
    return None


def hot_counters(store: redis.Redis) -> dict[str, int]:
    totals = store.hgetall(keys.totals(SITE))
    article_pageviews = store.hvals(keys.article_pageviews(SITE))
    return {
        "pageviews": int(totals.get(b"pageviews", 0)),
        "visits": int(totals.get(b"visits", 0)),
        "article_pageviews": sum(int(v) for v in article_pageviews),
    }


def count_in_chdb(dsn: str, env: dict[str, str]) -> dict[str, int]:
    """Counted by another process once the aggregator stopped: one process owns a chdb path."""
    queries = {
        "events": "SELECT count() FROM events",
        "distinct_stream_ids": "SELECT uniqExact(stream_id) FROM events",
        "pageviews": "SELECT countIf(type = 'pageview') FROM events",
        "engagements": "SELECT countIf(type = 'engagement') FROM events",
        "visits": "SELECT sum(new_visit) FROM events",
        "article_pageviews": "SELECT countIf(type = 'pageview' AND article_id != '') FROM events",
        "site_totals_pageviews": "SELECT sum(pageviews) FROM site_totals",
        "site_totals_visits": "SELECT sum(visits) FROM site_totals",
        "article_totals_pageviews": "SELECT sum(pageviews) FROM article_totals",
    }
    script = (
        "import json, sys, clickhouse_connect\n"
        f"c = clickhouse_connect.get_client(dsn={dsn!r})\n"
        "queries = json.loads(sys.argv[1])\n"
        "print(json.dumps({k: int(c.query(q).result_rows[0][0]) for k, q in queries.items()}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, json.dumps(queries)], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    if out.returncode != 0:
        raise RuntimeError(f"counting in chdb failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def stored_events(dsn: str, env: dict[str, str]) -> Counter[tuple]:
    """Every row of `events` as the key of the event it came from (see `event_key`)."""
    script = (
        "import json, clickhouse_connect\n"
        f"c = clickhouse_connect.get_client(dsn={dsn!r})\n"
        "rows = c.query('SELECT toString(type), pageview_id, engaged_ms, scroll_depth "
        "FROM events').result_rows\n"
        "print(json.dumps(rows))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    if out.returncode != 0:
        raise RuntimeError(f"reading the stored events failed:\n{out.stderr[-2000:]}")
    rows = json.loads(out.stdout.strip().splitlines()[-1])
    return Counter(
        event_key({"n": kind, "pv": pv, "e": engaged, "sd": depth})
        for kind, pv, engaged, depth in rows
    )


def event_key(body: dict) -> tuple:
    """An event by its page-view id and type and, for an engagement, engaged time and depth."""
    if body["n"] == "pageview":
        return (body["n"], body["pv"])
    return (body["n"], body["pv"], body.get("e"), body.get("sd"))


def match_plan(plan: Path, run: dict, stored: Counter[tuple]) -> dict:
    """The lines wrk sent against the rows of `events`: which are missing, and when were they sent.

    wrk does not tie an answer to its request, so a refused event cannot be looked up by
    itself; instead every sent line not in ClickHouse should have gone out around the Redis
    restart (its 503s), and every row should be a line sent.
    """
    load = run["load"]
    planned: Counter[tuple] = Counter()
    for _, body in read_plan(plan, load["sent"]):
        planned[event_key(body)] += 1
    missing = planned - stored
    window = None
    for done in run["disruptions"]:
        if done["what"].startswith("redis"):
            # A request may wait in the collector up to its latency before it is refused,
            # and the collector may refuse for a moment after Redis is back.
            before = load["wrk"]["latency_us"]["max"] / 1e6 + 1
            window = ((done["from_epoch_ms"] - load["start_epoch_ms"]) / 1000 - before,
                      (done["to_epoch_ms"] - load["start_epoch_ms"]) / 1000 + 5)  # fmt: skip
    with plan.with_suffix(".sent").open() as f:
        sent_ms = [float(line) for line in f]
    elsewhere = []
    left = Counter(missing)
    for (slot_ms, body), at_ms in zip(read_plan(plan, load["sent"]), sent_ms, strict=True):
        key = event_key(body)
        if left[key] > 0:
            left[key] -= 1
            if window is None or not window[0] <= at_ms / 1000 <= window[1]:
                elsewhere.append({"slot_s": round(slot_ms / 1000, 3), "sent_s": at_ms / 1000,
                                  "n": body["n"], "pv": body["pv"]})  # fmt: skip
    total_missing = sum(missing.values())
    return {
        "lines_sent": load["sent"],
        "stored": load["sent"] - total_missing,
        "missing": total_missing,
        "redis_window_s": [round(t, 1) for t in window] if window else None,
        "missing_in_redis_window": total_missing - len(elsewhere),
        "missing_elsewhere": len(elsewhere),
        "missing_elsewhere_first": elsewhere[:10],
        "rows_not_sent": sum((stored - planned).values()),
    }


def finish(stack: Stack, store: redis.Redis, run: dict, plan: Path) -> None:
    """After the drain: the collector's count, both stopped, the hot counters, ClickHouse."""
    assert stack.collector is not None and stack.aggregator is not None
    run["collector_accepted"] = collector_accepted(stack.collector)
    run["aggregator_exit"] = stack.aggregator.stop(timeout=60)
    run["collector_exit"] = stack.collector.stop(timeout=60)
    run["hot"] = hot_counters(store)
    run["dead_letters"] = store.xlen(keys.DEAD_LETTERS)
    dsn = stack.env["FOOTFALL_CLICKHOUSE_DSN"]
    run["clickhouse"] = count_in_chdb(dsn, stack.env)
    run["plan_match"] = match_plan(plan, run, stored_events(dsn, stack.env))


# ----------------------------------------------------------------------------- checks


def checks(run: dict) -> list[str]:
    """Every count that must be equal, as "what: a != b" problems; empty if all hold."""
    load, ch, hot, match = run["load"], run["clickhouse"], run["hot"], run["plan_match"]
    statuses = load["statuses"]
    accepted = statuses.get("202", 0)
    unanswered = load["unanswered"]
    problems = []
    if not run["drained"]:
        problems.append(f"the stream did not drain within {DRAIN_TIMEOUT_S} s")
    if load["sent"] < run["plan"]["events"]:
        problems.append(f"wrk sent {load['sent']:,} of the {run['plan']['events']:,} planned "
                        "events before its --duration ran out")  # fmt: skip
    if load["extra"]:
        problems.append(f"wrk sent {load['extra']} requests beyond the plan")
    equal = [
        ("collector's accepted counter", run["collector_accepted"], ch["events"]),
        ("distinct stream ids in ClickHouse", ch["distinct_stream_ids"], ch["events"]),
        ("site_totals page views", ch["site_totals_pageviews"], ch["pageviews"]),
        ("hot counter page views", hot["pageviews"], ch["pageviews"]),
        ("site_totals visits", ch["site_totals_visits"], ch["visits"]),
        ("hot counter visits", hot["visits"], ch["visits"]),
        ("article_totals page views", ch["article_totals_pageviews"], ch["article_pageviews"]),
        ("hot article page views", hot["article_pageviews"], ch["article_pageviews"]),
    ]
    if unanswered == 0:
        equal.insert(0, ("events in ClickHouse", ch["events"], accepted))
    elif not accepted <= ch["events"] <= accepted + unanswered:
        # A request never answered may or may not have been stored.
        problems.append(f"events in ClickHouse {ch['events']:,} not within 202s {accepted:,} "
                        f"+ 0..{unanswered} unanswered")  # fmt: skip
    for what, value, expected in equal:
        if value != expected:
            problems.append(f"{what}: {value} != {expected} ({value - expected:+d})")
    if match["rows_not_sent"]:
        problems.append(f"{match['rows_not_sent']} rows in `events` match no event sent")
    # Refused for another reason than Redis being down (429, other, a dropped 202), or
    # never answered: may be missing at any time; any other missing event is lost.
    excused = load["sent"] - accepted - statuses.get("503", 0)
    if match["missing_elsewhere"] > excused:
        problems.append(f"{match['missing_elsewhere']} events sent outside the Redis restart "
                        f"window {match['redis_window_s']} s are not in ClickHouse (answers "
                        f"other than 202 and 503, or none: {excused}); first: "
                        f"{match['missing_elsewhere_first']}")  # fmt: skip
    if run["dead_letters"]:
        problems.append(f"{run['dead_letters']} dead letters")
    for name in ("aggregator_exit", "collector_exit"):
        if run[name] != 0:
            problems.append(f"{name.replace('_', ' ')} {run[name]} after SIGTERM")
    for done in run["disruptions"]:
        if done["what"] == "aggregator SIGTERM" and done["exit"] != 0:
            problems.append(f"the aggregator exited {done['exit']} on SIGTERM")
    return problems


# ----------------------------------------------------------------------------- memory


def lives(samples: list[dict], role: str) -> list[list[dict]]:
    """The samples of each life of `role` (a restart starts a new one), with memory read."""
    key, life_key = f"{role}_rss_kb", f"{role}_life"
    found: dict[int, list[dict]] = {}
    for row in samples:
        if row.get(key):
            found.setdefault(row.get(life_key, 1), []).append(row)
    return [found[k] for k in sorted(found)]


def slope_mb_per_min(rows: list[dict], key: str) -> float:
    """Least-squares slope of `key` over time."""
    if len(rows) < 2:
        return 0.0
    ts = [r["t_s"] / 60 for r in rows]
    ys = [mb(r[key]) for r in rows]
    mean_t, mean_y = sum(ts) / len(ts), sum(ys) / len(ys)
    var = sum((t - mean_t) ** 2 for t in ts)
    return sum((t - mean_t) * (y - mean_y) for t, y in zip(ts, ys, strict=True)) / var if var else 0


def verdict(role: str, life_s: float, slope: float) -> bool | str:
    if role == "load":
        return "n/a (wrk: bench tool)"
    if life_s < MIN_LIFE_S:
        return "too short"
    return abs(slope) <= FLAT_MB_PER_MIN


def flatness(samples: list[dict]) -> list[dict]:
    """Per process and life: memory at start, middle, end; the second half's growth and slope."""
    verdicts = []
    for role in ROLES:
        key = f"{role}_rss_kb"
        for n, rows in enumerate(lives(samples, role), 1):
            first, last = rows[0]["t_s"], rows[-1]["t_s"]
            half = [r for r in rows if r["t_s"] >= (first + last) / 2]
            slope = slope_mb_per_min(half, key)
            verdicts.append({
                "process": role if len(lives(samples, role)) == 1 else f"{role} (life {n})",
                "from_s": first, "to_s": last,
                "start_mb": mb(rows[0][key]), "mid_mb": mb(half[0][key]),
                "end_mb": mb(rows[-1][key]), "peak_mb": mb(max(r[key] for r in rows)),
                "second_half_growth_mb": mb(half[-1][key] - half[0][key]),
                "second_half_slope_mb_per_min": slope,
                "flat": verdict(role, last - first, slope),
            })  # fmt: skip
    return verdicts


def bytes_per_key(row: dict) -> float:
    return 1024 * row["redis_used_kb"] / row["redis_keys"]


def memory_table(samples: list[dict]) -> str:
    """Markdown: RSS in MB per process at the start, each minute, and the end."""
    end = samples[-1]["t_s"]
    marks = [0.0, *range(60, int(end), 60), end]
    picked = [min(samples, key=lambda r, m=m: abs(r["t_s"] - m)) for m in marks]
    head = ["process", *(f"{r['t_s']:.0f} s" for r in picked)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for role in ROLES:
        cells = []
        for r in picked:
            value = r.get(f"{role}_rss_kb")
            life = r.get(f"{role}_life")
            tag = f" ({life})" if life and role in ("aggregator", "redis") else ""
            cells.append(f"{mb(value):.0f}{tag}" if value else "-")
        lines.append(f"| {role} RSS | " + " | ".join(cells) + " |")
    used = ["-" if r.get("redis_used_kb") is None else f"{mb(r['redis_used_kb']):.1f}"
            for r in picked]  # fmt: skip
    lines.append("| redis used_memory | " + " | ".join(used) + " |")
    count = ["-" if r.get("redis_keys") is None else f"{r['redis_keys']:,}" for r in picked]
    lines.append("| redis keys | " + " | ".join(count) + " |")
    per_key = [f"{bytes_per_key(r):.0f}" if r.get("redis_keys") else "-" for r in picked]
    lines.append("| redis used bytes per key | " + " | ".join(per_key) + " |")
    stream = ["-" if r.get("stream") is None else str(r["stream"]) for r in picked]
    lines.append("| stream length | " + " | ".join(stream) + " |")
    return "\n".join(lines)


def write_csv(samples: list[dict], path: Path) -> None:
    columns = ["t_s", "phase", *(f"{r}_rss_kb" for r in ROLES), "aggregator_life",
               "redis_life", "redis_used_kb", "redis_keys", "stream", "pending"]  # fmt: skip
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(samples)


# ----------------------------------------------------------------------------- report


def flat_word(flat: bool | str) -> str:
    return flat if isinstance(flat, str) else "yes" if flat else "NO"


def late_text(late: dict) -> str:
    """Max, mean and the non-empty buckets of the lateness histogram."""
    buckets = {k.removeprefix("le_"): n for k, n in late["histogram"].items() if n}
    ordered = sorted(buckets.items(), key=lambda kv: float("inf") if kv[0] == "more"
                     else float(kv[0]))  # fmt: skip
    spread = ", ".join(f"{'> 30000' if k == 'more' else '<= ' + k}: {n:,}" for k, n in ordered)
    return f"max {late['max']:.1f}, mean {late['mean']:.2f} ({spread})"


def report(run: dict, args: argparse.Namespace, problems: list[str]) -> None:
    plan, load, ch, hot, match = (run["plan"], run["load"], run["clickhouse"], run["hot"],
                                  run["plan_match"])  # fmt: skip
    wrk = load["wrk"]
    print("\n" + "=" * 100)
    print(f"{dt.datetime.now():%Y-%m-%d %H:%M}: soak of {args.duration:.0f} s at "
          f"{args.rate:,.0f} events/s asked, wrk with {args.connections} connections")  # fmt: skip
    print(f"plan: {plan['events']:,} events in {plan['slots']:,} slots ({plan['by_type']}), "
          f"{plan['visits']:,} visits planned (warm start, seed {args.seed})")  # fmt: skip
    sending = max(load["sending_s"], 1e-9)
    print(f"wrk: sent {load['sent']:,} of them in {load['sending_s']:.1f} s "
          f"({(load['sent'] - 1) / sending:,.0f}/s), {load['answered']:,} answered by "
          f"{load['answered_s']:.1f} s, {load['unanswered']} unanswered; answers "
          f"{load['statuses']}; sent by type {load['sent_by_type']}; wrk's socket errors "
          f"{wrk['errors']}")  # fmt: skip
    lat = wrk["latency_us"]
    print(f"  latency (wrk, corrected) p50 {lat['p50'] / 1000:.1f}, p90 {lat['p90'] / 1000:.1f}, "
          f"p99 {lat['p99'] / 1000:.1f}, max {lat['max'] / 1000:.1f} ms; requests sent after "
          f"their slot by (ms) {late_text(load['late_ms'])}")  # fmt: skip
    print("  CPU in % of one core: " + ", ".join(f"{k} {v:.0f}" for k, v in
                                                 run["cpu_percent"].items()))  # fmt: skip
    for done in run["disruptions"]:
        rest = {k: v for k, v in done.items() if k != "at_s" and not k.endswith("epoch_ms")}
        print(f"  at {done['at_s']:.0f} s: {rest}")
    window = {int(float(t)): c for t, c in load["per_10s"].items() if set(c) - {"202"}}
    print("  answers other than 202, per 10 s (start of the bucket, s): "
          f"{dict(sorted(window.items())) or 'none'}")  # fmt: skip
    print(f"drained: {run['drained']}; collector accepted (metric) {run['collector_accepted']:,};"
          f" ClickHouse {ch}; hot counters {hot}; dead letters {run['dead_letters']}; exits: "
          f"aggregator {run['aggregator_exit']}, collector {run['collector_exit']}")  # fmt: skip
    print(f"sent events in ClickHouse: {match['stored']:,} of {match['lines_sent']:,}; missing "
          f"{match['missing']:,}: {match['missing_in_redis_window']:,} sent in the Redis restart "
          f"window {match['redis_window_s']} s, {match['missing_elsewhere']:,} elsewhere; rows "
          f"matching no event sent: {match['rows_not_sent']}")  # fmt: skip
    print("\nMemory (RSS of each process tree, MB; (n): its n-th life):")
    print(memory_table(run["samples"]))
    print("\n| process | from - to (s) | start | middle | end | peak | growth, 2nd half "
          "| slope, 2nd half | flat |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    for v in run["flatness"]:
        print(f"| {v['process']} | {v['from_s']:.0f} - {v['to_s']:.0f} | {v['start_mb']:.0f} "
              f"| {v['mid_mb']:.0f} | {v['end_mb']:.0f} | {v['peak_mb']:.0f} "
              f"| {v['second_half_growth_mb']:+.1f} MB "
              f"| {v['second_half_slope_mb_per_min']:+.2f} MB/min "
              f"| {flat_word(v['flat'])} |")  # fmt: skip
    if problems:
        for p in problems:
            print(f"PROBLEM: {p}")
    else:
        accepted, unanswered = load["statuses"].get("202", 0), load["unanswered"]
        stored = ("= events in ClickHouse" if not unanswered else
                  f"<= events in ClickHouse <= 202s + {unanswered} unanswered")  # fmt: skip
        print(f"\nChecks: {accepted:,} events accepted (202s counted by wrk) {stored}; "
              f"{ch['events']:,} = collector's counter = distinct stream ids = rows matching "
              f"a sent event; of the {match['missing']:,} sent events not in ClickHouse "
              f"{match['missing_in_redis_window']:,} were sent while Redis restarted "
              f"({load['statuses'].get('503', 0):,} answered 503), "
              f"{match['missing_elsewhere']:,} elsewhere; {ch['pageviews']:,} page views = "
              f"site_totals = hot counter; {ch['visits']:,} visits = site_totals = hot "
              f"counter; {ch['article_pageviews']:,} article page views = article_totals = "
              "hot article counters; no dead letter.")  # fmt: skip


# ----------------------------------------------------------------------------- main


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=2000, help="events per second")
    parser.add_argument("--duration", type=float, default=300, help="seconds of load")
    parser.add_argument("--connections", type=int, default=100, help="wrk's connections")
    parser.add_argument(
        "--grace", type=float, default=60,
        help="seconds wrk may run past --duration to send late events and read every answer",
    )  # fmt: skip
    parser.add_argument("--sample-every", type=float, default=5, help="seconds between samples")
    parser.add_argument(
        "--aggregator-signals", default="TERM,KILL",
        help="how the aggregator is stopped at 1/3 and at 2/3: two of TERM, KILL",
    )  # fmt: skip
    parser.add_argument("--redis-down", type=float, default=3, help="seconds Redis stays down")
    parser.add_argument(
        "--visit-gap", type=int,
        help="the collector's FOOTFALL_VISIT_GAP (s; default: the setting's, 1800); Redis "
        "keeps a visit's state this long, so its memory levels off after about this long",
    )  # fmt: skip
    parser.add_argument(
        "--no-restarts", action="store_true",
        help="restart nothing: a run for the memory curve alone (one life per process)",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--csv", type=Path, help="write the memory samples to this file")
    parser.add_argument("--json", type=Path, help="write every figure to this file")
    parser.add_argument(
        "--keep", action="store_true",
        help="keep the run's folder (logs, AOF, chdb, the plan) instead of deleting it",
    )  # fmt: skip
    args = parser.parse_args()
    args.aggregator_signals = [s.strip().upper() for s in args.aggregator_signals.split(",")]
    if len(args.aggregator_signals) != 2 or set(args.aggregator_signals) - {"TERM", "KILL"}:
        parser.error("--aggregator-signals: two of TERM, KILL, e.g. TERM,KILL")
    if not 10 <= args.duration <= 3600:
        parser.error("--duration: 10 to 3600 s")
    return args


@contextlib.contextmanager
def run_folder(keep: bool) -> Iterator[Path]:
    if keep:
        yield Path(tempfile.mkdtemp(prefix="footfall-soak-"))
        return
    with tempfile.TemporaryDirectory(prefix="footfall-soak-") as name:
        yield Path(name)


def main() -> int:
    args = parse_args()
    signal.signal(signal.SIGTERM, exit_on_signal)
    signal.signal(signal.SIGHUP, exit_on_signal)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    with run_folder(args.keep) as tmp:
        redis_server = EmbeddedRedis(tmp / "redis", appendonly=True)
        stack = Stack(tmp, {}, redis_server)
        store: redis.Redis | None = None
        try:
            redis_server.start()
            version = subprocess.run([find_redis_server(), "--version"], capture_output=True,
                                     text=True, check=False).stdout.split(" sha=")[0]  # fmt: skip
            print(f"cores: {os.cpu_count()}; {version} on port {redis_server.port}: appendonly "
                  f"yes, appendfsync everysec; logs in {tmp}", flush=True)  # fmt: skip
            planned = time.monotonic()
            plan = tmp / "plan.tsv"
            plan_summary = write_plan(plan, SITE, args.rate, args.duration, args.seed)
            print(f"planned {plan_summary['events']:,} events in "
                  f"{time.monotonic() - planned:.0f} s: {plan_summary}", flush=True)  # fmt: skip
            store = redis.Redis.from_url(redis_server.url, socket_timeout=2)
            stack.env = server_env(tmp, redis_server.url)
            if args.visit_gap:
                stack.env["FOOTFALL_VISIT_GAP"] = str(args.visit_gap)
            add_site(stack.env)
            stack.start_collector()
            stack.start_aggregator()
            print(f"collector {stack.collector.url if stack.collector else ''}, aggregator "
                  f"consumer {CONSUMER!r}; load {args.rate:,.0f} events/s for "
                  f"{args.duration:.0f} s; schedule {schedule(args)}", flush=True)  # fmt: skip
            run = soak(args, stack, store, plan)
            run["plan"] = plan_summary
            run["drained"] = drain(args, stack, store, run)
            finish(stack, store, run, plan)
            run["flatness"] = flatness(run["samples"])
            problems = checks(run)
            if args.csv:
                write_csv(run["samples"], args.csv)
            report(run, args, problems)
            if args.json:
                run["problems"] = problems
                args.json.write_text(json.dumps(run, indent=2, default=str))
        finally:
            if store is not None:
                store.close()
            stack.stop()
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
