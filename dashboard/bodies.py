"""Reading a JSON request body for the admin APIs: size-limited, 413 past the limit."""

from __future__ import annotations

from aiohttp import web

from footfall.web import ApiError

MAX_BODY = 16 * 1024


async def read_body(request: web.Request, limit: int = MAX_BODY) -> bytes:
    if request.content_length is not None and request.content_length > limit:
        raise ApiError(413, f"body larger than {limit} bytes")
    body = await request.content.read(limit + 1)
    if len(body) > limit:
        raise ApiError(413, f"body larger than {limit} bytes")
    return body
