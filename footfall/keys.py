"""Every Redis key footfall uses, in one place.

Keys of one site carry the site in a hash tag (`{example.com}`), so that on a
Redis Cluster all of a site's keys live in one slot and one script may touch
them together.
"""

STREAM = "ff:events"
"""The event stream: the collector XADDs, the aggregator's consumer group reads."""

SITES = "ff:sites"
"""Hash: domain -> site settings (JSON). The collector's mirror of ClickHouse's `sites`."""

SITES_CHANNEL = "ff:sites:changed"
"""Pub/sub channel: a domain whose mirror entry changed."""


def salt(day: str) -> str:
    """The visitor-id salt of one UTC day (YYYY-MM-DD)."""
    return f"ff:salt:{day}"


def online(site: str) -> str:
    """Sorted set: visitor id -> last seen (ms), kept for the visit gap or the window."""
    return f"ff:{{{site}}}:online"


def readers(site: str, article: str) -> str:
    """Sorted set: visitor id -> last seen (ms) on one article, kept for the online window."""
    return f"ff:{{{site}}}:readers:{article}"


def totals(site: str) -> str:
    """Hash: `pageviews`, `visits` -> all-time count (the public counter's source)."""
    return f"ff:{{{site}}}:totals"


def article_views(site: str) -> str:
    """Hash: article id -> all-time page views."""
    return f"ff:{{{site}}}:views"
