"""`footfall demo-traffic`: synthetic visitors (`app.demo`) sent through a real collector.

Visits arrive as a Poisson process sized so that the events add up to `rate`
per second; each tick, the events that are due go out in one `POST /api/events`
with an API token, which lets each event carry its visitor's address and user
agent (the collector derives the country and the visitor id from them, then
drops the address). The rate is a bound: never more than `rate` x elapsed
seconds events are sent, whatever the visits planned. The clock and the sleep
are parameters, so a test runs a minute of traffic without waiting for it.
"""

from __future__ import annotations

import asyncio
import heapq
import random
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import aiohttp

from app.demo import Planned, mean_events_per_visit, plan_visit
from footfall.clock import Clock, system_clock

TICK_S = 0.25
MAX_BATCH = 1000  # the Events API's most events per batch


class DemoError(Exception):
    """The collector refused the traffic outright (unknown site, bad token, unreachable)."""


@dataclass
class Report:
    visits: int = 0
    sent: int = 0
    accepted: int = 0
    dropped: int = 0
    rate_limited: int = 0
    by_type: Counter[str] = field(default_factory=Counter)

    def __str__(self) -> str:
        kinds = ", ".join(f"{n} {kind}" for kind, n in self.by_type.most_common())
        return (
            f"{self.visits} visits, {self.sent} events sent ({kinds}): "
            f"{self.accepted} accepted, {self.dropped} dropped, {self.rate_limited} rate-limited"
        )


async def send_demo_traffic(
    base_url: str,
    site: str,
    *,
    rate: float,
    duration_s: float,
    token: str,
    seed: int | None = None,
    clock: Clock = system_clock,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> Report:
    rng = random.Random(seed)
    visits_per_ms = rate / mean_events_per_visit(site) / 1000
    start = clock()
    end = start + int(duration_s * 1000)
    planned: list[Planned] = []
    next_visit = start
    report = Report()
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(base_url.rstrip("/"), headers=headers) as http:
        while (now := clock()) < end:
            while next_visit <= now:
                for event in plan_visit(rng, site, next_visit):
                    heapq.heappush(planned, event)
                report.visits += 1
                next_visit += 1 + int(rng.expovariate(visits_per_ms))
            allowed = int(rate * (now - start) / 1000) + 1 - report.sent
            due = []
            while planned and planned[0].at_ms <= now and len(due) < allowed:
                due.append(heapq.heappop(planned).body)
            for first in range(0, len(due), MAX_BATCH):
                await _send(http, due[first : first + MAX_BATCH], report)
            await sleep(TICK_S)
    return report


async def _send(http: aiohttp.ClientSession, batch: list[dict], report: Report) -> None:
    try:
        async with http.post("/api/events", json=batch) as response:
            body = await response.json(content_type=None)
            status = response.status
    except (aiohttp.ClientError, OSError) as e:
        raise DemoError(f"cannot reach the collector: {e}") from None
    if status in (400, 401, 403, 404):
        raise DemoError(f"the collector answered {status}: {body.get('error', body)}")
    report.sent += len(batch)
    report.by_type.update(event["n"] for event in batch)
    if status == 202:
        report.accepted += body["accepted"]
        report.dropped += body["dropped"]
        report.rate_limited += body.get("rate_limited", 0)
    else:  # 429 (all over the limit) or 503 (Redis down): counted, and the demo goes on
        report.rate_limited += len(batch) if status == 429 else 0
