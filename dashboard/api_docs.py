"""`GET /api/docs`: the OpenAPI document (`/api/v1/openapi.json`) as a page to read.

Public, as the document is, and showing the operations this very server
serves: the parts mounted on it (`openapi.document_for`). The page is rendered
here, server-side, from the same dict: no viewer script, no Node build, no network.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
from aiohttp import web
from markupsafe import Markup, escape

from dashboard.render import render
from footfall import openapi
from footfall.openapi import PUBLIC, Route

_CODE = re.compile(r"`([^`]+)`")
METHOD_ORDER = ("get", "post", "put", "delete", "options")
CONSTRAINTS = (
    ("minLength", "min length"),
    ("maxLength", "max length"),
    ("minimum", "min"),
    ("maximum", "max"),
    ("minItems", "min items"),
    ("maxItems", "max items"),
    ("maxProperties", "max keys"),
    ("pattern", "pattern"),
    ("default", "default"),
)


def setup(app: web.Application) -> None:
    openapi.mount(app, API)


async def docs_page(request: web.Request) -> web.Response:
    doc = openapi.document_for(request.app)
    context = {
        "doc": doc,
        "sections": sections(doc),
        "schema_html": schema_html,
        "text_html": text_html,
    }
    response = render(request, "api_docs.html", context)
    # Unlike the pages with a CSRF token, this one may be cached briefly.
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


# -- the page's view of the document -----------------------------------------------------------


def sections(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """[{name, description, operations: [...]}] in the document's tag order."""
    by_tag: dict[str, list[dict[str, Any]]] = {t["name"]: [] for t in doc.get("tags", [])}
    for path, item in doc["paths"].items():
        shared = item.get("parameters", [])
        for method in METHOD_ORDER:
            op = item.get(method)
            if op is None:
                continue
            by_tag.setdefault(op["tags"][0], []).append(_operation(doc, method, path, op, shared))
    descriptions = {t["name"]: t.get("description", "") for t in doc.get("tags", [])}
    return [
        {"name": name, "description": descriptions.get(name, ""), "operations": ops}
        for name, ops in by_tag.items()
        if ops
    ]


def _operation(
    doc: dict[str, Any], method: str, path: str, op: dict[str, Any], shared: list[dict[str, Any]]
) -> dict[str, Any]:
    security = op.get("security", doc.get("security", []))
    body = op.get("requestBody")
    return {
        "id": f"{method}-{path}".replace("/", "-").replace("{", "").replace("}", ""),
        "method": method.upper(),
        "path": path,
        "summary": op.get("summary", ""),
        "description": op.get("description", ""),
        "auth": _auth_text(security),
        "parameters": [*shared, *op.get("parameters", [])],
        "body": _content(body["content"]) if body else [],
        "responses": [
            {
                "status": status,
                "description": response.get("description", ""),
                "content": _content(response.get("content", {})),
                "headers": list(response.get("headers", {})),
            }
            for status, response in op["responses"].items()
        ],
    }


def _content(content: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "type": kind,
            "schema": media.get("schema", {}),
            "example": _pretty(media["example"]) if "example" in media else "",
        }
        for kind, media in content.items()
    ]


def _literal(value: object, key: str) -> str:
    # A pattern is shown as written, not as a JSON string with its backslashes doubled.
    return value if key == "pattern" and isinstance(value, str) else orjson.dumps(value).decode()


def _pretty(value: object) -> str:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()


def _auth_text(security: list[dict[str, list[str]]]) -> str:
    names = {"bearer": "Bearer token", "session": "session cookie"}
    if not security or all(not s for s in security):
        return "none"
    text = " or ".join(names.get(k, k) for s in security for k in s)
    return text + (" (optional)" if any(not s for s in security) else "")


def text_html(text: str) -> Markup:
    """A description, escaped, with its `code` spans as <code>."""
    return Markup(_CODE.sub(r"<code>\1</code>", str(escape(text))))


def schema_html(schema: dict[str, Any]) -> Markup:
    """A schema as readable HTML: types, enumerations, fields; `$ref`s as links."""
    return Markup(_schema(schema))


def _schema(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        return f'<a href="#schema-{escape(name)}">{escape(name)}</a>'
    if "const" in schema:
        return f"<code>{escape(orjson.dumps(schema['const']).decode())}</code>"
    if "enum" in schema:
        values = " | ".join(
            f"<code>{escape(orjson.dumps(v).decode())}</code>" for v in schema["enum"]
        )
        return values + _constraints(schema)
    for combinator in ("anyOf", "oneOf"):
        if combinator in schema:
            return " | ".join(_schema(s) for s in schema[combinator]) + _constraints(schema)
    kind = schema.get("type", "any")
    if isinstance(kind, list):
        kind = " | ".join(kind)
    if kind == "array":
        return f"array of {_schema(schema.get('items', {}))}{_constraints(schema)}"
    if kind == "object" and "properties" in schema:
        return _object(schema)
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        inner = _schema(schema["additionalProperties"])
        inner = f"({inner})" if " | " in inner else inner
        names = schema.get("propertyNames", {})
        key = f"({_schema(names)})" if "enum" in names else "string"
        return f"map of {key} to {inner}{_constraints(schema)}"
    return f"<span class=type>{escape(kind)}</span>{_constraints(schema)}"


def _object(schema: dict[str, Any]) -> str:
    required = set(schema.get("required", []))
    rows = []
    for name, prop in schema["properties"].items():
        mark = ' <span class="required" title="required">*</span>' if name in required else ""
        description = prop.get("description", "")
        note = f' <span class="note">{text_html(description)}</span>' if description else ""
        rows.append(f"<li><code>{escape(name)}</code>{mark}: {_schema(prop)}{note}</li>")
    extra = "" if schema.get("additionalProperties") is not False else " (no other fields)"
    described = schema.get("description", "")
    head = f'<span class="note">{text_html(described)}</span>' if described else ""
    return f'object{extra}{head}<ul class="fields">{"".join(rows)}</ul>'


def _constraints(schema: dict[str, Any]) -> str:
    parts = [
        f"{label} <code>{escape(_literal(schema[key], key))}</code>"
        for key, label in CONSTRAINTS
        if key in schema
    ]
    return f' <span class="constraints">({", ".join(parts)})</span>' if parts else ""


API = openapi.Part(
    openapi.DOCS,
    (
        Route(
            "GET",
            "/api/docs",
            docs_page,
            "This document, to read",
            "The same document as a web page.",
            {"200": {"description": "HTML", "content": {"text/html": {"schema": {}}}}},
        ),
    ),
    security=PUBLIC,
)
