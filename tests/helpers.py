"""Small readers of what the collector stored, for assertions."""

from __future__ import annotations

import redis

from footfall import keys
from footfall.wire import StreamEvent, decode_entry


def stream_events(redis_db: redis.Redis) -> list[StreamEvent]:
    return [decode_entry(fields) for _, fields in redis_db.xrange(keys.STREAM)]


def pageview(url: str = "https://news.example/news/story-1.html", **fields) -> dict:
    return {"n": "pageview", "u": url, **fields}
