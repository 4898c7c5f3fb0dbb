"""The OpenAPI 3.1 document of footfall's HTTP API under `/api/`: built once, as data.

Enumerations come from the code's own registries (periods, intervals,
metrics, properties, article sorts, token scopes) and the bodies of the admin
APIs from their msgspec types, so the document cannot drift from what the
handlers accept. The Events API and the public counters belong to the
collector, which the dashboard does not import: their shapes are written here
by hand, and `tests/test_openapi.py` checks them against the collector's
types, every route against the applications' routers, and every answer
against this document (schemathesis).

`document_for(app)` is the document narrowed to the operations `app` serves:
the all-in-one server (`footfall serve`) serves all of them, the dashboard
alone (`footfall dashboard`) not the collector's.
"""

from __future__ import annotations

import functools
from collections.abc import Set
from typing import Any

import msgspec
from aiohttp import web

import footfall
from dashboard.accounts import MAX_PASSWORD, MIN_PASSWORD
from dashboard.api_tokens import NewToken, Token
from dashboard.auth import SCOPES
from dashboard.metrics import ARTICLE_METRICS, METRICS
from dashboard.periods import (
    DEFAULT_PERIOD,
    FIRST_DATE,
    INTERVALS,
    LAST_DATE,
    MAX_HOURLY_DAYS,
    PERIODS,
)
from dashboard.properties import PROPERTIES
from dashboard.sessions import COOKIE as SESSION_COOKIE
from dashboard.stats_api import ARTICLE_SORTS, DEFAULT_LIMIT, MAX_LIMIT, SOURCES_LIMIT
from dashboard.users_api import NewUser, UserChanges
from footfall.sites import Site
from footfall.status import Status

Schema = dict[str, Any]
JSON = "application/json"
REF = "#/components/schemas/{name}"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch")

# -- small builders ----------------------------------------------------------------------------


def ref(name: str) -> Schema:
    return {"$ref": REF.format(name=name)}


def query(name: str, schema: Schema, description: str, required: bool = False) -> Schema:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "description": description,
        "schema": schema,
    }


def path_param(name: str, description: str) -> Schema:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string", "minLength": 1},
    }


def body(schema: Schema, description: str = "", example: Any = None) -> Schema:
    media: Schema = {"schema": schema}
    if example is not None:
        media["example"] = example
    return {"required": True, "description": description, "content": {JSON: media}}


def answer(description: str, schema: Schema | None = None, **more: Any) -> Schema:
    """A response: JSON with `schema`, or without a body when `schema` is None."""
    response: Schema = {"description": description}
    if schema is not None:
        response["content"] = {JSON: {"schema": schema}}
    response.update(more)
    return response


ERROR_RESPONSES = {
    "400": "A bad parameter or body: `error` says which and why (Plausible's message for "
    "the Stats API), `field` names the body field when there is one.",
    "401": "No token, or an unknown or revoked one (or no session).",
    "403": "The token or user lacks the scope, the site, or admin rights; or a cookie "
    "session sent no CSRF token.",
    "404": "No such resource (site, user, token).",
    "409": "It exists already.",
    "413": "The body is larger than the limit.",
    "429": "Too many events from this client or for this site: retry after `Retry-After` s.",
    "503": "The event store (Redis) is unavailable: retry after `Retry-After` s.",
}
RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "string"}}}
CHALLENGE = {"WWW-Authenticate": {"description": "`Bearer`", "schema": {"type": "string"}}}


def errors(*statuses: int) -> dict[str, Schema]:
    """The JSON error answers `{"error": ..., "field": ...}` of these statuses."""
    responses = {}
    for status in statuses:
        code = str(status)
        headers = RETRY_AFTER if status in (429, 503) else CHALLENGE if status == 401 else None
        extra = {"headers": headers} if headers else {}
        responses[code] = answer(ERROR_RESPONSES[code], ref("Error"), **extra)
    return responses


def operation(
    tag: str,
    summary: str,
    description: str,
    responses: dict[str, Schema],
    parameters: list[Schema] | None = None,
    request_body: Schema | None = None,
    security: list[dict[str, list[str]]] | None = None,
) -> Schema:
    op: Schema = {"tags": [tag], "summary": summary, "description": description}
    if parameters:
        op["parameters"] = parameters
    if request_body:
        op["requestBody"] = request_body
    op["responses"] = responses
    if security is not None:
        op["security"] = security
    return op


