"""Reading request bodies: JSON for the admin APIs (size-limited, 413 past the limit), and
the forms of the pages (400 for one that cannot be decoded); and what a DELETE answers."""

from __future__ import annotations

from typing import Literal

import msgspec
from aiohttp import web
from multidict import MultiDictProxy

from footfall.web import ApiError

MAX_BODY = 16 * 1024


class Deleted(msgspec.Struct):
    deleted: Literal[True]


DELETED = Deleted(True)


async def read_body(request: web.Request, limit: int = MAX_BODY) -> bytes:
    if request.content_length is not None and request.content_length > limit:
        raise ApiError(413, f"body larger than {limit} bytes")
    body = await request.content.read(limit + 1)
    if len(body) > limit:
        raise ApiError(413, f"body larger than {limit} bytes")
    return body


async def read_form(request: web.Request) -> MultiDictProxy[str | bytes | web.FileField]:
    """The posted form; a charset the client names that does not exist, or bytes that are
    not in it, is the client's mistake (400), not ours."""
    try:
        return await request.post()
    except (LookupError, UnicodeDecodeError) as e:
        raise ApiError(400, f"the form cannot be decoded: {e}", "Content-Type") from None
