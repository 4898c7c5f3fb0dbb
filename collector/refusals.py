"""Why the collector refuses or drops an event: a closed set of reasons, each counted.

A refusal is the sender's fault and answers 4xx with `{"error", "field"}`; a drop
(a bot) answers 202 and says why in the `X-Footfall-Dropped` header, as
Plausible and GoatCounter do, so a bot learns nothing it could work around.
"""

from __future__ import annotations

import enum

from footfall.web import ApiError


class DropReason(enum.StrEnum):
    INVALID = "invalid"
    TOO_LARGE = "too_large"
    UNAUTHORIZED = "unauthorized"
    UNKNOWN_SITE = "unknown_site"
    BOT = "bot"
    UNAVAILABLE = "unavailable"


class Refused(ApiError):
    """An event (or request) the collector will not count, and why."""

    def __init__(self, status: int, reason: DropReason, message: str, field: str = ""):
        super().__init__(status, message, field)
        self.reason = reason