PUBLIC: list[dict[str, list[str]]] = []
"""No authentication."""
SESSION_ONLY = [{"session": []}]


# -- schemas -----------------------------------------------------------------------------------


def _struct_schemas() -> dict[str, Schema]:
    types = [Site, NewToken, Token, NewUser, UserChanges, Status]
    _, components = msgspec.json.schema_components(types, ref_template=REF)
    # msgspec says "a string"; the registries say which.
    components["NewToken"]["properties"]["scopes"]["items"] = {"enum": list(SCOPES)}
    password = {"type": "string", "minLength": MIN_PASSWORD, "maxLength": MAX_PASSWORD}
    components["NewUser"]["properties"]["email"] = EMAIL
    components["NewUser"]["properties"]["password"] = password
    components["UserChanges"]["properties"]["password"] = {"anyOf": [password, {"type": "null"}]}
    return components


def _as_answered(schema: Schema, **extra: Schema) -> Schema:
    """A struct's schema as an answer: every field present (no defaults), plus `extra`."""
    properties = {
        name: {k: v for k, v in prop.items() if k != "default"}
        for name, prop in schema["properties"].items()
    }
    properties.update(extra)
    return {"type": "object", "properties": properties, "required": list(properties)}


def _site_changes(site: Schema) -> Schema:
    return {
        "type": "object",
        "description": "The fields to change; the others are kept. `domain`, if sent, must be "
        "the site's own.",
        "properties": site["properties"],
        "additionalProperties": False,
    }


NUMBER = {"type": "number"}
EMAIL = {"type": "string", "maxLength": 254, "pattern": r"^[^@\s]+@[^@\s]+$"}
METRIC_VALUES = {name: NUMBER for name in METRICS}
ARTICLE_ROW = {name: NUMBER for name in ARTICLE_METRICS}


