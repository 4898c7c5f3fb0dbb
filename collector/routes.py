"""The collector's routes: each handler with its path and its operation in the API's document.

The `Event` schema is `EventIn`'s and the batch's is `Batch`'s, so a limit
changed in `collector.events` changes the document; the notes below only
explain the fields (a note on a field `EventIn` no longer has fails the build).
"""

from __future__ import annotations

import msgspec

from collector import handlers, public_counters
from collector.events import MAX_ARTICLE, MAX_BATCH_EVENTS, MAX_URL, Batch, EventIn
from footfall import openapi
from footfall.openapi import JSON, PUBLIC, Route, Schema, answer, errors, query, ref

EVENTS = openapi.Tag("Events API", "What pages send, and the counters they show.", order=40)
NOTES = {
    "n": "`pageview`, `engagement` or a custom event name (or `name`).",
    "u": "The page's http(s) URL (or `url`): required.",
    "d": "The site's domain, comma-separated for several (or `domain`); else the URL's host.",
    "r": "Referrer URL (or `referrer`).",
    "p": "Custom properties, or the same map as a JSON string (or `props`, `m`, `meta`).",
    "h": "1: the fragment is part of the path (or `hashMode`).",
    "e": "Engagement: milliseconds engaged since the last one.",
    "sd": "Engagement: scroll depth, percent.",
    "w": "Screen width.",
    "a": "Article id (else the site's rule finds it in the URL).",
    "ti": "Page title.",
    "pv": "Page-view id, joining engagement to its view.",
    "ip": "`/api/events` with a token: the visitor's IP.",
    "ua": "`/api/events` with a token: the visitor's user agent.",
}
EXAMPLE = {
    "n": "pageview",
    "u": "https://news.example/tin-tuc/bao-so-3.html",
    "d": "news.example",
    "r": "https://www.google.com/",
}
DROPPED = {
    "X-Footfall-Dropped": {
        "description": "Why the event was not counted (`bot`, `excluded_ip`, ...).",
        "schema": {"type": "string"},
    }
}
CACHING = {
    "ETag": {"schema": {"type": "string"}},
    "Cache-Control": {"schema": {"type": "string"}},
}


def _schemas() -> dict[str, Schema]:
    (batch,), structs = msgspec.json.schema_components((Batch,), ref_template=openapi.REF)
    event = {**structs[EventIn.__name__], "title": "Event"}
    for name, note in NOTES.items():
        event["properties"][name]["description"] = note
    return {
        "Event": event,
        "EventBatch": {**batch, "items": ref("Event")},
        **openapi.answer_schemas(handlers.BatchAnswer, public_counters.Counters),
    }


def _preflight(path: str) -> Route:
    return Route(
        "OPTIONS",
        path,
        handlers.preflight,
        "CORS preflight",
        "Lets any page send events.",
        {"204": {"description": "Allowed."}},
    )


ROUTES = (
    Route(
        "POST",
        "/api/event",
        handlers.post_event,
        "Send an event",
        "Plausible's Events API, as its tracker sends it: JSON, or the same as `text/plain` "
        "(sendBeacon). Answered 202 once stored; a dropped event (a bot, an excluded address "
        "or path) is answered 202 too, with the reason in `X-Footfall-Dropped`.",
        {
            "202": {
                "description": "Accepted (or dropped, see `X-Footfall-Dropped`).",
                "headers": DROPPED,
                "content": {"text/plain": {"schema": {"const": "ok"}}},
            },
            **errors(400, 403, 404, 413, 429, 503),
        },
        body={
            "required": True,
            "content": {
                JSON: {"schema": ref("Event"), "example": EXAMPLE},
                "text/plain": {"schema": {"type": "string"}},
            },
        },
    ),
    _preflight("/api/event"),
    Route(
        "POST",
        "/api/events",
        handlers.post_events,
        "Send events in a batch",
        f"For servers: up to {MAX_BATCH_EVENTS} events, all stored or none. With a token "
        "(`events:write`, on the events' sites) each event may carry the visitor's `ip` and "
        "`ua`.",
        {
            "202": answer("Stored.", ref("BatchAnswer")),
            **errors(400, 401, 403, 404, 413, 429, 503),
        },
        body=openapi.body(ref("EventBatch"), example=[EXAMPLE]),
        security=[{"bearer": []}, {}],
    ),
    _preflight("/api/events"),
    Route(
        "GET",
        "/api/counters",
        public_counters.get_counters,
        "Public counters",
        "Total visits (or page views), online now, and an article's views and readers now, "
        "for sites with public counters. Cached up to 5 s; open CORS.",
        {
            "200": answer("The counters.", ref("Counters"), headers=CACHING),
            "304": {"description": "Unchanged since `If-None-Match`.", "headers": CACHING},
            **errors(400, 404, 503),
        },
        (
            query("d", {"type": "string"}, "The site's domain.", required=True),
            query("a", {"type": "string"}, f"An article id (up to {MAX_ARTICLE} characters)."),
            query("u", {"type": "string"}, f"A page URL, for its article id (up to {MAX_URL})."),
            {"name": "If-None-Match", "in": "header", "schema": {"type": "string"}},
        ),
    ),
    Route(
        "GET",
        "/snippet.js",
        handlers.get_snippet,
        "The tracker script",
        "The script a page includes to send its events; gzipped when asked, cached a day.",
        {
            "200": {
                "description": "The script.",
                "headers": CACHING,
                "content": {"application/javascript": {"schema": {"type": "string"}}},
            },
            "304": {"description": "Unchanged since `If-None-Match`.", "headers": CACHING},
        },
        ({"name": "If-None-Match", "in": "header", "schema": {"type": "string"}},),
    ),
)
API = openapi.Part(EVENTS, ROUTES, _schemas, security=PUBLIC)
