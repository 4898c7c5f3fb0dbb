"""The collector's HTTP handlers: events in, the snippet out.

Each handler reads the request, runs the ingest steps, hands the events to the
group committer, and turns refusals into JSON 4xx answers and an unreachable
Redis into 503 with Retry-After. An event is answered 202 only once it is in
Redis. Refused and dropped events are counted by reason; accepted ones by the
committer, once per group commit: nothing is measured per accepted event here.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
import redis.exceptions
from aiohttp import web

from collector import appkeys
from collector.committer import Ingest, Refusals
from collector.events import MAX_BATCH_BODY, MAX_BODY, Hit, decode_batch, decode_event
from collector.pipeline import Dropped, Origin
from collector.rate_limits import VERDICTS
from collector.refusals import RefusalReason, Refused
from footfall.client_ip import client_ip
from footfall.service_metrics import EVENTS_REFUSED, STORE_ERRORS
from footfall.tokens import Grant, bearer, is_admin
from footfall.web import ANY_ORIGIN, json_error, json_response

RETRY_AFTER_SECONDS = "5"
PREFLIGHT = {
    **ANY_ORIGIN,
    "Access-Control-Allow-Methods": "POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type, Authorization",
    "Access-Control-Max-Age": "86400",
}
# Only a preflight needs more than the origin; fewer headers are measurably faster
# to write, and a 202 is the hot path.
ACCEPTED = {**ANY_ORIGIN, "Content-Type": "text/plain"}
_REDIS_ERRORS = (redis.exceptions.RedisError, OSError)
EVENTS_WRITE = "events:write"
ADMIN_GRANT = Grant(id="admin", scopes=(EVENTS_WRITE,))


class BatchAnswer(msgspec.Struct):
    """What became of a batch; when a rate limit refused some of its events but not all,
    how many, and which."""

    accepted: int
    dropped: Annotated[int, msgspec.Meta(description="Bots, excluded addresses...")]
    rate_limited: int | msgspec.UnsetType = msgspec.UNSET
    rate_limited_at: (
        Annotated[list[int], msgspec.Meta(description="Indexes of the events to send again later.")]
        | msgspec.UnsetType
    ) = msgspec.UNSET


async def post_event(request: web.Request) -> web.Response:
    """Plausible's Events API: one event, JSON or text/plain, answered 202."""
    app = request.app  # once: each `request.app` is two property lookups
    try:
        hit = decode_event(await read_body(request, MAX_BODY))
        now = app[appkeys.CLOCK]()
        events = await app[appkeys.PIPELINE].run(hit, origin_of(request), now)
        limited = await app[appkeys.COMMITTER].commit(events)
        if limited:
            count_limited(limited)
            if len(limited) == len(events):
                return too_many(request, limited, now)
    except Refused as refused:
        return refusal(refused)
    except _REDIS_ERRORS:
        return redis_failed()
    except Dropped as dropped:
        EVENTS_REFUSED.labels(dropped.reason).inc()
        return web.Response(
            status=202, body=b"ok", headers={**ACCEPTED, "X-Footfall-Dropped": dropped.reason}
        )
    return web.Response(status=202, body=b"ok", headers=ACCEPTED)


async def post_events(request: web.Request) -> web.Response:
    """A JSON array of events, for servers that batch; all are stored or none is.

    With an API token, each event may carry the visitor's `ip` and `ua`.
    """
    hits: list[Hit] = []
    dropped = 0
    try:
        hits = decode_batch(await read_body(request, MAX_BATCH_BODY))
        grant = await api_token(request)
        if grant is None:
            refuse_forwarded_origins(hits)
        now = request.app[appkeys.CLOCK]()
        pipeline = request.app[appkeys.PIPELINE]
        own = origin_of(request)
        events: list[Ingest] = []
        index_of: list[int] = []  # the hit each event came from
        for i, hit in enumerate(hits):
            origin = Origin(hit.ip or own.ip, hit.user_agent or own.user_agent, own.page_origin)
            try:
                # A server sending with a token speaks for many visitors: its events
                # count against their site's limit, not against its own address.
                found = await pipeline.run(
                    hit, origin, now, where=f"[{i}].", limit_client=grant is None
                )
            except Dropped as drop:
                EVENTS_REFUSED.labels(drop.reason).inc()
                dropped += 1
                continue
            if grant is not None:
                refuse_sites_not_granted(grant, found, i)
            events += found
            index_of += [i] * len(found)
        limited: Refusals = []
        if events:
            limited = await request.app[appkeys.COMMITTER].commit(events)
        if limited:
            count_limited(limited)
            if len(limited) == len(events):
                return too_many(request, limited, now)
    except Refused as refused:  # the whole batch; its drops were counted already
        return refusal(refused, max(1, len(hits) - dropped))
    except _REDIS_ERRORS:
        return redis_failed(len(hits) - dropped)
    answer = BatchAnswer(accepted=len(hits) - dropped - len(limited), dropped=dropped)
    if limited:  # some, not all: the rest are stored; the sender learns which to retry
        answer.rate_limited = len(limited)
        answer.rate_limited_at = sorted({index_of[i] for i, _ in limited})
    return json_response(answer, 202, ANY_ORIGIN)


