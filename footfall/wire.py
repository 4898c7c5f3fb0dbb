"""The event on its way from the collector to the aggregator: one contract for both ends.

The collector's pipeline makes one `StreamEvent` per site of a hit; the committer
hands it, encoded with msgpack, to `collector/ingest.lua`, which adds it to the
site's stream (`keys.stream`) as the entry's field `e`, beside what the script
decided about the event's visit atomically with the presence update: `nv` "1"
when the event starts a visit, `vs` the visit's start (ms, "0" when the event is
outside any visit), `vn` its page view number in the visit, `vd` the
milliseconds it adds to the visit's duration, and, on the later events of a
visit, `ve` the event that started it (its `e`, as the script keeps it in the
visit's key), whose properties the aggregator stamps on the event's row (`visit_*`
columns). The aggregator reads the entry back into the same `StreamEvent`, visit
included (`decode_entry`, `visit_entry_of`), and makes its row of it: no field is
named or computed twice on the way.

An event carries its site's date, as the collector dated it: the day whose salt
made its visitor id. An entry an older collector wrote (still in the stream when
a new aggregator starts after an upgrade) has none: it is read with `date`
`UNDATED`, and its reader dates it from the site's timezone, as before.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import msgspec

EventType = Literal["pageview", "engagement", "custom"]
UNDATED = -1
"""The `date` of an event written before events carried theirs."""
_EPOCH = dt.date(1970, 1, 1)


class StreamEvent(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):
    ts: int
    """Server time of arrival, milliseconds since the epoch, UTC."""
    site: str
    date: int
    """The day at `ts` in the site's timezone, in days since 1970-01-01 (as ClickHouse
    stores a `Date`)."""
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


class _Undated(StreamEvent):
    """An event as collectors wrote it before events carried their date."""

    date: int = UNDATED


_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(StreamEvent)
_undated = msgspec.msgpack.Decoder(_Undated)


def encode_event(event: StreamEvent) -> bytes:
    """The entry's `e`: the event without its visit, which `ingest.lua` decides."""
    return _encoder.encode(event)


def stream_entry(
    event: StreamEvent,
    new_visit: bool,
    visit_start: int,
    number: int,
    duration_ms: int,
    entry: bytes = b"",
) -> dict[str, bytes | int]:
    """The entry `ingest.lua` adds for `event`, for writers that decide visits themselves
    (the importer, benchmarks and tests); `entry` the encoded event that started its
    visit, for an event after it."""
    fields: dict[str, bytes | int] = {
        "e": encode_event(event),
        "nv": b"1" if new_visit else b"0",
        "vs": visit_start,
        "vn": number,
        "vd": duration_ms,
    }
    if entry:
        fields["ve"] = entry
    return fields


def decode_entry(fields: dict[bytes, bytes]) -> StreamEvent:
    """The event of one stream entry, with what `ingest.lua` decided about its visit."""
    event = decode_event(fields[b"e"])
    event.new_visit = fields[b"nv"] == b"1"
    event.visit_start = int(fields[b"vs"])
    event.pageview_number = int(fields[b"vn"])
    event.duration_ms = int(fields[b"vd"])
    return event


def visit_entry_of(fields: dict[bytes, bytes]) -> bytes:
    """The encoded event that started an entry's visit; empty for a visit's first event,
    an event outside any visit, or a visit an older collector started."""
    return fields.get(b"ve", b"")


def decode_event(payload: bytes) -> StreamEvent:
    """An encoded event (`e`, `ve`), without the visit its entry says."""
    try:
        return _decoder.decode(payload)
    except msgspec.ValidationError:
        return _undated.decode(payload)  # raises again when not for want of a date


def days_since_epoch(date: dt.date) -> int:
    """A date as an event (and ClickHouse's `Date`) holds it."""
    return (date - _EPOCH).days


def date_from_days(days: int) -> dt.date:
    return _EPOCH + dt.timedelta(days=days)


def payload_of(fields: dict[bytes, bytes]) -> bytes:
    """The encoded event of an entry, as a dead letter keeps it."""
    return fields.get(b"e", b"")
