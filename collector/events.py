"""The Events API wire format: decoding and validating what a page or a server sends.

Plausible's field names are accepted in their long and short forms (`u`/`url`,
`n`/`name`, ...), plus footfall's `a` (article), `ti` (title) and `pv`
(page-view id). A body decodes into `Hit`s, the normalized form the ingest
pipeline works on; anything wrong raises `Refused` naming the field.
"""

from __future__ import annotations

import re
from typing import Annotated

import msgspec

from collector.refusals import RefusalReason, Refused
from footfall.client_ip import canonical_ip, is_address
from footfall.urls import is_web_url, split_url
from footfall.validation import error_field, error_text

MAX_BODY = 64 * 1024
MAX_BATCH_BODY = 1024 * 1024
MAX_BATCH_EVENTS = 1000
MAX_URL = 2000
MAX_PROPS = 30
MAX_PROP = 300
MAX_ARTICLE = 200

Url = Annotated[str, msgspec.Meta(max_length=MAX_URL)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=120)]
PropValue = Annotated[str, msgspec.Meta(max_length=MAX_PROP)] | int | float | bool | None
Props = Annotated[
    dict[Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_PROP)], PropValue],
    msgspec.Meta(max_length=MAX_PROPS),
]
Short = Annotated[str, msgspec.Meta(max_length=MAX_PROP)]


class EventIn(msgspec.Struct):
    """One event, as Plausible's Events API sends it: each field in its short or long form
    (`u` or `url`...). Unknown fields (Plausible's `v`, `i`, ...) are ignored."""

    n: Name | None = None
    name: Name | None = None
    u: Url | None = None
    url: Url | None = None
    d: Annotated[str, msgspec.Meta(max_length=1000)] | None = None
    domain: Annotated[str, msgspec.Meta(max_length=1000)] | None = None
    r: Url | None = None
    referrer: Url | None = None
    p: Props | str | None = None
    props: Props | str | None = None
    m: Props | str | None = None
    meta: Props | str | None = None
    h: bool | int | None = None
    hashMode: bool | int | None = None
    e: Annotated[int, msgspec.Meta(ge=0, le=86_400_000)] | None = None
    sd: Annotated[int, msgspec.Meta(ge=0, le=100)] | None = None
    w: Annotated[int, msgspec.Meta(ge=0, le=100_000)] | None = None
    a: Annotated[str, msgspec.Meta(max_length=MAX_ARTICLE)] | int | None = None
    ti: Annotated[str, msgspec.Meta(max_length=MAX_URL)] | None = None
    pv: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    ip: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    ua: Annotated[str, msgspec.Meta(max_length=1000)] | None = None


class Hit(msgspec.Struct, gc=False):
    """A valid event, normalized: one name per field, props as strings.

    A msgspec struct: made for every event, and 3 times faster to make than a dataclass.
    """

    name: str
    url: str
    domains: list[str]
    host: str = ""
    """The page URL's host, lowercased, without `www.`."""
    referrer: str = ""
    props: dict[str, str] = {}  # msgspec gives each struct a new empty dict
    hash_mode: bool = False
    engaged_ms: int = 0
    scroll_depth: int = -1
    screen_width: int = 0
    article: str = ""
    title: str = ""
    pageview_id: str = ""
    ip: str | None = None
    user_agent: str | None = None


Batch = Annotated[list[EventIn], msgspec.Meta(min_length=1, max_length=MAX_BATCH_EVENTS)]
"""The body of `/api/events`."""

_single = msgspec.json.Decoder(EventIn)
_batch = msgspec.json.Decoder(Batch)
_props = msgspec.json.Decoder(Props)


def decode_event(body: bytes) -> Hit:
    return to_hit(_decode(_single, body), "")


def decode_batch(body: bytes) -> list[Hit]:
    return [to_hit(event, f"[{i}].") for i, event in enumerate(_decode(_batch, body))]


def _decode(decoder: msgspec.json.Decoder, body: bytes):  # type: ignore[no-untyped-def]
    if not body.strip():
        raise Refused(400, RefusalReason.INVALID, "empty body: send the event as JSON")
    try:
        return decoder.decode(body)
    except msgspec.ValidationError as e:
        raise Refused(400, RefusalReason.INVALID, error_text(str(e)), error_field(str(e))) from None
    except msgspec.DecodeError as e:
        raise Refused(400, RefusalReason.INVALID, f"malformed JSON: {e}") from None


def to_hit(event: EventIn, where: str) -> Hit:
    """Normalize one decoded event; `where` prefixes field names in errors (`[3].`)."""
    name = event.n or event.name
    if not name:
        raise _invalid(where + "n", "missing event name (n)")
    url = event.u or event.url
    if not url:
        raise _invalid(where + "u", "missing page URL (u)")
    if _has_control(url):
        raise _invalid(where + "u", "control characters in the page URL (u)")
    referrer = event.r or event.referrer or ""
    if _has_control(referrer):
        raise _invalid(where + "r", "control characters in the referrer (r)")
    host = split_url(url)[0] if is_web_url(url) else ""
    if not host:
        raise _invalid(where + "u", "only http and https page URLs are counted")
    domains = _domains(event.d or event.domain or host)
    if not domains:
        raise _invalid(where + "d", "missing domain (d)")
    ip = event.ip
    if ip is not None:
        if not is_address(ip):
            raise _invalid(where + "ip", "not an IP address")
        ip = canonical_ip(ip)
    hash_mode = event.h if event.h is not None else event.hashMode
    return Hit(
        name=name,
        url=url,
        domains=domains,
        host=host,
        referrer=referrer,
        props=_props_of(event, where),
        hash_mode=bool(hash_mode),
        engaged_ms=event.e or 0,
        scroll_depth=-1 if event.sd is None else event.sd,
        screen_width=event.w or 0,
        article=str(event.a) if event.a is not None else "",
        title=event.ti or "",
        pageview_id=event.pv or "",
        ip=ip,
        user_agent=event.ua,
    )


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]").search


def _has_control(text: str) -> bool:
    # isprintable() scans in C, 3 times faster than the regex: only a text it calls
    # unprintable is searched (it calls so non-ASCII spaces and format characters too,
    # which browsers do not send but a server's IRI may hold, and which are kept).
    return not text.isprintable() and _CONTROL(text) is not None


def _domains(text: str) -> list[str]:
    """The domains of `d`, comma-separated (a page counted for several sites)."""
    if "," not in text:  # the usual case: one domain, no generator to make and run
        text = text.strip()
        return [text] if text else []
    return [d for d in (part.strip() for part in text.split(",")) if d]


def _props_of(event: EventIn, where: str) -> dict[str, str]:
    raw = next((p for p in (event.p, event.props, event.m, event.meta) if p), None)
    if raw is None:
        return {}
    if isinstance(raw, str):
        # Older Plausible trackers send props as a JSON string.
        try:
            raw = _props.decode(raw)
        except msgspec.DecodeError as e:
            raise _invalid(where + "p", f"props: {error_text(str(e))}") from None
    return {key: _prop_text(value) for key, value in raw.items() if value is not None}


def _prop_text(value: str | int | float | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)


def _invalid(field: str, message: str) -> Refused:
    return Refused(400, RefusalReason.INVALID, message, field)
