"""Dashboard sessions in Redis: one hash per session, under the SHA-256 of its cookie value.

Keyed by the hash so that a look into Redis (or its AOF) yields no cookie that
would log anyone in. A session expires after `TTL` without use; each use
extends it. Only a logged-in user has a session (the login form's CSRF token is
a cookie, `dashboard.sessions`), so a visitor who is not logged in costs Redis
nothing. Each user's sessions are indexed, so that they can all be ended at once.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

import redis.asyncio

from footfall import keys
from footfall.connections import is_cluster

TTL = 14 * 24 * 3600


@dataclass(frozen=True)
class Session:
    cookie: str  # the secret the browser holds
    email: str
    csrf: str


class SessionStore:
    def __init__(self, redis: redis.asyncio.Redis, ttl: int = TTL):
        self._redis = redis
        self.ttl = ttl

    async def create(self, email: str) -> Session:
        session = Session(secrets.token_urlsafe(32), email, secrets.token_urlsafe(32))
        digest = _digest(session.cookie)
        key = keys.session(digest)
        # The session and the user's set are in two slots of a Redis Cluster: no transaction.
        async with self._redis.pipeline(transaction=not is_cluster(self._redis)) as pipe:
            pipe.hset(key, mapping={"email": email, "csrf": session.csrf})
            pipe.expire(key, self.ttl)
            pipe.sadd(keys.user_sessions(email), digest)
            pipe.expire(keys.user_sessions(email), self.ttl)
            await pipe.execute()
        return session

    async def load(self, cookie: str) -> Session | None:
        """The session of a cookie, its idle time restarted; None when unknown or expired."""
        if not cookie or len(cookie) > 200:
            return None
        key = keys.session(_digest(cookie))
        fields = await self._redis.hgetall(key)
        email = fields.get(b"email", b"").decode()
        if not email or b"csrf" not in fields:
            return None  # an anonymous session of an older version is left to expire
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.expire(key, self.ttl)
            pipe.expire(keys.user_sessions(email), self.ttl)
            await pipe.execute()
        return Session(cookie, email, fields[b"csrf"].decode())

    async def end(self, cookie: str) -> None:
        await self._redis.delete(keys.session(_digest(cookie)))

    async def end_all(self, email: str) -> None:
        """End every session of a user (deleted, or given a new password)."""
        digests = await self._redis.smembers(keys.user_sessions(email))
        await self._redis.delete(
            keys.user_sessions(email), *(keys.session(d.decode()) for d in digests)
        )


def _digest(cookie: str) -> str:
    return hashlib.sha256(cookie.encode()).hexdigest()
