"""The event as it travels in the Redis stream, from the collector to the aggregator.

Each stream entry has the event encoded with msgpack (`e`) and, as fields of
their own, what Redis decided about its visit atomically with the presence
update (the event was encoded before): `nv` "1" when the event starts a visit,
`vs` the visit's start (ms, "0" when the event is outside any visit), `vn` its
page view number in the visit, `vd` the milliseconds it adds to the visit's
duration.
"""

from __future__ import annotations

from typing import Literal

import msgspec

EventType = Literal["pageview", "engagement", "custom"]


class StreamEvent(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):
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
    visit_start: int = 0
    """Start of the visit the event belongs to (ms), 0 when outside any visit."""
    pageview_number: int = 0
    """1 for a visit's first page view, 2 for its second...; 0 for other events."""
    duration_ms: int = 0
    """Time this event adds to its visit's duration: ms since the visit's previous event."""
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
    """The event of one stream entry, with what Redis decided about its visit."""
    event = _decoder.decode(fields[b"e"])
    event.new_visit = fields[b"nv"] == b"1"
    event.visit_start = int(fields[b"vs"])
    event.pageview_number = int(fields[b"vn"])
    event.duration_ms = int(fields[b"vd"])
    return event
