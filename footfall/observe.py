"""What every HTTP request leaves behind: a request id, a latency sample, an access log line.

`observe_requests` is the outermost middleware of every footfall application
(`web.setup_operations` installs it), and the one that answers errors as JSON
(`footfall/errors.py`): a second middleware for those cost every request a layer.

The request id is the client's `X-Request-Id` when it is sane (1 to 128
letters, digits and `-_.:`; a proxy's id is kept so lines can be followed across
services), else a new random one.
While the request is handled it is in `logs.REQUEST_ID`, so every log line
carries it, and the response returns it in `X-Request-Id`. The application's
`QUIET_ROUTES` (events, counters, snippet, probes: thousands a second) keep a
client's id but are given none: making and returning one cost the collector
about a tenth of its throughput (bench/collector.py, with and without).

A header whose bytes are not UTF-8 is refused here, for every route, with 400
naming it (`refuse_undecodable_headers`): aiohttp decodes header bytes with
`surrogateescape`, and the lone surrogates such a value carries would fail much
later, wherever it is encoded again (a stream event, a token's hash), as a 500.

The latency goes into `footfall_http_request_seconds`, labelled by the route's
pattern (`/api/v1/sites/{domain}`, `unmatched` for paths no route serves) and
never the raw path, so the number of series is bounded. The access log line
(`footfall.access`: method, route, path, status, duration) is written for
every request but those to quiet routes, which `logs.ACCESS_LOG` samples. The
histogram is a lock-free `LoopHistogram` and the labels are worked out once per
route and status, to keep this cheap.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import time

from aiohttp import web

from footfall.errors import ApiError, answer_error
from footfall.logs import ACCESS_LOG, REQUEST_ID
from footfall.service_metrics import HTTP_SECONDS

HEADER = "X-Request-Id"
QUIET_ROUTES = web.AppKey("quiet_routes", set[str])
"""Route patterns logged only when sampled or failing (see `logs.AccessLogPolicy`)."""

UNMATCHED = "unmatched"
CLIENT_CLOSED = 499  # nginx's code for a request whose client went away
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_SANE_ID = re.compile(r"[A-Za-z0-9_.:-]{1,128}").fullmatch

access_log = logging.getLogger("footfall.access")


def given_request_id(request: web.Request) -> str | None:
    """The client's (a proxy's) request id, if it sent a sane one."""
    given = request.headers.get(HEADER)
    return given if given and _SANE_ID(given) else None


def request_id_of(request: web.Request) -> str:
    given = given_request_id(request)
    if given:
        return given
    # An id, not a secret: the fast generator is enough (os.urandom costs 3 times more).
    return f"{random.getrandbits(64):016x}"


def setup(app: web.Application) -> None:
    """Observe every request of `app` (once, however many components mount)."""
    app[QUIET_ROUTES] = set()
    app.middlewares.insert(0, observe_requests)  # outermost: it sees the final status


@web.middleware
async def observe_requests(request: web.Request, handler) -> web.StreamResponse:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    route = request.match_info.route
    quiet = _quiet.get(route)
    if quiet is None:
        quiet = _is_quiet(request, route)
    # Quiet routes (events, counters, probes: thousands a second) keep a proxy's id but
    # make none: making and returning one cost the collector a tenth of its throughput
    # (bench/collector.py).
    request_id = given_request_id(request) if quiet else request_id_of(request)
    if request_id:
        # Not reset afterwards: aiohttp runs each request in a task of its own, with a
        # copy of the context, so the id lives exactly as long as the request.
        REQUEST_ID.set(request_id)
    status = 500
    try:
        try:
            refuse_undecodable_headers(request)
            response = await handler(request)
        except Exception as e:  # JSON errors here, not in a middleware of their own: one
            # layer less on every request, which the collector's throughput feels
            response = answer_error(request, e)
            if response is None:  # a redirect, or a JSON error: it goes on as raised
                raise
        status = response.status
        if request_id and not response.prepared:  # a streamed answer sent its headers
            response.headers[HEADER] = request_id
        return response
    except web.HTTPException as e:
        status = e.status
        if request_id:
            e.headers[HEADER] = request_id
        raise
    except asyncio.CancelledError:
        status = CLIENT_CLOSED
        raise
    finally:
        seconds = time.perf_counter() - started
        labels = _labels.get((route, status)) or _labels_of(request, route, status)
        HTTP_SECONDS.observe(labels, seconds)
        if ACCESS_LOG.wants(quiet, status):
            _log_access(request, labels[0], labels[1], status, seconds)


_is_ascii = str.isascii


def refuse_undecodable_headers(request: web.BaseRequest) -> None:
    """Raises `ApiError` 400, naming the header as sent, when one's bytes are not UTF-8."""
    # All ASCII, the usual case, checked in C: under a microsecond for a browser's dozen
    # headers (a Python loop over them costs more).
    if all(map(_is_ascii, request.headers.values())):
        return
    for name, value in request.raw_headers:
        try:
            value.decode()
        except UnicodeDecodeError:
            raise ApiError(400, "the header is not UTF-8", name.decode("latin-1")) from None


# Whether a route is quiet, once per route (routes and QUIET_ROUTES are set up before
# the first request); requests no route matched are never quiet.
_quiet: dict[web.AbstractRoute, bool] = {}


def _is_quiet(request: web.Request, route: web.AbstractRoute) -> bool:
    if route.resource is None:
        return False
    quiet = _quiet[route] = route.resource.canonical in request.app[QUIET_ROUTES]
    return quiet


Labels = tuple[str, str, str]
"""The histogram's labels: method, route pattern, status."""

# Worked out once per (route, status): one lookup instead of four steps per request.
# Routes are set up before the first request, QUIET_ROUTES too.
_labels: dict[tuple[web.AbstractRoute, int], Labels] = {}


def _labels_of(request: web.Request, route: web.AbstractRoute, status: int) -> Labels:
    method = request.method if request.method in _METHODS else "other"
    if route.resource is None:  # no route matched: aiohttp makes a route for each such request
        return (method, UNMATCHED, str(status))
    labels = (method, route.resource.canonical, str(status))
    _labels[route, status] = labels
    return labels


def _log_access(request: web.Request, method: str, route: str, status: int, seconds: float) -> None:
    duration_ms = round(seconds * 1000, 2)
    access_log.info(
        "%s %s %d %.2f ms",
        method,
        request.path,
        status,
        duration_ms,
        extra={
            "method": method,
            "route": route,
            "path": request.path,
            "status": status,
            "duration_ms": duration_ms,
        },
    )
