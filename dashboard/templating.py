"""What every HTML page of the dashboard gets: template helpers and security headers.

`install(app)` loads the static files and gives every template (rendered by
`dashboard.render`, which always passes `request`) these globals:

* `t(key, **values)`: a message in the request's language; `lang()` its code;
* `static_url(name)`: a file's versioned URL; `import_map()`: the page's
  import map, which sends the JavaScript modules to their versioned URLs.

Every HTML response gets a Content-Security-Policy: scripts and styles from
this server only (plus the one inline script, the import map, allowed by its
hash), so even a bug that let a tracked page's text become markup could not
run it.
"""

from __future__ import annotations

import base64
import hashlib

import jinja2
from aiohttp import web
from markupsafe import Markup

from dashboard import appkeys, i18n
from dashboard.render import environment
from dashboard.static_files import StaticFiles


def install(app: web.Application) -> None:
    static = app[appkeys.STATIC] = StaticFiles()
    environment().globals.update(t=_t, lang=_lang, static_url=_static_url, import_map=_import_map)
    headers = {
        "Content-Security-Policy": content_security_policy(static),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
    }

    async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
        if response.content_type == "text/html":
            for name, value in headers.items():
                response.headers.setdefault(name, value)

    app.on_response_prepare.append(security_headers)


def content_security_policy(static: StaticFiles) -> str:
    digest = base64.b64encode(hashlib.sha256(_map_text(static).encode()).digest()).decode()
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' 'sha256-{digest}'",
            "style-src 'self'",
            "img-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def _map_text(static: StaticFiles) -> str:
    # "<" escaped: the map sits in a <script> element (file names are ours, but still).
    return static.import_map().replace("<", "\\u003c")


@jinja2.pass_context
def _t(context: jinja2.runtime.Context, key: str, **values: object) -> str:
    return i18n.translate(i18n.language(context["request"]), key, **values)


@jinja2.pass_context
def _lang(context: jinja2.runtime.Context) -> str:
    return i18n.language(context["request"])


@jinja2.pass_context
def _static_url(context: jinja2.runtime.Context, name: str) -> str:
    return context["request"].app[appkeys.STATIC].url(name)


@jinja2.pass_context
def _import_map(context: jinja2.runtime.Context) -> Markup:
    return Markup(_map_text(context["request"].app[appkeys.STATIC]))
