"""The soak test's load generator: realistic page views and engagements at a fixed rate.

    .venv/bin/python bench/soak_load.py --url http://127.0.0.1:PORT --site soak.example
        [--rate 1000] [--duration 300] [--connections 32] [--seed 1]

Started by bench/soak.py in a process of its own (so its memory and CPU are its
own). What it does:

1. plans visits with `footfall.demo.plan_visit` (long-tail articles, sessions of
   several pages, heartbeats every 30 s, sources, devices, countries), arriving
   as a Poisson process sized so that their events add up to `--rate` per second;
   visits that started up to `WARM_S` before the run are planned too and their
   past events discarded, so the mix of page views and heartbeats is steady from
   the first second instead of ramping up;
2. sends one event per slot, slot k at start + k / rate, the earliest planned
   event first (one that is due more than `AHEAD_S` later waits: its slot stays
   empty), as a browser's sendBeacon would: `POST /api/event`, text/plain, the
   visitor's user agent, an `Origin` of the site, and its address in
   X-Forwarded-For (the collector trusts 127.0.0.1); `--connections` keep-alive
   connections carry them;
3. stops sending at `--duration` (so at most rate x duration events), waits for
   every answer, and counts each event by type and answer: a 202 without
   `X-Footfall-Dropped` is accepted (stored), a 202 with it dropped on purpose,
   503 (Redis down), 429 (rate limit) and any other status refused; a request
   that failed on the socket is "unknown" (the collector may have stored it);
4. prints `STARTED` when the first slot is due and, at the end, one line
   `RESULT {json}`: the counts, the answers per 10 s, latency percentiles and how
   late the requests went out after their slot (a load that falls behind shows);
   with `--refused-out FILE`, every event not accepted (its fields, answer and
   time), one JSON line each, so that bench/soak.py can look for them in ClickHouse.
"""

from __future__ import annotations

import argparse
import asyncio
import heapq
import json
import math
import random
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402

from footfall.demo import Planned, mean_events_per_visit, plan_visit  # noqa: E402

WARM_S = 20 * 60  # most visits are over within 20 minutes (demo: reads <= 20 min a page)
AHEAD_S = 60  # an event may go out this much before it is due, to keep the rate exact
BUCKET_S = 10  # answers are counted per this many seconds, to show the 503 window
TICK_S = 0.005
# Visits planned from footfall.demo's mean fall ~6 % short of `rate` in events (its mean
# is sampled, the tail of long visits is heavy): plan a little more, the slots cap the rate.
PLAN_SURPLUS = 1.06
TIMEOUT_S = 30


class Plan:
    """The visits' events in due order, new visits added as simulated time passes."""

    def __init__(self, site: str, rate: float, seed: int, start_ms: int):
        self.site = site
        self.rng = random.Random(seed)
        self.visits_per_ms = PLAN_SURPLUS * rate / mean_events_per_visit(site) / 1000
        self.heap: list[Planned] = []
        self.next_visit = start_ms - WARM_S * 1000
        self.start_ms = start_ms
        self.visits = 0

    def add_visits_until(self, now_ms: int) -> None:
        while self.next_visit <= now_ms:
            for event in plan_visit(self.rng, self.site, self.next_visit):
                if event.at_ms >= self.start_ms:  # a warm visit's past is not replayed
                    heapq.heappush(self.heap, event)
            self.visits += 1
            self.next_visit += 1 + int(self.rng.expovariate(self.visits_per_ms))

    def next_event(self, now_ms: int) -> dict | None:
        if self.heap and self.heap[0].at_ms <= now_ms + AHEAD_S * 1000:
            return heapq.heappop(self.heap).body
        return None


class Tally:
    """What happened to every event sent."""

    def __init__(self) -> None:
        self.by_type: Counter[str] = Counter()  # "pageview 202", "engagement 503", ...
        self.buckets: dict[int, Counter[str]] = {}
        self.latency_ms: list[float] = []
        self.late_ms: list[float] = []
        self.errors: Counter[str] = Counter()
        self.refused: list[dict] = []

    def count(self, kind: str, outcome: str, at_s: float, latency_ms: float) -> None:
        self.by_type[f"{kind} {outcome}"] += 1
        self.buckets.setdefault(int(at_s // BUCKET_S), Counter())[outcome] += 1
        self.latency_ms.append(latency_ms)

    def summary(self) -> dict:
        outcomes: Counter[str] = Counter()
        for key, n in self.by_type.items():
            outcomes[key.split(" ", 1)[1]] += n
        return {
            "sent": sum(outcomes.values()),
            "outcomes": dict(outcomes),
            "by_type": dict(self.by_type),
            "accepted": outcomes["202"],
            "accepted_pageviews": self.by_type["pageview 202"],
            "errors": dict(self.errors),
            "per_10s": {k * BUCKET_S: dict(v) for k, v in sorted(self.buckets.items())},
            "latency_ms": percentiles(self.latency_ms),
            "late_ms": percentiles(self.late_ms),
        }


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)

    def at(p: float) -> float:
        return round(ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)], 2)

    return {"p50": at(50), "p99": at(99), "max": at(100)}


