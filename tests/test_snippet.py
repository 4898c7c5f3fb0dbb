"""GET /snippet.js: small, precompressed, cacheable for long, revalidated by content hash."""

from __future__ import annotations

import gzip
from importlib import resources

SOURCE = resources.files("collector").joinpath("static/snippet.js").read_bytes()


def test_the_snippet_is_at_most_1500_bytes_gzipped():
    assert len(gzip.compress(SOURCE, 9)) <= 1500


async def test_the_snippet_is_served_gzipped_with_a_long_cache_and_an_etag(client):
    response = await client.get("/snippet.js", headers={"Accept-Encoding": "gzip"})
    assert response.status == 200
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.headers["Content-Type"].startswith("application/javascript")
    assert "max-age=86400" in response.headers["Cache-Control"]
    assert await response.read() == SOURCE  # the client un-gzips it
    again = await client.get("/snippet.js", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status == 304


async def test_the_etag_is_the_content_hash(client):
    import hashlib

    response = await client.get("/snippet.js")
    assert response.headers["ETag"] == f'"{hashlib.sha256(SOURCE).hexdigest()[:16]}"'
