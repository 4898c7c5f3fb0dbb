"""Rate limits per client and per site: their settings and the answer to give.

The counting happens in `ingest.lua`, inside the group commit's one script call,
so limits cost no extra round trip to Redis. Windows are fixed (time // window):
cheap and exact to count; a client may send up to twice its limit across one
window boundary, which a limit meant against floods can afford.
"""

from __future__ import annotations

from dataclasses import dataclass

from collector.refusals import RefusalReason
from footfall.settings import Settings

UNLIMITED_CLIENT = "-"
"""The client key of events not limited per client (a server's batch with an API token)."""

VERDICTS = {1: RefusalReason.RATE_LIMITED_CLIENT, 2: RefusalReason.RATE_LIMITED_SITE}
"""ingest.lua's codes for a refused event."""


@dataclass(frozen=True, slots=True)
class RateLimits:
    per_client: int
    """Most events per client IP and site in one window; 0: no limit."""
    per_site: int
    """Most events per site in one window; 0: no limit."""
    window_ms: int

    @classmethod
    def of(cls, settings: Settings) -> RateLimits:
        window_ms = max(1, settings.rate_limit_window) * 1000
        return cls(settings.rate_limit_ip, settings.rate_limit_site, window_ms)

    def script_args(self) -> list[int]:
        return [self.per_client, self.per_site, self.window_ms]

    def retry_after(self, now_ms: int) -> int:
        """Whole seconds until the window of `now_ms` ends, when the limits start afresh."""
        return max(1, -(-(self.window_ms - now_ms % self.window_ms) // 1000))
