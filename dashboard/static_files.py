"""The dashboard's static files at `/static/`: read once, served from memory, cached by browsers.

Every file under `dashboard/static/` is loaded at start with its content hash.
Templates link files by `static_url(name)`, which adds `?v=<hash>`: such a URL
never changes content, so it is answered `immutable` for a year. A URL without
the current hash (an old page, a hand-typed link) is answered `no-cache` with an
ETag, so a browser revalidates it. The JavaScript modules import each other by
plain relative paths; the page's import map (`import_map()`) points each of
them at its versioned URL, so they are cached the same way. Text files are kept
gzipped too, and sent so to browsers that accept it.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path

import orjson
from aiohttp import web

STATIC_DIR = Path(__file__).parent / "static"
PREFIX = "/static/"
FOREVER = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
_COMPRESSIBLE = (".js", ".css", ".svg", ".json", ".txt", ".html")
_TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}


@dataclass(frozen=True)
class StaticFile:
    body: bytes
    gzipped: bytes | None
    content_type: str
    version: str  # the first 12 hex digits of the content's SHA-256

    @property
    def etag(self) -> str:
        return f'"{self.version}"'


class StaticFiles:
    """The files under one folder, by their path relative to it ("js/site.js")."""

    def __init__(self, root: Path = STATIC_DIR):
        self.files: dict[str, StaticFile] = {}
        for path in sorted(root.rglob("*")):
            if path.is_file():
                self.files[path.relative_to(root).as_posix()] = _load(path)

    def url(self, name: str) -> str:
        """The versioned URL of a file (a missing file is a bug in a template: KeyError)."""
        return f"{PREFIX}{name}?v={self.files[name].version}"

    def import_map(self) -> str:
        """The JSON of an import map sending every module's plain URL to its versioned one."""
        imports = {PREFIX + n: self.url(n) for n in self.files if n.endswith(".js")}
        return orjson.dumps({"imports": imports}).decode()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        file = self.files.get(name)
        if file is None:
            raise web.HTTPNotFound()
        versioned = request.query.get("v") == file.version
        headers = {
            "Cache-Control": FOREVER if versioned else REVALIDATE,
            "ETag": file.etag,
            "Vary": "Accept-Encoding",
            "X-Content-Type-Options": "nosniff",
        }
        if file.etag in request.headers.get("If-None-Match", ""):
            return web.Response(status=304, headers=headers)
        body = file.body
        if file.gzipped is not None and "gzip" in request.headers.get("Accept-Encoding", ""):
            body = file.gzipped
            headers["Content-Encoding"] = "gzip"
        charset = "utf-8" if file.content_type.startswith("text/") else None
        return web.Response(
            body=body, content_type=file.content_type, charset=charset, headers=headers
        )


def _load(path: Path) -> StaticFile:
    body = path.read_bytes()
    gzipped = gzip.compress(body, 9, mtime=0) if path.suffix in _COMPRESSIBLE else None
    content_type = _TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "text/plain"
    return StaticFile(body, gzipped, content_type, hashlib.sha256(body).hexdigest()[:12])
