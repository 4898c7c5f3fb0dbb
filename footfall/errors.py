"""Every error a client can cause, answered as JSON: `{"error": "...", "field": "..."}` with a 4xx.

`answer_error` turns what a handler raised (an `ApiError`, aiohttp's own HTTP
errors such as unknown path, wrong method or body too large, a body that does not
decode as its headers say, or an unexpected exception) into that answer; a store
that failed (Redis, or a ClickHouse that did not answer) is a 503
`{"error": "redis unavailable"}` with Retry-After, counted in
`footfall_store_errors_total`. A query ClickHouse refused for memory (over the
dashboard's budget per query, or chdb's total) is a 503 that says so in
ClickHouse's words. The request observer (`footfall/observe.py`) calls
it, so every application gets JSON errors from the one middleware it already
runs for every request. What aiohttp refuses before any middleware runs (a
malformed request line, a header too long) is answered by `protocol_error`'s
words too (`footfall/http_server.py`).
"""

from __future__ import annotations

import logging

import msgspec
import orjson
import redis.exceptions
from aiohttp import web
from aiohttp.http_exceptions import (
    BadHttpMethod,
    BadStatusLine,
    ContentEncodingError,
    ContentLengthError,
    HttpProcessingError,
    InvalidHeader,
    InvalidURLError,
    LineTooLong,
    TransferEncodingError,
)
from clickhouse_connect.driver.exceptions import DatabaseError, OperationalError

from footfall.service_metrics import QUERIES_OVER_MEMORY, STORE_ERRORS

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
    """`data` as JSON: builtins, or msgspec structs (an UNSET field is left out)."""
    return web.Response(
        body=orjson.dumps(data, default=msgspec.to_builtins),
        status=status,
        content_type="application/json",
        headers=headers,
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
    if isinstance(error, web.RequestPayloadError):  # a body not as its headers announce
        return json_error(400, *protocol_error(error.__cause__))  # the parser's error
    if _over_memory(error):
        return _memory_refusal(request, error)
    store = _store_of(error)
    if store:
        # The store's trouble, not the client's: counted, logged, and worth a retry.
        STORE_ERRORS.labels(store).inc()
        log.error("%s failed in %s %s: %s", store, request.method, request.path, error)
        return json_error(503, f"{store} unavailable", "", {"Retry-After": "5"})
    log.exception("unhandled error in %s %s", request.method, request.path, exc_info=error)
    return json_error(500, "internal error")


# What aiohttp's parser refuses, said in words that echo nothing of the request (its own
# messages quote the offending bytes); the first class that matches wins.
_PROTOCOL_ERRORS: tuple[tuple[type[HttpProcessingError], str, str], ...] = (
    (LineTooLong, "the request line or a header is too long", ""),
    (BadHttpMethod, "not an HTTP method", ""),
    (BadStatusLine, "malformed request line", ""),
    (InvalidURLError, "malformed URL", ""),
    (InvalidHeader, "malformed header", ""),
    (ContentEncodingError, "the body is not in its Content-Encoding", "Content-Encoding"),
    (TransferEncodingError, "malformed chunked body", "Transfer-Encoding"),
    (ContentLengthError, "the body is shorter than its Content-Length", "Content-Length"),
)


def protocol_error(error: BaseException | None) -> tuple[str, str]:
    """The error and field to answer for a request aiohttp's parser refused."""
    for kind, text, field in _PROTOCOL_ERRORS:
        if isinstance(error, kind):
            return text, field
    return "malformed HTTP request", ""


def _over_memory(error: Exception) -> bool:
    return isinstance(error, DatabaseError) and "(MEMORY_LIMIT_EXCEEDED)" in str(error)


def _memory_refusal(request: web.Request, error: Exception) -> web.Response:
    """503 with ClickHouse's own words (what the query would use, and the limit): a query
    over its budget fails alone, where it would have grown the process until killed."""
    text = str(error)
    reason = text.partition("DB::Exception: ")[2].partition(": While ")[0]
    reason = reason.removesuffix(" (MEMORY_LIMIT_EXCEEDED)").strip() or "memory limit exceeded"
    limit = "total" if "(total)" in reason else "query"
    QUERIES_OVER_MEMORY.labels(limit).inc()
    log.warning("a query over memory in %s %s: %s", request.method, request.path, reason)
    setting = "query_memory_mb" if limit == "query" else "chdb_memory_mb"
    return json_error(
        503,
        f"the query needs more memory than ClickHouse may give it ({setting}): {reason}",
        "",
        {"Retry-After": "5"} if limit == "total" else None,
    )


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
