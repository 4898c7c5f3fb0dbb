"""Every error a client can cause, answered as JSON: `{"error": "...", "field": "..."}` with a 4xx.

`answer_error` turns what a handler raised (an `ApiError`, aiohttp's own HTTP
errors such as unknown path, wrong method or body too large, or an unexpected
exception) into that answer; a store that failed (Redis, or a ClickHouse that did
not answer) is a 503 `{"error": "redis unavailable"}` with Retry-After, counted in
`footfall_store_errors_total`. The request observer (`footfall/observe.py`) calls
it, so every application gets JSON errors from the one middleware it already
runs for every request.
"""

from __future__ import annotations

import logging

import orjson
import redis.exceptions
from aiohttp import web
from clickhouse_connect.driver.exceptions import OperationalError

from footfall.metrics import STORE_ERRORS

log = logging.getLogger("footfall.web")  # the name these lines always had


class ApiError(Exception):
    """A client's mistake: answered as `{"error", "field"}` with its status."""

    def __init__(
        self, status: int, message: str, field: str = "", headers: dict[str, str] | None = None
    ):
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field
        self.headers = headers


def json_response(data: object, status: int = 200, headers: dict[str, str] | None = None):
    return web.Response(
        body=orjson.dumps(data), status=status, content_type="application/json", headers=headers
    )


def json_error(
    status: int, error: str, field: str = "", headers: dict[str, str] | None = None
) -> web.Response:
    body: dict[str, str] = {"error": error}
    if field:
        body["field"] = field
    return json_response(body, status, headers)


def answer_error(request: web.Request, error: Exception) -> web.Response | None:
    """The JSON answer to what a handler raised; None for what must propagate as it is
    (a redirect, an HTTP error whose body is JSON already)."""
    if isinstance(error, ApiError):
        return json_error(error.status, error.message, error.field, error.headers)
    if isinstance(error, web.HTTPException):
        if error.status < 400 or error.content_type == "application/json":
            return None
        headers = {k: v for k, v in error.headers.items() if k.lower() in ("allow", "retry-after")}
        text = error.reason if error.text is None else _plain(error.text)
        return json_error(error.status, text, "", headers)
    store = _store_of(error)
    if store:
        # The store's trouble, not the client's: counted, logged, and worth a retry.
        STORE_ERRORS.labels(store).inc()
        log.error("%s failed in %s %s: %s", store, request.method, request.path, error)
        return json_error(503, f"{store} unavailable", "", {"Retry-After": "5"})
    log.exception("unhandled error in %s %s", request.method, request.path, exc_info=error)
    return json_error(500, "internal error")


def _store_of(error: Exception) -> str | None:
    if isinstance(error, redis.exceptions.RedisError):
        return "redis"
    if isinstance(error, OperationalError):  # clickhouse-connect: the server did not answer
        return "clickhouse"
    return None


def _plain(text: str) -> str:
    # aiohttp's default bodies are "404: Not Found"; keep the words.
    code, sep, rest = text.partition(": ")
    return rest.strip() if sep and code.isdigit() else text.strip()
