"""Why the collector refuses an event: a closed set of reasons, each counted.

An event the collector does not store is *refused*, for one `RefusalReason`,
counted under it in `footfall_events_refused_total{reason}` and named in the
answer's `X-Footfall-Dropped` header (both public names, kept). Most refusals
are the sender's fault and answer 4xx with `{"error", "field"}` (`Refused`): a
bad event, an unknown site, a page on a host the site does not own (403
`foreign_origin`, so a copied snippet shows its error in the browser's console),
a client or site over its rate limit (429 with Retry-After). Some are *dropped*:
answered 202 as Plausible and GoatCounter do (`pipeline.Dropped`): bots, so a
bot learns nothing it could work around, and what the site's owner chose not to
count (excluded addresses and paths).
"""

from __future__ import annotations

import enum

from footfall.web import ApiError


class RefusalReason(enum.StrEnum):
    INVALID = "invalid"
    TOO_LARGE = "too_large"
    UNAUTHORIZED = "unauthorized"
    UNKNOWN_SITE = "unknown_site"
    BOT = "bot"
    FOREIGN_ORIGIN = "foreign_origin"
    EXCLUDED_IP = "excluded_ip"
    EXCLUDED_PATH = "excluded_path"
    RATE_LIMITED_CLIENT = "rate_limited_client"
    RATE_LIMITED_SITE = "rate_limited_site"
    UNAVAILABLE = "unavailable"


class Refused(ApiError):
    """An event (or request) the collector will not count, and why."""

    def __init__(self, status: int, reason: RefusalReason, message: str, field: str = ""):
        super().__init__(status, message, field)
        self.reason = reason
