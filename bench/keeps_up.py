"""Does one aggregator keep up with the collector? Both measured in one run, round by round.

    .venv/bin/python bench/keeps_up.py [--rounds 3] [--duration 10] [--events 100000]
        [--batch-size 20000] [--quiet-wait 20]

The goal of issue 3 is a ratio: one aggregator process must drain events at least
3 times as fast as one collector worker stores them. Measured in different runs
(bench/collector.py, bench/aggregator.py) the two figures meet different machine
moods; here each round measures both, one right after the other:

* collector: `footfall collector --workers 1` under wrk for `--duration` s after one
  warm-up, exactly as bench/collector.py measures it (its `measure`: bench/event.lua,
  1 thread, 50 connections), on a redis-server of its own -> stored events/s;
* aggregator: one `drain()` of a stream pre-filled with `--events` events, exactly as
  bench/aggregator.py measures it (its `run_worker`: a process of its own on a fresh
  chdb folder, the stream copied anew from a template, the AOF rewritten first) on a
  second redis-server -> events/s.

The order alternates from round to round. Each part waits (up to `--quiet-wait` s)
for a quiet machine and records what other processes used meanwhile ("others", % of
a core); every check of the two benchmarks runs too (the collector's stream growth
against the 202s read, the aggregator's exact counts in ClickHouse and Redis). It
prints each round and the medians: collector events/s, aggregator events/s, and
aggregator / collector against the goal. With the defaults it takes 2-4 minutes on an
idle machine (at most about 6 with every quiet wait used up).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402

from app.redis_server import EmbeddedRedis  # noqa: E402
from bench.aggregator import GOAL_FACTOR, fill_template, rate, reset_stream, run_worker  # noqa: E402
from bench.aggregator_events import DOMAIN, TIMEZONE  # noqa: E402
from bench.collector import (  # noqa: E402
    Run,
    measure,
    preflight,
    run_problems,
    server_env,
    start_collector,
)
from bench.machine import NOISY, Server, exit_on_signal, median  # noqa: E402
from footfall import keys  # noqa: E402
from footfall.settings import Settings  # noqa: E402
from footfall.sites import Site, site_to_json  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10, help="seconds of wrk per round")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of wrk before round 1")
    parser.add_argument("--events", type=int, default=100_000, help="events per drain")
    parser.add_argument(
        "--batch-size", type=int, default=Settings().batch_size, help="default: the setting's"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--quiet-wait", type=float, default=20,
        help=f"before each timed part, wait up to this many seconds for the machine to be "
        f"idle (other processes under {NOISY}%% of a core); 0: do not wait",
    )  # fmt: skip
    parser.add_argument(
        "--chdb-dir", type=Path,
        help="the aggregator's chdb folders under this folder (default: a temporary one)",
    )  # fmt: skip
    parser.add_argument("--json", type=Path, help="write every figure to this file")
    args = parser.parse_args()
    if args.rounds < 1 or args.events < 1 or args.duration < 1:
        parser.error("--rounds, --events and --duration must be positive")
    # What bench/collector.py's `measure` and `server_env` read of their own options.
    args.threads, args.connections, args.clients = 1, 50, 0
    args.collector_env, args.verbose = [], False
    return args


def start_redis(folder: Path) -> tuple[EmbeddedRedis, redis.Redis]:
    """A redis-server as `footfall serve` runs it (AOF, everysec), with the site mirrored."""
    server = EmbeddedRedis(folder, appendonly=True)
    server.start()
    store = redis.Redis.from_url(server.url)
    site = Site(domain=DOMAIN, timezone=TIMEZONE, public_counters=True)
    store.hset(keys.SITES, DOMAIN, site_to_json(site))
    return server, store


def collector_round(
    collector: Server, args: argparse.Namespace, server: EmbeddedRedis, store: redis.Redis
) -> dict:
    run: Run = measure(collector, args, args.duration, server, store)
    return {
        "events_per_s": run.accepted_per_s,
        "requests": run.requests,
        "p99_ms": run.latency_us["p99"] / 1000,
        "cpu": run.cpu,
        "problems": run_problems(run),
    }


def aggregator_round(
    args: argparse.Namespace, tmp: Path, server: EmbeddedRedis, store: redis.Redis, expected: dict
) -> dict:
    reset_stream(store)
    result = run_worker("aggregator", args.batch_size, args, tmp, server, expected)
    return {
        "events_per_s": rate(result),
        "seconds": result["seconds"],
        "phases": result["phases"],
        "cpu": result["cpu"],
        "cpu_seconds_per_1000": 10 * result["cpu"]["process"] * result["seconds"] / args.events,
        "problems": result["problems"],
    }


def print_round(number: int, c: dict, a: dict) -> None:
    ratio = a["events_per_s"] / c["events_per_s"]
    print(f"  round {number}: collector {c['events_per_s']:>7,.0f} events/s (CPU server "
          f"{c['cpu']['server']:.0f}%, redis {c['cpu']['redis']:.0f}%, others "
          f"{c['cpu']['others']:.0f}%) | aggregator {a['events_per_s']:>7,.0f} events/s (CPU "
          f"process {a['cpu']['process']:.0f}%, {a['cpu_seconds_per_1000']:.3f} s per 1,000 "
          f"events; others {a['cpu']['others']:.0f}%) | aggregator/collector {ratio:.2f}",
          flush=True)  # fmt: skip
    for problem in c["problems"] + a["problems"]:
        print(f"  PROBLEM: {problem}")


def report(rounds: list[tuple[dict, dict]], args: argparse.Namespace) -> dict:
    collector = [c["events_per_s"] for c, _ in rounds]
    aggregator = [a["events_per_s"] for _, a in rounds]
    ratios = [a / c for c, a in zip(collector, aggregator, strict=True)]
    ratio = median(ratios)
    print("\n" + "=" * 100)
    print(f"{len(rounds)} round(s); collector: 1 worker, wrk 1 thread, 50 connections, "
          f"{args.duration} s; aggregator: batch {args.batch_size:,}, {args.events:,} events "
          f"per drain. Median (min-max):")  # fmt: skip
    print("| collector events/s | aggregator events/s | aggregator / collector |")
    print("|---|---|---|")
    print(f"| {median(collector):,.0f} ({min(collector):,.0f}-{max(collector):,.0f}) "
          f"| {median(aggregator):,.0f} ({min(aggregator):,.0f}-{max(aggregator):,.0f}) "
          f"| **{ratio:.2f}** (rounds: {', '.join(f'{r:.2f}' for r in ratios)}) |")  # fmt: skip
    verdict = "met" if ratio >= GOAL_FACTOR else "NOT met"
    print(f"Goal: one aggregator >= {GOAL_FACTOR} x one collector worker: median of the rounds' "
          f"ratios {ratio:.2f}, {verdict}")  # fmt: skip
    noisy = sum(max(c["cpu"]["others"], a["cpu"]["others"]) > NOISY for c, a in rounds)
    if noisy:
        print(f"Note: {noisy} of {len(rounds)} rounds shared the machine with other busy "
              f"processes (others > {NOISY}% of a core): rerun on a quiet machine.")  # fmt: skip
    problems = [p for c, a in rounds for p in c["problems"] + a["problems"]]
    if not problems:
        print("Checks: every collector run's stream growth matched the 202s read (plus the "
              "requests in flight at wrk's deadline) and its accepted counter; after every "
              f"drain ClickHouse held exactly {args.events:,} events and the expected rollups, "
              "the stream and its pending list were empty, no dead letter, hot counters equal "
              "to the expected totals.")  # fmt: skip
    for p in problems:
        print(f"PROBLEM: {p}")
    return {
        "collector": collector,
        "aggregator": aggregator,
        "ratios": ratios,
        "ratio": ratio,
        "rounds": [{"collector": c, "aggregator": a} for c, a in rounds],
        "problems": problems,
    }


def main() -> int:
    args = parse_args()
    signal.signal(signal.SIGTERM, exit_on_signal)
    signal.signal(signal.SIGHUP, exit_on_signal)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if not shutil.which("wrk"):
        print("wrk is not installed (Debian: apt-get install wrk)", file=sys.stderr)
        return 2
    print(f"cores: {os.cpu_count()}; {args.rounds} round(s) of: collector (1 worker) under wrk "
          f"for {args.duration} s, aggregator draining {args.events:,} events (batch "
          f"{args.batch_size:,})")  # fmt: skip
    rounds: list[tuple[dict, dict]] = []
    started: list[tuple[EmbeddedRedis, redis.Redis]] = []
    collector: Server | None = None
    with tempfile.TemporaryDirectory(prefix="footfall-bench-keeps-up-") as name:
        tmp = Path(name)
        try:
            started.append(collector_redis := start_redis(tmp / "redis-collector"))
            started.append(aggregator_redis := start_redis(tmp / "redis-aggregator"))
            expected = fill_template(aggregator_redis[1], args.events, args.seed)
            env = server_env(collector_redis[0].url, tmp / "data", args)
            collector = start_collector(1, env, tmp)
            collector.wait_listening()
            preflight(collector)
            measure(collector, args, args.warmup, collector_redis[0], None)
            for number in range(1, args.rounds + 1):
                if number % 2:
                    c = collector_round(collector, args, *collector_redis)
                    a = aggregator_round(args, tmp, *aggregator_redis, expected)
                else:
                    a = aggregator_round(args, tmp, *aggregator_redis, expected)
                    c = collector_round(collector, args, *collector_redis)
                rounds.append((c, a))
                print_round(number, c, a)
            summary = report(rounds, args)
            if args.json:
                args.json.write_text(json.dumps(summary, indent=2, default=str))
        finally:
            if collector is not None:
                collector.stop()
            for server, store in started:
                store.close()
                server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
