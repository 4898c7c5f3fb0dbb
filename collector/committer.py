"""Group commit: the events of concurrent requests go to Redis in one round trip.

A request hands its events to `commit()` and waits; one writer task takes all
that is waiting, runs `ingest.lua` once per site of the lot (the usual lot has
one site: one script call; several go in one pipeline, which a Redis Cluster
routes to each site's node), and wakes every request with the outcome: which of
its events the rate limits refused (the script counts them in the same call).
While one round trip is in flight the next batch gathers, so there is no timer
and no added latency when the load is light. Each script call is atomic: a
site's share of a batch is stored whole or not at all, and a request answers 202
only after its events are in Redis (503 if any of its sites' calls failed).

A reply can be lost after the script ran (Redis stopping in the same instant, a
broken connection): each call carries a receipt key (of its site) the script
writes with its answer, and the writer reads it back once Redis answers again,
so a request is told 503 only when its events were not stored, never when they
were.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
from dataclasses import dataclass, field
from importlib import resources

import msgspec
import redis.asyncio
import redis.exceptions

from collector.rate_limits import RateLimits
from footfall import keys
from footfall.connections import run_script_each
from footfall.service_metrics import COMMIT_BATCH_EVENTS, EVENTS_ACCEPTED
from footfall.wire import StreamEvent, encode_event

MAX_BATCH_EVENTS = 2000
# How long a lost reply's receipt is looked for: Redis restarting takes a few seconds.
RECEIPT_WAITS = (0.1, 0.2, 0.4, 0.8, 1.6, 3.2)
_SCRIPT = resources.files("collector").joinpath("ingest.lua").read_text()
_filing = msgspec.msgpack.Encoder()


class Ingest(msgspec.Struct, gc=False):
    """One event for the committer: the stream event, and what `ingest.lua` files it by
    that the stream does not keep.

    A msgspec struct: made once per event, and 4 times faster to make than a dataclass.
    """

    event: StreamEvent
    client: str
    """The prefix of the client's rate-limit key (`keys.client_limit_prefix`), or
    UNLIMITED_CLIENT."""
    online_window_ms: int
    """The site's online window: how long its presence keeps a visitor."""


@dataclass(slots=True)
class _Share:
    """One site's share of a group commit: one script call."""

    online_window_ms: int
    filing: list[int | str | bool] = field(default_factory=list)
    """What `ingest.lua` files the events by, five values each (see the script)."""
    events: list[bytes] = field(default_factory=list)
    indexes: list[int] = field(default_factory=list)
    """The index in the batch of each event."""


Refusals = list[tuple[int, int]]
"""(index of the event in the request's list, ingest.lua's verdict code) per refused event."""


