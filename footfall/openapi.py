"""The OpenAPI 3.1 document of footfall's HTTP API, merged from the parts each room mounts.

A room declares its HTTP operations as `Route`s, each a row holding what the
router needs (method, path, handler) and what the document says of it; a
`Part` gathers a room's routes under its tag, with the schemas they name,
built from the room's own msgspec types (`struct_schemas`, `answer_schemas`).
`mount(app, part)` adds the routes to the application and the part to those it
serves, so the document of an application (`document_for`) is made of exactly
the parts mounted on it: every one on `footfall serve`, the collector's on
`footfall collector`, the dashboard's on `footfall dashboard` (each with the
operations and `DOCUMENT`: every application serves its own at
`/api/v1/openapi.json`). Tags are listed by their `order`, whichever room
mounts first.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

import msgspec
import orjson
from aiohttp import web

import footfall

Schema = dict[str, Any]
Security = list[dict[str, list[str]]]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
JSON = "application/json"
REF = "#/components/schemas/{name}"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch")

PUBLIC: Security = []
"""No authentication."""
BEARER = {
    "bearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "An API token (`ff_...`) or the admin token.",
    }
}

INFO = {
    "title": "footfall",
    "version": footfall.__version__,
    "description": "Self-hosted traffic analytics. The Stats API answers as Plausible's Stats "
    "API v1 does, so its clients work unchanged; footfall adds articles, public counters, and "
    "the Sites, users and tokens APIs. Authenticate with `Authorization: Bearer TOKEN` (an API "
    "token, or the deployment's admin token); the dashboard's pages use their session cookie. "
    'Every error is JSON: `{"error": "...", "field": "..."}`.',
}


class Error(msgspec.Struct):
    """Every error footfall answers, with a 4xx (or 5xx) status. Plausible's Stats API answers
    the same `error`."""

    error: Annotated[str, msgspec.Meta(description="What is wrong.")]
    field: (
        Annotated[
            str, msgspec.Meta(description="The body field or parameter at fault, when one is.")
        ]
        | msgspec.UnsetType
    ) = msgspec.UNSET


# -- pieces of an operation --------------------------------------------------------------------


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


# -- schemas from types ------------------------------------------------------------------------


def struct_schemas(*types: Any) -> dict[str, Schema]:
    """msgspec's schemas of `types` (and of the structs they hold), named after them."""
    _, components = msgspec.json.schema_components(types, ref_template=REF)
    return components


def answer_schemas(*types: type[msgspec.Struct]) -> dict[str, Schema]:
    """As `struct_schemas`, for structs that are answered: each field is in the answer
    (required, no default) but those left UNSET, and no other."""
    components = struct_schemas(*types)
    for struct in types:
        schema = components[struct.__name__]
        present = [f for f in msgspec.structs.fields(struct) if f.default is not msgspec.UNSET]
        for f in present:
            schema["properties"][f.encode_name].pop("default", None)
        schema["required"] = [f.encode_name for f in present]
        schema["additionalProperties"] = False
    return components


# -- what a room declares ----------------------------------------------------------------------


@dataclass(frozen=True)
class Tag:
    name: str
    description: str
    order: int
    """Where its operations stand in the document (and on /api/docs)."""


@dataclass(frozen=True, eq=False)
class Route:
    """One operation: what the router needs, and what the document says of it."""

    method: str
    path: str
    handler: Handler
    summary: str
    description: str
    responses: dict[str, Schema]
    parameters: tuple[Schema, ...] = ()
    body: Schema | None = None
    security: Security | None = None
    """None: the part's."""

    def operation(self, part: Part) -> Schema:
        op: Schema = {"tags": [part.tag.name], "summary": self.summary}
        op["description"] = self.description
        if self.parameters:
            op["parameters"] = list(self.parameters)
        if self.body:
            op["requestBody"] = self.body
        op["responses"] = self.responses
        op["security"] = part.security if self.security is None else self.security
        return op


@dataclass(frozen=True, eq=False)
class Part:
    """A room's share of the API: its routes under one tag, and the schemas they name."""

    tag: Tag
    routes: tuple[Route, ...]
    schemas: Callable[[], dict[str, Schema]] = dict
    """Built when the document is, not at import."""
    security: Security = field(default_factory=list)
    """Who may call the routes that do not say."""
    security_schemes: Mapping[str, Schema] = field(default_factory=dict)


PARTS = web.AppKey("openapi_parts", list[Part])


def mount(app: web.Application, part: Part) -> None:
    """Serve the part's routes on `app`, and document them in its document."""
    for route in part.routes:
        if route.method == "GET":  # with HEAD, as aiohttp's add_get
            app.router.add_get(route.path, route.handler)
        else:
            app.router.add_route(route.method, route.path, route.handler)
    if PARTS not in app:
        app[PARTS] = []
    app[PARTS].append(part)


# -- the document ------------------------------------------------------------------------------


def document_for(app: web.Application) -> Schema:
    """The document of the operations `app` serves: the parts mounted on it."""
    return document(tuple(app.get(PARTS, ())))


@functools.cache
def document(parts: tuple[Part, ...]) -> Schema:
    """The parts merged: each schema once (two parts naming one must agree on it), and
    the `Error` every part's `errors` name."""
    tags = {part.tag.name: part.tag for part in parts}
    paths: dict[str, Schema] = {}
    schemas: dict[str, Schema] = struct_schemas(Error)
    schemes: dict[str, Schema] = {}
    for part in parts:
        for route in part.routes:
            paths.setdefault(route.path, {})[route.method.lower()] = route.operation(part)
        for name, schema in part.schemas().items():
            if schemas.setdefault(name, schema) != schema:
                raise ValueError(f"two parts of the document define {name} unlike")
        schemes.update(part.security_schemes)
    return {
        "openapi": "3.1.0",
        "info": INFO,
        "tags": [
            {"name": tag.name, "description": tag.description}
            for tag in sorted(tags.values(), key=lambda tag: tag.order)
        ],
        "paths": paths,
        "components": {"securitySchemes": schemes, "schemas": schemas},
    }


def operations(doc: Schema) -> set[tuple[str, str]]:
    """(METHOD, path) of every operation of a document."""
    return {
        (method.upper(), path)
        for path, item in doc["paths"].items()
        for method in item
        if method in METHODS
    }


def routes(app: web.Application) -> set[tuple[str, str]]:
    """(METHOD, path) of every route `app` serves (not the HEADs aiohttp adds)."""
    return {
        (route.method, route.resource.canonical)
        for route in app.router.routes()
        if route.resource is not None and route.method != "HEAD"
    }


async def serve_document(request: web.Request) -> web.Response:
    """`GET /api/v1/openapi.json`: public, as the API's shape is no secret."""
    return web.Response(
        body=_json(tuple(request.app[PARTS])),
        content_type="application/json",
        headers={"Access-Control-Allow-Origin": "*"},
    )


@functools.lru_cache(maxsize=4)
def _json(parts: tuple[Part, ...]) -> bytes:
    # Keyed on the parts: one server has one list, so this is built once.
    return orjson.dumps(document(parts))


DOCS = Tag("This document", "This description of the API.", order=50)
DOCUMENT = Part(
    DOCS,
    (
        Route(
            "GET",
            "/api/v1/openapi.json",
            serve_document,
            "This document",
            "The OpenAPI 3.1 document of the operations this server serves.",
            {"200": answer("The document.", {"type": "object"})},
        ),
    ),
    security=PUBLIC,
)
