"""What every HTTP request leaves behind: a request id, a latency sample, an access log line.

`observe_requests` is the outermost middleware of every footfall application
(`web.setup_operations` installs it). The request id is the client's
`X-Request-Id` when it is sane (1 to 128 letters, digits and `-_.:`; a proxy's
id is kept so lines can be followed across services), else a new random one.
While the request is handled it is in `logs.REQUEST_ID`, so every log line
carries it, and the response returns it in `X-Request-Id` (added when the
response is prepared, so streamed answers and raised redirects have it too).

The latency goes into `footfall_http_request_seconds`, labelled by the route's
pattern (`/api/v1/sites/{domain}`, `unmatched` for paths no route serves) and
never the raw path, so the number of series is bounded. The access log line
(`footfall.access`: method, route, path, status, duration) is written for
every request but those to the application's `QUIET_ROUTES`, which
`logs.ACCESS_LOG` samples. All of this costs 6 to 8 µs a request measured on
a loaded two-core machine (`bench/observe.py`): under 3 % of the 250 µs the
collector spends per event; the histogram is a lock-free `LoopHistogram` and the
labels are worked out once per route and status, for that reason.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import time

from aiohttp import web

from footfall.logs import ACCESS_LOG, REQUEST_ID
from footfall.metrics import HTTP_SECONDS

HEADER = "X-Request-Id"
QUIET_ROUTES = web.AppKey("quiet_routes", set[str])
"""Route patterns logged only when sampled or failing (see `logs.AccessLogPolicy`)."""

UNMATCHED = "unmatched"
CLIENT_CLOSED = 499  # nginx's code for a request whose client went away
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_SANE_ID = re.compile(r"[A-Za-z0-9_.:-]{1,128}").fullmatch

access_log = logging.getLogger("footfall.access")


def request_id_of(request: web.Request) -> str:
    given = request.headers.get(HEADER)
    if given and _SANE_ID(given):
        return given
    # An id, not a secret: the fast generator is enough (os.urandom costs 3 times more).
    return f"{random.getrandbits(64):016x}"


def setup(app: web.Application) -> None:
    """Observe every request of `app` (once, however many components mount)."""
    app[QUIET_ROUTES] = set()
    app.middlewares.insert(0, observe_requests)  # outermost: it sees the final status
    app.on_response_prepare.append(_return_request_id)


@web.middleware
async def observe_requests(request: web.Request, handler) -> web.StreamResponse:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    # Not reset afterwards: aiohttp runs each request in a task of its own, with a
    # copy of the context, so the id lives exactly as long as the request, the
    # response's preparation (which adds the header) included.
    REQUEST_ID.set(request_id_of(request))
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as e:  # redirects, and what json_errors lets through
        status = e.status
        raise
    except asyncio.CancelledError:
        status = CLIENT_CLOSED
        raise
    finally:
        seconds = time.perf_counter() - started
        route = request.match_info.route
        labels = _labels.get((route, status)) or _labels_of(request, route, status)
        HTTP_SECONDS.observe(labels[:3], seconds)
        if ACCESS_LOG.wants(labels[3], status):
            _log_access(request, labels[0], labels[1], status, seconds)


Labels = tuple[str, str, str, bool]
"""The histogram's labels (method, route pattern, status) and whether the route is quiet."""

# Worked out once per (route, status): one lookup instead of four steps per request.
# Routes are set up before the first request, QUIET_ROUTES too.
_labels: dict[tuple[web.AbstractRoute, int], Labels] = {}


def _labels_of(request: web.Request, route: web.AbstractRoute, status: int) -> Labels:
    method = request.method if request.method in _METHODS else "other"
    if route.resource is None:  # no route matched: aiohttp makes a route for each such request
        return (method, UNMATCHED, str(status), False)
    pattern = route.resource.canonical
    labels = (method, pattern, str(status), pattern in request.app[QUIET_ROUTES])
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


async def _return_request_id(request: web.Request, response: web.StreamResponse) -> None:
    request_id = REQUEST_ID.get()
    if request_id:
        response.headers[HEADER] = request_id
