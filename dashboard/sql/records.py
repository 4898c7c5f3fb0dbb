"""The records the dashboard keeps: sites, users and API tokens, a row per version.

Each table is a ReplacingMergeTree: a change inserts the record's new version
(`version`, nanoseconds), a deletion one with `deleted`, and reads take the
latest (`FINAL`). The columns are listed in the order the stores insert them.
"""

from __future__ import annotations

from footfall import tables

SITE_COLUMNS = [
    "domain",
    "timezone",
    "public_counters",
    "counter_measure",
    "counter_offset",
    "online_window",
    "article_pattern",
    "allow_subdomains",
    "excluded_ips",
    "excluded_paths",
    "updated_at",
    "deleted",
    "version",
]
SITE_FIELDS = SITE_COLUMNS[:10]
"""A `Site`'s fields, in its order."""
_SITES = f"SELECT {', '.join(SITE_FIELDS)} FROM {tables.SITES} FINAL"
SITES = f"{_SITES} WHERE NOT deleted ORDER BY domain"
SITE = f"{_SITES} WHERE domain = {{domain:String}} AND NOT deleted"

USER_COLUMNS = ["email", "password_hash", "role", "sites", "updated_at", "deleted", "version"]
_USERS = f"SELECT email, role, sites, password_hash FROM {tables.USERS} FINAL"
USERS = f"{_USERS} WHERE NOT deleted ORDER BY email"
USER = f"{_USERS} WHERE email = {{email:String}} AND NOT deleted"

TOKEN_COLUMNS = [
    "id",
    "name",
    "secret_hash",
    "scopes",
    "sites",
    "created_at",
    "created_by",
    "deleted",
    "version",
]
_TOKENS = f"SELECT {', '.join(TOKEN_COLUMNS[:7])} FROM {tables.API_TOKENS} FINAL"
TOKENS = f"{_TOKENS} WHERE NOT deleted ORDER BY created_at, id"
TOKEN = f"{_TOKENS} WHERE id = {{id:String}} AND NOT deleted"
LIVE_TOKENS = f"{_TOKENS} WHERE NOT deleted"
"""Every token not revoked, for the Redis mirror."""
