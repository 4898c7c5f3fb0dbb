"""HTML pages: jinja2 templates from `dashboard/templates/`, rendered with autoescape on.

Everything a page shows may have come from a tracked page (titles, paths,
referrers), so escaping is never optional. Every template gets `request` and
`csrf_token()`; pages carrying a CSRF token are not cached.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from dashboard.sessions import csrf_token

TEMPLATES_DIR = Path(__file__).parent / "templates"


@functools.cache
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(
    request: web.Request,
    template: str,
    context: dict[str, Any] | None = None,
    status: int = 200,
) -> web.Response:
    values = {"request": request, "csrf_token": functools.partial(csrf_token, request)}
    html = environment().get_template(template).render({**values, **(context or {})})
    return web.Response(
        text=html,
        status=status,
        content_type="text/html",
        headers={"Cache-Control": "no-store"},
    )
