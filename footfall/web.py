"""What every footfall HTTP application shares: JSON errors, health, readiness, metrics.

Every error a client can cause is answered as `{"error": "...", "field": "..."}`
with a 4xx, including aiohttp's own (unknown path, wrong method, body too
large): the request observer answers them (`footfall/errors.py`), so a request
goes through one middleware, not two. Readiness is the conjunction of the
checks each mounted component adds to `READY_CHECKS`. /metrics first runs the
`SCRAPE_HOOKS` components add (to read gauges from the stores at scrape time),
then renders the one registry; with a `METRICS_TOKEN` (setting `metrics_token`)
it answers only a request that carries it as a Bearer token.
Every request is observed (`footfall/observe.py`): request id, latency, access log.
The three operations are a part of the API's document (`OPERATIONS`), mounted once,
with the document itself (`openapi.DOCUMENT`).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Literal

import msgspec
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from footfall import observe, openapi
from footfall.errors import ApiError as ApiError  # the handlers' names for them, as before
from footfall.errors import json_error as json_error
from footfall.errors import json_response
from footfall.service_metrics import REGISTRY

log = logging.getLogger(__name__)

ReadyCheck = Callable[[], Awaitable[str | None]]
"""Returns None when ready, else what is wrong."""

ScrapeHook = Callable[[], Awaitable[None]]
"""Sets gauges from what it reads; should not raise (an error is logged and skipped)."""

READY_CHECKS = web.AppKey("ready_checks", list[tuple[str, ReadyCheck]])
SCRAPE_HOOKS = web.AppKey("scrape_hooks", list[ScrapeHook])
METRICS_TOKEN = web.AppKey("metrics_token", str)
"""The token /metrics asks for ("": none, and the hooks leave private numbers out)."""
SCRAPE_TIMEOUT = 2.0

ANY_ORIGIN = {"Access-Control-Allow-Origin": "*"}
"""CORS for what any page may call: the Events API and the public counters."""


class Health(msgspec.Struct):
    status: Literal["ok"]


class Readiness(msgspec.Struct):
    status: Literal["ready", "unavailable"]
    problems: dict[str, str] | msgspec.UnsetType = msgspec.UNSET
    """What each unready check says, by its name."""


async def health(request: web.Request) -> web.Response:
    return json_response(Health("ok"))


async def ready(request: web.Request) -> web.Response:
    problems = {}
    for name, check in request.app[READY_CHECKS]:
        try:
            problem = await asyncio.wait_for(check(), timeout=2.0)
        except Exception as e:
            problem = f"{type(e).__name__}: {e}"
        if problem:
            problems[name] = problem
    if problems:
        return json_response(Readiness("unavailable", problems), 503)
    return json_response(Readiness("ready"))


async def metrics(request: web.Request) -> web.Response:
    token = request.app[METRICS_TOKEN]
    sent = request.headers.get("Authorization", "")
    if token and not hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
        raise ApiError(
            401,
            "/metrics needs Authorization: Bearer <metrics token>",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    for hook in request.app[SCRAPE_HOOKS]:
        try:
            await asyncio.wait_for(hook(), timeout=SCRAPE_TIMEOUT)
        except Exception:  # the other metrics are still worth serving
            log.exception("a /metrics hook failed")
    return web.Response(
        body=generate_latest(REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST}
    )


METRICS_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "description": "The metrics token (setting `metrics_token`), when one is set.",
}
OPERATIONS = openapi.Part(
    openapi.Tag("Operations", "For the operator: probes and Prometheus.", order=90),
    (
        openapi.Route(
            "GET",
            "/health",
            health,
            "Liveness",
            "200 while the process serves.",
            {"200": openapi.answer("Alive.", openapi.ref("Health"))},
        ),
        openapi.Route(
            "GET",
            "/ready",
            ready,
            "Readiness",
            "200 when every store this process needs answers; else 503, and which does not.",
            {
                "200": openapi.answer("Ready.", openapi.ref("Readiness")),
                "503": openapi.answer("Not ready.", openapi.ref("Readiness")),
            },
        ),
        openapi.Route(
            "GET",
            "/metrics",
            metrics,
            "Prometheus metrics",
            "The registry in Prometheus' text format. With a metrics token set, only for a "
            "request that carries it.",
            {
                "200": {
                    "description": "The metrics.",
                    "content": {"text/plain": {"schema": {"type": "string"}}},
                },
                **openapi.errors(401),
            },
            security=[{"metrics": []}, {}],
        ),
    ),
    lambda: openapi.answer_schemas(Health, Readiness),
    security=openapi.PUBLIC,
    security_schemes={**openapi.BEARER, "metrics": METRICS_SCHEME},
)


def setup_operations(app: web.Application, *, metrics_token: str) -> None:
    """Add /health, /ready, /metrics, the API's document and the request observer once per
    application, however many components mount (each passes the same `metrics_token`)."""
    if READY_CHECKS in app:
        return
    app[READY_CHECKS] = []
    app[SCRAPE_HOOKS] = []
    app[METRICS_TOKEN] = metrics_token
    observe.setup(app)
    openapi.mount(app, OPERATIONS)
    openapi.mount(app, openapi.DOCUMENT)
    # Probes every few seconds and scrapes: access-logged when failing or sampled.
    app[observe.QUIET_ROUTES].update(route.path for route in OPERATIONS.routes)
