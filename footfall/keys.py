"""Every Redis key footfall uses, in one place.

Keys of one site carry the site in a hash tag (`{example.com}`), so that on a
Redis Cluster all of a site's keys live in one slot and one script may touch
them together: the site's event stream, its commit receipts, presence, visits,
rate limits and hot counters. A script call touches the keys of one site only
(the collector runs `ingest.lua` once per site of a group commit, the aggregator
`ack.lua` once per site of a batch). The other keys (the sites and tokens
mirrors, salts, sessions, login throttles, dead letters, the aggregators' batch
records) are each read or written by single-key commands, so they may live in
any slot.

A key with a part known only inside a script (an article, a visitor, a window's
number) is named by its prefix, which the script is given and appends that part
to: `ingest.lua` names no key of its own.
"""

DEAD_LETTERS = "ff:events:dead"
"""Events the aggregator could not insert, with the reason: for an operator to look at."""

CONSUMER_GROUP = "aggregators"
"""The aggregators' consumer group on each site's event stream."""

COUNTERS_SEEDED = "ff:counters:seeded"
"""Set once the hot counters hold ClickHouse's totals; absent after Redis lost them."""

SITES = "ff:sites"
"""Hash: domain -> site settings (JSON). The collector's mirror of ClickHouse's `sites`."""

SITES_CHANNEL = "ff:sites:changed"
"""Pub/sub channel: a domain whose mirror entry changed."""

IMPORTS = "ff:imports"
"""Hash: SHA-256 of an imported file -> how far its import went (JSON: rows, added,
started), so that the same file is not counted twice (aggregator/importer.py)."""

API_TOKENS = "ff:api_tokens"
"""Hash: SHA-256 of a token's secret -> its grant (JSON: id, scopes, sites).

The collector's mirror of ClickHouse's `api_tokens`; secrets are never stored.
"""


def stream(site: str) -> str:
    """The site's event stream: the collector XADDs, the aggregators' consumer group reads."""
    return f"ff:{{{site}}}:events"


def receipt(site: str, commit: str) -> str:
    """A collector's proof that its commit of the site's events ran (ingest.lua writes it
    in the same call), read back when Redis's reply was lost."""
    return f"ff:{{{site}}}:receipt:{commit}"


def batch_record(consumer: str) -> str:
    """JSON: the aggregator's last batch of several sites, written once it is in ClickHouse
    and before its per-site acknowledgements, so that a batch acknowledged in part is
    recognised when its rest is read again (`aggregator/consumer.py`)."""
    return f"ff:aggregator:{consumer}:batch"


def session(digest: str) -> str:
    """Hash: `email`, `csrf` of one dashboard session, under the SHA-256 of its cookie.

    Expires after the session's idle time; each use extends it.
    """
    return f"ff:session:{digest}"


def user_sessions(email: str) -> str:
    """Set: the session digests of one user, so that deleting the user or changing their
    password ends them all. Members may outlive their sessions; they are harmless."""
    return f"ff:user:{email}:sessions"


def login_address(client: str, slot: int) -> str:
    """Integer: logins that failed (or are being checked) from one client address (a keyed
    hash of it, never the address) in login-throttle window number `slot`
    (`dashboard/login_throttle.py`)."""
    return f"ff:login:address:{client}:{slot}"


def login_account(client: str, slot: int) -> str:
    """Integer: as `login_address`, for one account from one address (a keyed hash of both)."""
    return f"ff:login:account:{client}:{slot}"


def salt(day: str) -> str:
    """The visitor-id salt of one UTC day (YYYY-MM-DD)."""
    return f"ff:salt:{day}"


def online(site: str) -> str:
    """Sorted set: visitor id -> last seen (ms), kept for the site's online window."""
    return f"ff:{{{site}}}:online"


def visit(site: str, visitor_id: int) -> str:
    """String "start:last:pageviews:entry" (ms, ms, count, then the encoded event that
    started it: `footfall.wire`): the visitor's current visit.

    It expires after the visit gap of silence, which is what ends a visit.
    """
    return f"{visit_prefix(site)}{visitor_id}"


def visit_prefix(site: str) -> str:
    return f"ff:{{{site}}}:visit:"


def readers(site: str, article: str) -> str:
    """Sorted set: visitor id -> last seen (ms) on one article, kept for the online window."""
    return f"{readers_prefix(site)}{article}"


def readers_prefix(site: str) -> str:
    return f"ff:{{{site}}}:readers:"


def limit(site: str, slot: int) -> str:
    """Integer: events stored for the site in rate-limit window number `slot` (time // window)."""
    return f"{limit_prefix(site)}{slot}"


def limit_prefix(site: str) -> str:
    return f"ff:{{{site}}}:limit:"


def client_limit(site: str, client: str, slot: int) -> str:
    """Integer: events stored from one client (a keyed hash of its IP, never the IP) for the
    site in rate-limit window number `slot`."""
    return f"{client_limit_prefix(site, client)}{slot}"


def client_limit_prefix(site: str, client: str) -> str:
    return f"ff:{{{site}}}:limit:ip:{client}:"


def accepted(site: str, minute: int) -> str:
    """Integer: events the collector stored for the site in one minute (time // 60 s); kept
    two minutes, for `footfall status`."""
    return f"{accepted_prefix(site)}{minute}"


def accepted_prefix(site: str) -> str:
    return f"ff:{{{site}}}:accepted:"


def totals(site: str) -> str:
    """Hash: `pageviews`, `visits` -> all-time count (the public counter's source).

    Kept by the aggregator: ClickHouse's totals plus each inserted batch's deltas.
    """
    return f"ff:{{{site}}}:totals"


def late_days(site: str) -> str:
    """Set: the site's dates (YYYY-MM-DD) that events reached after they were due to
    close; the aggregators close them again (aggregator/closing.py)."""
    return f"ff:{{{site}}}:late_days"


def late_days_closing(site: str) -> str:
    """Set: the site's late days (`late_days`) that a closing took and has not closed yet:
    taken in one step (`aggregator/take_late_days.lua`), so that a day noted again
    meanwhile is noted anew."""
    return f"ff:{{{site}}}:late_days_closing"


def article_pageviews(site: str) -> str:
    """Hash: article id -> all-time page views."""
    return f"ff:{{{site}}}:pageviews"


LEGACY_ARTICLE_PAGEVIEWS = "views"
"""The last part of `article_pageviews`'s key before it was named so (`ff:{site}:views`):
a reseed deletes what an older aggregator left under it."""