class Committer:
    def __init__(self, redis: redis.asyncio.Redis, visit_gap_ms: int, limits: RateLimits):
        self._script = redis.register_script(_SCRIPT)
        self.limits = limits
        self._args_head = [visit_gap_ms, *limits.script_args()]
        self._waiting: list[tuple[list[Ingest], asyncio.Future[Refusals]]] = []
        self._wakeup = asyncio.Event()
        self._closed = False
        self._redis = redis
        self._commits = (f"{secrets.token_hex(8)}:{n}" for n in itertools.count())

    async def commit(self, events: list[Ingest]) -> Refusals:
        """Return once `events` are in Redis, but those the rate limits refused (returned);
        raise what Redis raised otherwise."""
        if self._closed:
            raise RuntimeError("the committer is closed")
        future: asyncio.Future[Refusals] = asyncio.get_running_loop().create_future()
        self._waiting.append((events, future))
        self._wakeup.set()
        return await future

    async def run(self) -> None:
        """The writer task: commit whatever waits, until closed and drained."""
        while not (self._closed and not self._waiting):
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._waiting:
                await self._write(self._take())

    async def close(self) -> None:
        self._closed = True
        self._wakeup.set()

    async def _read_receipt(self, receipt: str, error: Exception) -> list[int] | None:
        """The script's answer if it ran though its reply was lost; None if it did not."""
        if not isinstance(error, redis.exceptions.ConnectionError | redis.exceptions.TimeoutError):
            return None  # Redis answered: the script refused the call as a whole
        for wait in RECEIPT_WAITS:
            await asyncio.sleep(wait)
            try:
                answer = await self._redis.get(receipt)
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError):
                continue
            return None if answer is None else [int(n) for n in answer.split(b",") if n]
        return None

    def _args(self, site: str, share: _Share) -> list[bytes | str | int]:
        """The script's arguments for one site: the settings, the site's online window and
        its keys' prefixes, then its events: what each is filed by, in one argument (one
        argument per value cost the collector more time than anything else it did), and
        each encoded."""
        return [
            *self._args_head,
            share.online_window_ms,
            keys.readers_prefix(site),
            keys.visit_prefix(site),
            keys.limit_prefix(site),
            keys.accepted_prefix(site),
            _filing.encode(share.filing),
            *share.events,
        ]

    def _take(self) -> list[tuple[list[Ingest], asyncio.Future[Refusals]]]:
        taken, size = 0, 0
        for events, _ in self._waiting:
            if size and size + len(events) > MAX_BATCH_EVENTS:
                break
            taken += 1
            size += len(events)
        batch, self._waiting = self._waiting[:taken], self._waiting[taken:]
        return batch

    async def _write(self, batch: list[tuple[list[Ingest], asyncio.Future[Refusals]]]) -> None:
        by_site: dict[str, _Share] = {}
        index = 0
        for ingests, _ in batch:
            for ingest in ingests:
                event = ingest.event
                share = by_site.get(event.site)
                if share is None:
                    share = by_site[event.site] = _Share(ingest.online_window_ms)
                # The visitor id as text: Lua's numbers would round a 64-bit id.
                share.filing += (
                    event.ts,
                    str(event.visitor_id),
                    event.type == "pageview",
                    ingest.client,
                    event.article,
                )
                share.events.append(encode_event(event))
                share.indexes.append(index)
                index += 1
        COMMIT_BATCH_EVENTS.observe(index)
        commit = next(self._commits)
        receipts = [keys.receipt(site, commit) for site in by_site]
        calls = [
            ([keys.stream(site), receipt, keys.online(site)], self._args(site, share))
            for (site, share), receipt in zip(by_site.items(), receipts, strict=True)
        ]
        replies = await run_script_each(self._redis, self._script, calls)
        lost = [i for i, reply in enumerate(replies) if isinstance(reply, Exception)]
        if lost:  # every waiting request learns of it and answers 503, unless it ran after all
            answers = await asyncio.gather(
                *(self._read_receipt(receipts[i], replies[i]) for i in lost)
            )
            for i, answer in zip(lost, answers, strict=True):
                if answer is not None:
                    replies[i] = answer
        failed: set[int] = set()  # indexes of events whose site's call failed
        verdicts: dict[int, int] = {}
        error: Exception | None = None
        for share, refused in zip(by_site.values(), replies, strict=True):
            indexes = share.indexes
            if isinstance(refused, Exception):
                error = refused
                failed.update(indexes)
                continue
            EVENTS_ACCEPTED.inc(len(indexes) - len(refused) // 2)
            for i in range(0, len(refused), 2):
                verdicts[indexes[int(refused[i])]] = int(refused[i + 1])
        if not verdicts and error is None:  # the usual answer: every event stored
            for _, future in batch:
                if not future.done():
                    future.set_result([])
            return
        first = 0
        for events, future in batch:
            mine = range(first, first + len(events))
            first += len(events)
            if future.done():
                continue
            if error is not None and any(i in failed for i in mine):
                future.set_exception(error)  # the request answers 503
            else:
                future.set_result([(i - mine.start, verdicts[i]) for i in mine if i in verdicts])