def _schemas() -> dict[str, Schema]:
    structs = _struct_schemas()
    text = {"type": "string"}
    deleted = {
        "type": "object",
        "properties": {"deleted": {"const": True}},
        "required": ["deleted"],
    }
    return {
        **structs,
        "Error": {
            "type": "object",
            "description": "Every error footfall answers, with a 4xx (or 5xx) status. "
            "Plausible's Stats API answers the same `error`.",
            "properties": {
                "error": {"type": "string", "description": "What is wrong."},
                "field": {
                    "type": "string",
                    "description": "The body field or parameter at fault, when one is.",
                },
            },
            "required": ["error"],
        },
        "Deleted": deleted,
        "SiteDocument": _as_answered(
            structs["Site"], snippet={"type": "string", "description": "The tag to paste."}
        ),
        "SiteChanges": _site_changes(structs["Site"]),
        "User": {
            "type": "object",
            "properties": {
                "email": text,
                "role": {"enum": ["admin", "editor"]},
                "sites": {"type": "array", "items": text},
            },
            "required": ["email", "role", "sites"],
        },
        "NewTokenAnswer": _as_answered(
            structs["Token"],
            token={"type": "string", "description": "The secret: shown this once."},
        ),
        "Event": EVENT,
        "AggregateResults": {
            "type": "object",
            "properties": {
                "results": {
                    "type": "object",
                    "properties": {name: ref("AggregateValue") for name in METRICS},
                    "additionalProperties": False,
                }
            },
            "required": ["results"],
        },
        "AggregateValue": {
            "type": "object",
            "properties": {
                "value": NUMBER,
                "comparison_value": NUMBER,
                "change": {
                    "anyOf": [NUMBER, {"type": "null"}],
                    "description": "Percent change (percentage points for bounce_rate; null "
                    "when the previous period had none).",
                },
            },
            "required": ["value"],
        },
        "TimeseriesResults": {
            "type": "object",
            "properties": {"results": {"type": "array", "items": ref("Bucket")}},
            "required": ["results"],
        },
        "Bucket": {
            "type": "object",
            "properties": {
                "date": {
                    "type": "string",
                    "description": "`2023-11-15 13:00:00` (hour), `2023-11-15` (date), "
                    "`2023-11-01` (month), in the site's timezone.",
                },
                **METRIC_VALUES,
            },
            "required": ["date"],
            "additionalProperties": False,
        },
        "BreakdownResults": {
            "type": "object",
            "properties": {
                "results": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "description": "The property's value, named after the property "
                        "without its prefix (`page`, `source`...), and the metrics.",
                        "properties": {
                            **{p.key: text for p in PROPERTIES.values()},
                            **METRIC_VALUES,
                        },
                        "additionalProperties": False,
                    },
                }
            },
            "required": ["results"],
        },
        "ArticlesResults": {
            "type": "object",
            "properties": {"results": {"type": "array", "items": ref("ArticleRow")}},
            "required": ["results"],
        },
        "ArticleRow": {
            "type": "object",
            "properties": {
                "article_id": text,
                "title": text,
                **ARTICLE_ROW,
                "readers": {"type": "integer", "description": "Readers now."},
            },
            "required": ["article_id", "title", *ARTICLE_METRICS, "readers"],
            "additionalProperties": False,
        },
        "Article": {
            "type": "object",
            "properties": {
                "article_id": text,
                "title": text,
                "readers": {"type": "integer", "description": "Readers now."},
                "totals": {
                    "type": "object",
                    "properties": ARTICLE_ROW,
                    "required": list(ARTICLE_METRICS),
                },
                "results": {"type": "array", "items": ref("Bucket")},
                "sources": {
                    "type": "array",
                    "maxItems": SOURCES_LIMIT,
                    "items": {
                        "type": "object",
                        "properties": {
                            "source": text,
                            "visitors": {"type": "integer"},
                            "pageviews": {"type": "integer"},
                        },
                        "required": ["source", "visitors", "pageviews"],
                    },
                },
            },
            "required": ["article_id", "title", "readers", "totals", "results", "sources"],
        },
        "Counters": {
            "type": "object",
            "properties": {
                "total": {
                    "type": "integer",
                    "description": "Visits (or page views, by the site's `counter_measure`) "
                    "since counting began, plus the site's `counter_offset`.",
                },
                "online": {"type": "integer", "description": "Visitors online now."},
                "views": {"type": "integer", "description": "The article's page views."},
                "readers": {"type": "integer", "description": "The article's readers now."},
            },
            "required": ["total", "online"],
            "additionalProperties": False,
        },
        "BatchAnswer": {
            "type": "object",
            "properties": {
                "accepted": {"type": "integer"},
                "dropped": {"type": "integer", "description": "Bots, excluded addresses..."},
                "rate_limited": {"type": "integer"},
                "rate_limited_at": {
                    "type": "array",
                    "items": {"type": "integer"},
                    "description": "Indexes of the events to send again later.",
                },
            },
            "required": ["accepted", "dropped"],
        },
        "Session": {
            "type": "object",
            "properties": {
                "email": text,
                "admin": {"type": "boolean"},
                "scopes": {"type": "array", "items": {"enum": list(SCOPES)}},
                "sites": {"anyOf": [{"type": "array", "items": text}, {"type": "null"}]},
                "csrf_token": text,
            },
            "required": ["email", "admin", "scopes", "sites", "csrf_token"],
        },
    }


def _short(max_length: int) -> Schema:
    return {"type": "string", "maxLength": max_length}


_PROPS = {
    "anyOf": [
        {
            "type": "object",
            "maxProperties": 30,
            "additionalProperties": {
                "anyOf": [_short(300), {"type": ["number", "boolean", "null"]}]
            },
        },
        {"type": "string", "description": "The same map as a JSON string (older trackers)."},
    ]
}
EVENT: Schema = {
    "type": "object",
    "description": "One event, Plausible's Events API: each field in its short or long form. "
    "Unknown fields are ignored.",
    "properties": {
        "n": {"type": "string", "minLength": 1, "maxLength": 120, "description": "`pageview`, "
              "`engagement` or a custom event name (or `name`)."},
        "name": {"type": "string", "minLength": 1, "maxLength": 120},
        "u": {**_short(2000), "description": "The page's http(s) URL (or `url`): required."},
        "url": _short(2000),
        "d": {**_short(1000), "description": "The site's domain, comma-separated for several "
              "(or `domain`); else the URL's host."},
        "domain": _short(1000),
        "r": {**_short(2000), "description": "Referrer URL (or `referrer`)."},
        "referrer": _short(2000),
        "p": {**_PROPS, "description": "Custom properties (or `props`, `m`, `meta`)."},
        "props": _PROPS,
        "m": _PROPS,
        "meta": _PROPS,
        "h": {"type": ["boolean", "integer"], "description": "1: the fragment is part of the "
              "path (or `hashMode`)."},
        "hashMode": {"type": ["boolean", "integer"]},
        "e": {"type": "integer", "minimum": 0, "maximum": 86_400_000,
              "description": "Engagement: milliseconds engaged since the last one."},
        "sd": {"type": "integer", "description": "Engagement: scroll depth, percent."},
        "w": {"type": "integer", "minimum": 0, "maximum": 100_000,
              "description": "Screen width."},
        "a": {"anyOf": [_short(200), {"type": "integer"}],
              "description": "Article id (else the site's rule finds it in the URL)."},
        "ti": {**_short(2000), "description": "Page title."},
        "pv": {**_short(64), "description": "Page-view id, joining engagement to its view."},
        "ip": {**_short(64), "description": "`/api/events` with a token: the visitor's IP."},
        "ua": {**_short(1000), "description": "`/api/events` with a token: the visitor's "
               "user agent."},
    },
}  # fmt: skip


