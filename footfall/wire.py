"""The event as it travels in the Redis stream, from the collector to the aggregator.

Each stream entry has two fields: `e`, the event encoded with msgpack, and `nv`,
"1" when the event starts a visit. The new-visit flag is a field of its own
because Redis decides it, atomically with the presence update, while the event
was encoded before.
"""

from __future__ import annotations

from typing import Literal

import msgspec

EventType = Literal["pageview", "engagement", "custom"]
FIELD_EVENT = b"e"
FIELD_NEW_VISIT = b"nv"


class StreamEvent(msgspec.Struct, kw_only=True, omit_defaults=True):
    ts: int
    """Server time of arrival, milliseconds since the epoch, UTC."""
    site: str
    type: EventType
    name: str
    """`pageview`, `engagement`, or the custom event's name."""
    url: str
    visitor_id: int
    """64-bit keyed hash of (daily salt, site, IP, user agent); never the IP itself."""
    new_visit: bool = False
    referrer: str = ""
    article: str = ""
    title: str = ""
    pageview_id: str = ""
    country: str = ""
    """ISO 3166-1 alpha-2, "" when unknown."""
    user_agent: str = ""
    props: dict[str, str] = {}
    engaged_ms: int = 0
    scroll_depth: int = -1
    """Percent 0-100, -1 when not reported."""
    screen_width: int = 0
    hash_mode: bool = False


_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(StreamEvent)


def encode_event(event: StreamEvent) -> bytes:
    return _encoder.encode(event)


def decode_entry(fields: dict[bytes, bytes]) -> StreamEvent:
    """The event of one stream entry, with its new-visit flag applied."""
    event = _decoder.decode(fields[FIELD_EVENT])
    event.new_visit = fields.get(FIELD_NEW_VISIT) == b"1"
    return event