def request_of(body: dict) -> tuple[str, dict[str, str], bytes]:
    """(event type, headers, body) as the snippet's sendBeacon sends them."""
    event = {k: v for k, v in body.items() if k not in ("ip", "ua")}
    headers = {
        "User-Agent": body["ua"],
        "X-Forwarded-For": body["ip"],
        "Origin": f"https://{body['d']}",
        "Content-Type": "text/plain;charset=UTF-8",
    }
    return body["n"], headers, json.dumps(event).encode()


def outcome_of(response: aiohttp.ClientResponse) -> str:
    if response.status == 202 and response.headers.get("X-Footfall-Dropped"):
        return "202 dropped"
    return str(response.status)


async def sender(
    http: aiohttp.ClientSession, url: str, queue: asyncio.Queue, tally: Tally, started: float
) -> None:
    while (item := await queue.get()) is not None:
        due, kind, headers, data = item
        sent = time.monotonic()
        # Late: waiting for a free connection counts, so a load that falls behind shows.
        tally.late_ms.append(1000 * (sent - started - due))
        try:
            async with http.post(url, data=data, headers=headers) as response:
                await response.read()
                outcome = outcome_of(response)
        except (aiohttp.ClientError, OSError, TimeoutError) as error:
            # The request may have reached the collector: neither accepted nor refused.
            tally.errors[type(error).__name__] += 1
            outcome = "unknown"
        tally.count(kind, outcome, sent - started, 1000 * (time.monotonic() - sent))
        if outcome != "202":
            tally.refused.append({"answer": outcome, "at_s": round(sent - started, 3),
                                  "latency_ms": round(1000 * (time.monotonic() - sent), 1),
                                  "event": json.loads(data)})  # fmt: skip


async def pace(plan: Plan, queue: asyncio.Queue, rate: float, duration: float) -> None:
    """Put one event on the queue per slot until `duration`; returns when the last is queued."""
    started = time.monotonic()
    start_ms = plan.start_ms
    slot = 0
    total = int(rate * duration)
    while slot < total and time.monotonic() - started < duration:
        elapsed = time.monotonic() - started
        now_ms = start_ms + int(1000 * elapsed)
        plan.add_visits_until(now_ms)
        due = min(total, int(elapsed * rate) + 1)
        while slot < due:
            body = plan.next_event(now_ms)
            if body is not None:
                queue.put_nowait((slot / rate, *request_of(body)))
            slot += 1
        await asyncio.sleep(TICK_S)


async def run(args: argparse.Namespace) -> dict:
    start_ms = int(time.time() * 1000)
    plan = Plan(args.site, args.rate, args.seed, start_ms)
    plan.add_visits_until(start_ms)  # the warm visits, before the clock starts
    tally = Tally()
    queue: asyncio.Queue = asyncio.Queue()
    connector = aiohttp.TCPConnector(limit=args.connections)
    timeout = aiohttp.ClientTimeout(total=TIMEOUT_S)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        print("STARTED", flush=True)
        started = time.monotonic()
        url = args.url.rstrip("/") + "/api/event"
        senders = [
            asyncio.create_task(sender(http, url, queue, tally, started))
            for _ in range(args.connections)
        ]
        await pace(plan, queue, args.rate, args.duration)
        paced_s = time.monotonic() - started
        for _ in senders:
            queue.put_nowait(None)
        await asyncio.gather(*senders)
        wall_s = time.monotonic() - started
    if args.refused_out:
        with args.refused_out.open("w") as f:
            f.writelines(json.dumps(r) + "\n" for r in tally.refused)
    result = tally.summary()
    result.update(visits=plan.visits, paced_s=round(paced_s, 2), wall_s=round(wall_s, 2),
                  rate_asked=args.rate, planned_left=len(plan.heap))  # fmt: skip
    return result


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="the collector's base URL")
    parser.add_argument("--site", required=True)
    parser.add_argument("--rate", type=float, default=1000, help="events per second")
    parser.add_argument("--duration", type=float, default=300, help="seconds of sending")
    parser.add_argument("--connections", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--refused-out", type=Path, help="write the events not accepted here")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    try:
        import uvloop

        uvloop.install()  # a cheaper loop leaves more of the 2 cores to the servers
    except ImportError:
        pass
    result = asyncio.run(run(args))
    print("RESULT " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
