"""Serving the tracker script: precompressed, with a content-hash ETag and a day's cache."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
from importlib import resources

from aiohttp import web

from footfall.web import ANY_ORIGIN

CACHE_CONTROL = "public, max-age=86400, stale-while-revalidate=604800"


@dataclasses.dataclass(frozen=True)
class Snippet:
    source: bytes
    gzipped: bytes
    etag: str

    @classmethod
    def load(cls) -> Snippet:
        source = resources.files("collector").joinpath("static/snippet.js").read_bytes()
        digest = hashlib.sha256(source).hexdigest()[:16]
        return cls(source, gzip.compress(source, 9, mtime=0), f'"{digest}"')

    def response(self, request: web.Request) -> web.Response:
        headers = {
            "Cache-Control": CACHE_CONTROL,
            "ETag": self.etag,
            "Vary": "Accept-Encoding",
            **ANY_ORIGIN,
        }
        if self.etag in request.headers.get("If-None-Match", ""):
            return web.Response(status=304, headers=headers)
        body = self.source
        if "gzip" in request.headers.get("Accept-Encoding", ""):
            body = self.gzipped
            headers["Content-Encoding"] = "gzip"
        return web.Response(body=body, content_type="application/javascript", headers=headers)