EVENT_EXAMPLE = {
    "n": "pageview",
    "u": "https://news.example/tin-tuc/bao-so-3.html",
    "d": "news.example",
    "r": "https://www.google.com/",
}
SITE_EXAMPLE = {"domain": "news.example", "timezone": "Asia/Ho_Chi_Minh", "public_counters": True}


# -- parameters --------------------------------------------------------------------------------

SITE_ID = query("site_id", {"type": "string"}, "The site's domain.", required=True)
PERIOD = query(
    "period",
    {"enum": list(PERIODS), "default": DEFAULT_PERIOD},
    "Days in the site's timezone: `7d` is the date and 6 days before, `30d` the date and 30 "
    "before, `month`, `6mo`, `12mo` whole calendar months up to the date's.",
)
DATE = query(
    "date",
    {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}(,\d{4}-\d{2}-\d{2})?$"},
    "The period's last day, `YYYY-MM-DD` (default today, in the site's timezone); for "
    f"`custom`, the first and last: `YYYY-MM-DD,YYYY-MM-DD`. From {FIRST_DATE} to {LAST_DATE}.",
)
INTERVAL = query(
    "interval",
    {"enum": [*INTERVALS, "day"]},
    f"`hour` (periods up to {MAX_HOURLY_DAYS} days), `date` (or `day`), `month`; default "
    "`hour` for `day`, `month` for `6mo` and `12mo`, else `date`.",
)
_METRIC = "(" + "|".join(METRICS) + ")"
METRICS_PARAM = query(
    "metrics",
    {"type": "string", "pattern": f"^{_METRIC}(,{_METRIC})*$", "default": "visitors"},
    "Comma-separated, each once: " + ", ".join(f"`{m}`" for m in METRICS) + ".",
)
FILTERS = query(
    "filters",
    {"type": "string"},
    "`property==value` or `property!=value`, joined by `;`; `a|b` for either; `*` matches "
    "within a path segment, `**` anything. Properties as for `property`.",
)
PROPERTY = query(
    "property", {"enum": list(PROPERTIES)}, "What to break the numbers down by.", required=True
)
LIMIT = query(
    "limit",
    {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
    "Rows per page.",
)
PAGE = query("page", {"type": "integer", "minimum": 1, "default": 1}, "Page number.")
FORMAT = query(
    "format",
    {"enum": ["json", "csv"], "default": "json"},
    "`csv` for a CSV file (so does `Accept: text/csv`).",
)
COMPARE = query(
    "compare",
    {"enum": ["previous_period"]},
    "Also answer the previous period's values (as many days as this period has up to today, "
    "just before it) and the change.",
)
SORT = query(
    "sort", {"enum": list(ARTICLE_SORTS), "default": "pageviews"}, "Largest first, by this."
)
PERIOD_PARAMS = [SITE_ID, PERIOD, DATE]
STATS_ERRORS = errors(400, 401, 403, 404)
CSV = {"text/csv": {"schema": {"type": "string"}}}


def _json_or_csv(description: str, name: str) -> Schema:
    return {"description": description, "content": {JSON: {"schema": ref(name)}, **CSV}}


# -- operations --------------------------------------------------------------------------------

STATS = "Stats API"
SITES = "Sites API"
ADMIN = "Users and tokens"
EVENTS = "Events API"
DOCS = "This document"


def _paths() -> dict[str, Schema]:
    site_domain = path_param("domain", "The site's domain.")
    return {
        "/api/v1/stats/realtime/visitors": {
            "get": operation(
                STATS,
                "Visitors online now",
                "Distinct visitors with any event in the site's online window: the number the "
                "public counter shows.",
                {"200": answer("The number.", {"type": "integer"}), **STATS_ERRORS},
                [SITE_ID],
            )
        },
        "/api/v1/stats/aggregate": {
            "get": operation(
                STATS,
                "Totals over a period",
                "Each metric's value over the period (and the previous period's, with `compare`).",
                {"200": answer("The metrics.", ref("AggregateResults")), **STATS_ERRORS},
                [*PERIOD_PARAMS, METRICS_PARAM, FILTERS, COMPARE],
            )
        },
        "/api/v1/stats/timeseries": {
            "get": operation(
                STATS,
                "Metrics per hour, day or month",
                "Every bucket of the period, empty ones with zeros.",
                {"200": answer("One row per bucket.", ref("TimeseriesResults")), **STATS_ERRORS},
                [*PERIOD_PARAMS, METRICS_PARAM, FILTERS, INTERVAL],
            )
        },
        "/api/v1/stats/breakdown": {
            "get": operation(
                STATS,
                "Metrics per value of a property",
                "Rows sorted by the first metric, largest first, then by value; paged.",
                {
                    "200": _json_or_csv("One row per value.", "BreakdownResults"),
                    **STATS_ERRORS,
                },
                [*PERIOD_PARAMS, PROPERTY, METRICS_PARAM, FILTERS, LIMIT, PAGE, FORMAT],
            )
        },
        "/api/v1/stats/articles": {
            "get": operation(
                STATS,
                "Articles",
                "Per article: page views, visits, visitors, engaged time, readers now, title; "
                "of the events that pass the filters.",
                {"200": _json_or_csv("One row per article.", "ArticlesResults"), **STATS_ERRORS},
                [*PERIOD_PARAMS, FILTERS, SORT, LIMIT, PAGE, FORMAT],
            )
        },
        "/api/v1/stats/articles/{article}": {
            "get": operation(
                STATS,
                "One article",
                "Its totals, its time series, where its readers came from, readers now.",
                {"200": answer("The article.", ref("Article")), **STATS_ERRORS},
                [path_param("article", "The article id."), *PERIOD_PARAMS, INTERVAL],
            )
        },
        "/api/v1/sites": {
            "get": operation(
                SITES,
                "List sites",
                "The sites the caller may read (`stats:read`).",
                {
                    "200": answer(
                        "The sites.",
                        {
                            "type": "object",
                            "properties": {
                                "sites": {"type": "array", "items": ref("SiteDocument")}
                            },
                            "required": ["sites"],
                        },
                    ),
                    **errors(401, 403),
                },
            ),
            "post": operation(
                SITES,
                "Add a site",
                "Needs `sites:write` on the new site's domain.",
                {
                    "201": answer("The site.", ref("SiteDocument")),
                    **errors(400, 401, 403, 409, 413),
                },
                request_body=body(ref("Site"), example=SITE_EXAMPLE),
            ),
        },
        "/api/v1/sites/{domain}": {
            "parameters": [site_domain],
            "get": operation(
                SITES,
                "One site",
                "Needs `stats:read` on it.",
                {"200": answer("The site.", ref("SiteDocument")), **errors(401, 403, 404)},
            ),
            "put": operation(
                SITES,
                "Change a site",
                "Changes the fields given, keeps the others. Needs `sites:write` on it.",
                {
                    "200": answer("The site.", ref("SiteDocument")),
                    **errors(400, 401, 403, 404, 413),
                },
                request_body=body(ref("SiteChanges")),
            ),
            "delete": operation(
                SITES,
                "Delete a site",
                "Its events stay in ClickHouse. Needs `sites:write` on it.",
                {"200": answer("Deleted.", ref("Deleted")), **errors(401, 403, 404)},
            ),
        },
        "/api/v1/users": {
            "get": operation(
                ADMIN,
                "List users",
                "Admins only.",
                {
                    "200": answer(
                        "The users.",
                        {
                            "type": "object",
                            "properties": {"users": {"type": "array", "items": ref("User")}},
                            "required": ["users"],
                        },
                    ),
                    **errors(401, 403),
                },
            ),
            "post": operation(
                ADMIN,
                "Add a user",
                "Admins only. An editor reads the sites given; an admin everything.",
                {"201": answer("The user.", ref("User")), **errors(400, 401, 403, 409, 413)},
                request_body=body(ref("NewUser")),
            ),
        },
        "/api/v1/users/{email}": {
            "parameters": [path_param("email", "The user's e-mail address.")],
            "put": operation(
                ADMIN,
                "Change a user",
                "Admins only. A new password ends the user's sessions.",
                {"200": answer("The user.", ref("User")), **errors(400, 401, 403, 404, 413)},
                request_body=body(ref("UserChanges")),
            ),
            "delete": operation(
                ADMIN,
                "Delete a user",
                "Admins only. Ends the user's sessions.",
                {"200": answer("Deleted.", ref("Deleted")), **errors(401, 403, 404)},
            ),
        },
        "/api/v1/tokens": {
            "get": operation(
                ADMIN,
                "List API tokens",
                "Admins only; without their secrets.",
                {
                    "200": answer(
                        "The tokens.",
                        {
                            "type": "object",
                            "properties": {"tokens": {"type": "array", "items": ref("Token")}},
                            "required": ["tokens"],
                        },
                    ),
                    **errors(401, 403),
                },
            ),
            "post": operation(
                ADMIN,
                "Create an API token",
                "Admins only. Scopes: " + ", ".join(f"`{s}`" for s in SCOPES) + "; sites "
                "empty for every site. The answer holds the secret, the only time it is shown.",
                {
                    "201": answer("The token and its secret.", ref("NewTokenAnswer")),
                    **errors(400, 401, 403, 413),
                },
                request_body=body(ref("NewToken")),
            ),
        },
        "/api/v1/tokens/{id}": {
            "parameters": [path_param("id", "The token's id.")],
            "delete": operation(
                ADMIN,
                "Revoke an API token",
                "Admins only.",
                {"200": answer("Revoked.", ref("Deleted")), **errors(401, 403, 404)},
            ),
        },
        "/api/v1/session": {
            "get": operation(
                ADMIN,
                "Who is logged in",
                "The session cookie's user, and the CSRF token the dashboard's scripts send "
                "(`X-CSRF-Token`) with calls other than GET.",
                {"200": answer("The user.", ref("Session")), **errors(401)},
                security=SESSION_ONLY,
            )
        },
        "/api/v1/status": {
            "get": operation(
                ADMIN,
                "Operator's status",
                "Admins only: the stream, the aggregators, ClickHouse's newest event, the "
                "sites' traffic. A store that does not answer is listed under `problems`.",
                {"200": answer("The status.", ref("Status")), **errors(401, 403)},
            )
        },
        "/api/event": {
            "post": operation(
                EVENTS,
                "Send an event",
                "Plausible's Events API, as its tracker sends it: JSON, or the same as "
                "`text/plain` (sendBeacon). Answered 202 once stored; a dropped event "
                "(a bot, an excluded address or path) is answered 202 too, with the reason "
                "in `X-Footfall-Dropped`.",
                {
                    "202": {
                        "description": "Accepted (or dropped, see `X-Footfall-Dropped`).",
                        "headers": DROPPED,
                        "content": {"text/plain": {"schema": {"const": "ok"}}},
                    },
                    **errors(400, 403, 404, 413, 429, 503),
                },
                request_body={
                    "required": True,
                    "content": {
                        JSON: {"schema": ref("Event"), "example": EVENT_EXAMPLE},
                        "text/plain": {"schema": {"type": "string"}},
                    },
                },
                security=PUBLIC,
            ),
            "options": _preflight(),
        },
        "/api/events": {
            "post": operation(
                EVENTS,
                "Send events in a batch",
                "For servers: up to 1000 events, all stored or none. With a token "
                "(`events:write`, on the events' sites) each event may carry the visitor's "
                "`ip` and `ua`.",
                {
                    "202": answer("Stored.", ref("BatchAnswer")),
                    **errors(400, 401, 403, 404, 413, 429, 503),
                },
                request_body=body(
                    {"type": "array", "items": ref("Event"), "minItems": 1, "maxItems": 1000},
                    example=[EVENT_EXAMPLE],
                ),
                security=[{"bearer": []}, {}],
            ),
            "options": _preflight(),
        },
        "/api/counters": {
            "get": operation(
                EVENTS,
                "Public counters",
                "Total visits (or page views), online now, and an article's views and readers "
                "now, for sites with public counters. Cached up to 5 s; open CORS.",
                {
                    "200": answer("The counters.", ref("Counters"), headers=CACHING),
                    "304": {"description": "Unchanged since `If-None-Match`.", "headers": CACHING},
                    **errors(400, 404, 503),
                },
                [
                    query("d", {"type": "string"}, "The site's domain.", required=True),
                    query("a", {"type": "string"}, "An article id."),
                    query("u", {"type": "string"}, "A page URL, for its article id."),
                    {"name": "If-None-Match", "in": "header", "schema": {"type": "string"}},
                ],
                security=PUBLIC,
            )
        },
        "/api/v1/openapi.json": {
            "get": operation(
                DOCS,
                "This document",
                "The OpenAPI 3.1 document of the operations this server serves.",
                {"200": answer("The document.", {"type": "object"})},
                security=PUBLIC,
            )
        },
        "/api/docs": {
            "get": operation(
                DOCS,
                "This document, to read",
                "The same document as a web page.",
                {"200": {"description": "HTML", "content": {"text/html": {"schema": {}}}}},
                security=PUBLIC,
            )
        },
    }


DROPPED = {
    "X-Footfall-Dropped": {
        "description": "Why the event was not counted (`bot`, `excluded_ip`, ...).",
        "schema": {"type": "string"},
    }
}
CACHING = {
    "ETag": {"schema": {"type": "string"}},
    "Cache-Control": {"schema": {"type": "string"}},
}


def _preflight() -> Schema:
    return operation(
        EVENTS,
        "CORS preflight",
        "Lets any page send events.",
        {"204": {"description": "Allowed."}},
        security=PUBLIC,
    )


# -- the document ------------------------------------------------------------------------------


@functools.cache
def document() -> dict[str, Any]:
    """The whole document: every operation footfall's servers have."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "footfall",
            "version": footfall.__version__,
            "description": "Self-hosted traffic analytics. The Stats API answers as Plausible's "
            "Stats API v1 does, so its clients work unchanged; footfall adds articles, public "
            "counters, and the Sites, users and tokens APIs. Authenticate with "
            "`Authorization: Bearer TOKEN` (an API token, or the deployment's admin token); "
            "the dashboard's pages use their session cookie. Every error is JSON: "
            '`{"error": "...", "field": "..."}`.',
        },
        "tags": [
            {"name": STATS, "description": "Plausible's Stats API v1, and footfall's articles."},
            {"name": SITES, "description": "The sites footfall counts."},
            {"name": ADMIN, "description": "Who may do what."},
            {"name": EVENTS, "description": "What pages send, and the counters they show."},
            {"name": DOCS, "description": "This description of the API."},
        ],
        "security": [{"bearer": []}, {"session": []}],
        "paths": _paths(),
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API token (`ff_...`) or the admin token.",
                },
                "session": {"type": "apiKey", "in": "cookie", "name": SESSION_COOKIE},
            },
            "schemas": _schemas(),
        },
    }


def operations(doc: dict[str, Any]) -> set[tuple[str, str]]:
    """(METHOD, path) of every operation of a document."""
    return {
        (method.upper(), path)
        for path, item in doc["paths"].items()
        for method in item
        if method in METHODS
    }


def routes(app: web.Application) -> set[tuple[str, str]]:
    """(METHOD, path) of every route `app` serves under `/api/` (not the HEADs aiohttp adds)."""
    return {
        (route.method, route.resource.canonical)
        for route in app.router.routes()
        if route.resource is not None
        and route.resource.canonical.startswith("/api/")
        and route.method != "HEAD"
    }


def document_for(app: web.Application) -> dict[str, Any]:
    """The document narrowed to the operations `app` serves."""
    return narrowed(document(), routes(app))


def narrowed(doc: dict[str, Any], served: Set[tuple[str, str]]) -> dict[str, Any]:
    """`doc` without the operations not in `served` (and paths left with none)."""
    paths = {}
    for path, item in doc["paths"].items():
        kept = {k: v for k, v in item.items() if k not in METHODS or (k.upper(), path) in served}
        if any(k in METHODS for k in kept):
            paths[path] = kept
    return {**doc, "paths": paths}
