"""The soak test's plan: realistic page views and engagements at a fixed rate, one line each.

    .venv/bin/python bench/soak_plan.py --out PLAN [--site soak.example] [--rate 2000]
        [--duration 300] [--seed 1]

bench/soak.py writes the plan before the run and bench/soak_load.lua sends it with
wrk; this script is the same planning on its own, to look at a plan. What it does:

1. plans visits with `app.demo.plan_visit` (long-tail articles, sessions of
   several pages, heartbeats every 30 s, sources, devices, countries), arriving
   as a Poisson process sized so that their events add up to `--rate` per second;
   visits that started up to `WARM_S` before the run are planned too and their
   past events discarded, so the mix of page views and heartbeats is steady from
   the first second instead of ramping up;
2. gives slot k (k / rate seconds after the start, k < rate x duration) the
   earliest planned event, one due more than `AHEAD_S` later leaving its slot empty,
   as the aiohttp load generator this replaces did in real time, so the same
   `--seed` gives the same plan, line for line;
3. writes one line per event in slot order: its slot (ms after the start), its
   type (`n`: pageview, engagement), the visitor's user agent and address (sent
   as User-Agent and X-Forwarded-For), the Origin (the site) and the JSON body
   the snippet's sendBeacon would send, tab-separated; JSON escapes any tab or
   line break, so a line splits into exactly six fields.
"""

from __future__ import annotations

import argparse
import heapq
import json
import random
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.demo import Planned, mean_events_per_visit, plan_visit  # noqa: E402

WARM_S = 20 * 60  # most visits are over within 20 minutes (demo: reads <= 20 min a page)
AHEAD_S = 60  # an event may take a slot this much before it is due, to keep the rate exact
# Visits planned from app.demo's mean fall ~6 % short of `rate` in events (its mean
# is sampled, the tail of long visits is heavy): plan a little more, the slots cap the rate.
PLAN_SURPLUS = 1.06


class Plan:
    """The visits' events in due order (ms after the start), new visits added as time passes."""

    def __init__(self, site: str, rate: float, seed: int):
        self.site = site
        self.rng = random.Random(seed)
        self.visits_per_ms = PLAN_SURPLUS * rate / mean_events_per_visit(site) / 1000
        self.heap: list[Planned] = []
        self.next_visit = -WARM_S * 1000
        self.visits = 0

    def add_visits_until(self, now_ms: int) -> None:
        while self.next_visit <= now_ms:
            for event in plan_visit(self.rng, self.site, self.next_visit):
                if event.at_ms >= 0:  # a warm visit's past is not replayed
                    heapq.heappush(self.heap, event)
            self.visits += 1
            self.next_visit += 1 + int(self.rng.expovariate(self.visits_per_ms))

    def next_event(self, now_ms: int) -> dict | None:
        if self.heap and self.heap[0].at_ms <= now_ms + AHEAD_S * 1000:
            return heapq.heappop(self.heap).body
        return None


def line_of(slot_ms: float, body: dict) -> str:
    """slot, type, user agent, address, Origin, JSON body: a tab-separated line."""
    event = {k: v for k, v in body.items() if k not in ("ip", "ua")}
    fields = [f"{slot_ms:.3f}", body["n"], body["ua"], body["ip"], f"https://{body['d']}",
              json.dumps(event)]  # fmt: skip
    return "\t".join(fields) + "\n"


def write_plan(path: Path, site: str, rate: float, duration: float, seed: int) -> dict:
    """Plan `rate` x `duration` slots into `path`; what was planned."""
    plan = Plan(site, rate, seed)
    plan.add_visits_until(0)  # the warm visits
    by_type: Counter[str] = Counter()
    slots = int(rate * duration)
    with path.open("w") as f:
        for slot in range(slots):
            slot_ms = 1000 * slot / rate
            plan.add_visits_until(int(slot_ms))
            body = plan.next_event(int(slot_ms))
            if body is not None:
                by_type[body["n"]] += 1
                f.write(line_of(slot_ms, body))
    events = sum(by_type.values())
    return {"events": events, "by_type": dict(by_type), "slots": slots,
            "empty_slots": slots - events, "visits": plan.visits,
            "planned_left": len(plan.heap), "bytes": path.stat().st_size}  # fmt: skip


def read_plan(path: Path, limit: int | None = None) -> Iterator[tuple[float, dict]]:
    """(slot ms, JSON body) of the first `limit` lines (all when None)."""
    with path.open() as f:
        for n, line in enumerate(f):
            if limit is not None and n >= limit:
                return
            slot, _, _, _, _, body = line.rstrip("\n").split("\t")
            yield float(slot), json.loads(body)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="the plan file to write")
    parser.add_argument("--site", default="soak.example")
    parser.add_argument("--rate", type=float, default=2000, help="events per second")
    parser.add_argument("--duration", type=float, default=300, help="seconds of sending")
    parser.add_argument("--seed", type=int, default=1)
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    print(json.dumps(write_plan(args.out, args.site, args.rate, args.duration, args.seed)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