async def preflight(request: web.Request) -> web.Response:
    return web.Response(status=204, headers=PREFLIGHT)


async def get_snippet(request: web.Request) -> web.Response:
    return request.app[appkeys.SNIPPET].response(request)


async def read_body(request: web.Request, limit: int) -> bytes:
    """The body, refused with 413 past `limit` bytes.

    Any media type is read as JSON: sendBeacon says text/plain, curl says
    form-urlencoded, and either way a body that is not JSON gets a clear 400.
    """
    expected = request.content_length  # once: aiohttp parses the header at each access
    if expected is not None and expected > limit:
        raise _too_large(limit)
    # read(n) returns what has arrived, up to n: a body sent in several packets (a
    # slow client, a proxy) takes several reads, until the end or past the limit.
    body = await request.content.read(limit + 1)
    while (
        len(body) != expected
        and len(body) <= limit
        and (more := await request.content.read(limit + 1 - len(body)))
    ):
        body += more
    if len(body) > limit:
        raise _too_large(limit)
    return body


def origin_of(request: web.Request) -> Origin:
    headers = request.headers
    trusted = request.app[appkeys.SETTINGS].trusted_proxies
    forwarded_for = headers.get("X-Forwarded-For") if trusted else None
    ip = client_ip(request.remote, forwarded_for, trusted)
    return Origin(ip, headers.get("User-Agent", ""), headers.get("Origin", ""))


async def api_token(request: web.Request) -> Grant | None:
    """What the request's API token allows; None when it sends none.

    The admin token, or an API token with `events:write`: refused (401) when
    unknown or revoked, (403) without that scope.
    """
    authorization = request.headers.get("Authorization")
    if not authorization:
        return None
    token = bearer(authorization)
    if is_admin(token, request.app[appkeys.SETTINGS].admin_token):
        return ADMIN_GRANT
    grant = await request.app[appkeys.TOKENS].grant(token) if token else None
    if grant is None:
        raise Refused(401, RefusalReason.UNAUTHORIZED, "invalid API token")
    if not grant.allows(EVENTS_WRITE):
        raise Refused(403, RefusalReason.UNAUTHORIZED, f"this API token lacks {EVENTS_WRITE}")
    return grant


def refuse_sites_not_granted(grant: Grant, events: list[Ingest], i: int) -> None:
    for ingest in events:
        site = ingest.event.site
        if not grant.allows(EVENTS_WRITE, site):
            raise Refused(
                403,
                RefusalReason.UNAUTHORIZED,
                f"this API token may not send events for {site}",
                f"[{i}].d",
            )


def refuse_forwarded_origins(hits: list[Hit]) -> None:
    for i, hit in enumerate(hits):
        if hit.ip is not None or hit.user_agent is not None:
            field = f"[{i}].ip" if hit.ip is not None else f"[{i}].ua"
            raise Refused(
                401,
                RefusalReason.UNAUTHORIZED,
                "the ip and ua fields need an API token (Authorization: Bearer ...)",
                field,
            )


def refusal(refused: Refused, events: int = 1) -> web.Response:
    EVENTS_REFUSED.labels(refused.reason).inc(events)
    headers = {**ANY_ORIGIN, "X-Footfall-Dropped": refused.reason}
    if refused.status == 503:
        headers["Retry-After"] = RETRY_AFTER_SECONDS
    return json_error(refused.status, refused.message, refused.field, headers)


def count_limited(limited: Refusals) -> None:
    for _, verdict in limited:
        EVENTS_REFUSED.labels(VERDICTS[verdict]).inc()


def too_many(request: web.Request, limited: Refusals, now: int) -> web.Response:
    """429 with Retry-After: the end of the current rate-limit window."""
    reason = VERDICTS[limited[0][1]]
    whom = "this client" if reason is RefusalReason.RATE_LIMITED_CLIENT else "this site"
    retry = request.app[appkeys.COMMITTER].limits.retry_after(now)
    headers = {**ANY_ORIGIN, "X-Footfall-Dropped": reason, "Retry-After": str(retry)}
    return json_error(429, f"too many events from {whom}, retry in {retry} s", "", headers)


def redis_failed(events: int = 1) -> web.Response:
    """503: Redis did not answer (the request's events are refused, the sender retries)."""
    STORE_ERRORS.labels("redis").inc()
    return refusal(_unavailable(), events)


def _unavailable() -> Refused:
    return Refused(503, RefusalReason.UNAVAILABLE, "the event store is unavailable, retry later")


def _too_large(limit: int) -> Refused:
    return Refused(413, RefusalReason.TOO_LARGE, f"body larger than {limit} bytes", "")
