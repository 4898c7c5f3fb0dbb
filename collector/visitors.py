"""The cookieless visitor id: a keyed hash of (daily salt, site, IP, user agent).

The salts are the days' (`footfall.salts`): a site takes the salt of its own
local date, so its visitor ids change at its midnight: a day's visitors are the
site's day's, and two days never share one (a visitor seen on two days counts on
each).
"""

from __future__ import annotations

from footfall.salts import keyed_hash


def visitor_id(salt: bytes, site: str, ip: str, user_agent: str) -> int:
    hashed = keyed_hash(salt).copy()
    hashed.update(f"{site}\x00{ip}\x00{user_agent}".encode(errors="surrogatepass"))
    return int.from_bytes(hashed.digest(), "big")
