"""Redis's cost of ingest.lua per event, with the rate limits off and counting, interleaved.

    .venv/bin/python bench/ingest_script.py [--batches 2000] [--batch 25] [--clients 1000]

Starts a redis-server (no AOF: the script's CPU is what is measured), then calls
the collector's real `Committer` with batches of page views from `--clients`
distinct client keys, alternating between a committer with limits off (0) and
one with limits so high they count every event and refuse none. Prints the
median wall time per batch of each and their ratio. The load is the wrk
benchmark's (one site, a few hundred articles); only Redis and the round trip
are in the figure, not HTTP.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.redis_server import EmbeddedRedis
from collector.committer import Committer, Ingest
from collector.rate_limits import RateLimits
from footfall import keys
from footfall.connections import async_redis
from footfall.wire import StreamEvent

SITE = "bench.example"


def batch(rng: random.Random, size: int, clients: int, now: int) -> list[Ingest]:
    return [
        Ingest(
            StreamEvent(
                ts=now,
                site=SITE,
                date=now // 86_400_000,
                type="pageview",
                name="pageview",
                url="https://bench.example/story",
                visitor_id=rng.getrandbits(63),
                article=f"story-{rng.randrange(300)}",
                user_agent="x" * 200,
            ),
            keys.client_limit_prefix(SITE, f"{rng.randrange(clients):016x}"),
            300_000,
        )
        for _ in range(size)
    ]


async def measure(args: argparse.Namespace, url: str) -> None:
    redis = async_redis(url)
    off = Committer(redis, 1_800_000, RateLimits(0, 0, 60_000))
    on = Committer(redis, 1_800_000, RateLimits(10**9, 10**9, 60_000))
    tasks = [asyncio.create_task(c.run()) for c in (off, on)]
    rng = random.Random(1)
    times: dict[str, list[float]] = {"off": [], "on": []}
    now = int(time.time() * 1000)
    for i in range(args.batches):
        for name, committer in (("off", off), ("on", on)) if i % 2 else (("on", on), ("off", off)):
            events = batch(rng, args.batch, args.clients, now + i)
            started = time.perf_counter()
            await committer.commit(events)
            times[name].append(time.perf_counter() - started)
        if i % 200 == 0:
            await redis.delete(keys.stream(SITE))
    for c in (off, on):
        await c.close()
    await asyncio.gather(*tasks)
    await redis.aclose()
    medians = {k: statistics.median(v) * 1e6 for k, v in times.items()}
    for name, us in medians.items():
        print(f"limits {name:>3}: {us:8.1f} us per batch of {args.batch}, "
              f"{us / args.batch:6.2f} us per event")  # fmt: skip
    print(f"on/off: {medians['on'] / medians['off']:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=25, help="events per script call")
    parser.add_argument("--clients", type=int, default=1000, help="distinct client keys")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as tmp,
        EmbeddedRedis(Path(tmp), appendonly=False) as server,
    ):
        asyncio.run(measure(args, server.url))


if __name__ == "__main__":
    main()
