"""API tokens as they arrive and as they are mirrored: the one lookup the collector and the
dashboard share.

A token's secret (`ff_...`) is shown once, when it is made; ClickHouse's
`api_tokens` keeps its SHA-256 and the dashboard mirrors hash -> `Grant` into the
Redis hash `ff:api_tokens`, which is all a collector needs to know. `TokenLookup`
reads that mirror and caches each answer a few seconds, so a revoked token may be
honoured that long by another process (the process that revokes forgets at once).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable

import msgspec
import redis.asyncio

from footfall import keys

SCOPES = ("stats:read", "sites:write", "events:write")
PREFIX = "ff_"
CACHE_SECONDS = 5.0
_CACHE_LIMIT = 10_000


class Grant(msgspec.Struct, frozen=True, kw_only=True):
    """What an API token allows: its scopes, on its sites (empty: every site)."""

    id: str
    scopes: tuple[str, ...]
    sites: tuple[str, ...] = ()

    def allows(self, scope: str, site: str | None = None) -> bool:
        return scope in self.scopes and (site is None or not self.sites or site in self.sites)


def bearer(authorization: str) -> str:
    """The token of an Authorization header; "" when there is none."""
    scheme, _, token = authorization.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def is_admin(token: str, admin_token: str) -> bool:
    return bool(token and admin_token) and hmac.compare_digest(token.encode(), admin_token.encode())


def secret_hash(secret: str) -> str:
    """The SHA-256 (hex) under which a token is stored: a token is random, so no salt or
    slow hash is needed, and a lookup stays one hash away."""
    return hashlib.sha256(secret.encode()).hexdigest()


def looks_like_token(secret: str) -> bool:
    # Anything else is refused without a Redis round trip.
    return secret.startswith(PREFIX) and 20 <= len(secret) <= 200


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(Grant)


def grant_to_json(grant: Grant) -> bytes:
    return _encoder.encode(grant)


def grant_from_json(data: bytes | str) -> Grant:
    return _decoder.decode(data)


class TokenLookup:
    """secret -> `Grant` (or None) through the Redis mirror, cached in process briefly."""

    def __init__(
        self,
        redis: redis.asyncio.Redis,
        ttl: float = CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._redis = redis
        self._ttl = ttl
        self._clock = clock
        self._cache: dict[str, tuple[float, Grant | None]] = {}

    async def grant(self, secret: str) -> Grant | None:
        if not looks_like_token(secret):
            return None
        digest = secret_hash(secret)
        now = self._clock()
        cached = self._cache.get(digest)
        if cached is not None and cached[0] > now:
            return cached[1]
        raw = await self._redis.hget(keys.API_TOKENS, digest)
        grant = grant_from_json(raw) if raw is not None else None
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()  # a flood of made-up tokens must not grow memory
        self._cache[digest] = (now + self._ttl, grant)
        return grant

    def forget(self) -> None:
        self._cache.clear()
