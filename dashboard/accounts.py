"""Dashboard users: e-mail, argon2 password hash, role, sites. ClickHouse's `users` is the record.

An admin may do everything; an editor reads the sites they are given. Passwords
are hashed with argon2id (argon2-cffi's defaults) on a worker thread, since a
hash costs tens of milliseconds of CPU. Reads are cached in process a few
seconds; this process forgets an entry at once when it writes it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import re
import time
from collections.abc import Callable
from typing import Literal

import msgspec
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from dashboard.sql import records
from footfall import tables
from footfall.connections import AsyncClickHouse
from footfall.sites import InvalidSite, Site, check_site

ROLES = ("admin", "editor")
MIN_PASSWORD = 8
MAX_PASSWORD = 1024
CACHE_SECONDS = 5.0
MAX_EMAIL = 254
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


class User(msgspec.Struct, frozen=True, kw_only=True):
    """A user as stored and as the API answers it: it holds no password, nor its hash."""

    email: str
    role: Literal["admin", "editor"] = "editor"
    sites: tuple[str, ...] = ()  # an admin's are ignored: an admin has every site


class InvalidUser(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


class UserExists(Exception):
    pass


def normalize_email(email: str) -> str:
    return email.strip().lower()


def check_user(user: User) -> User:
    """Validate what the types cannot; returns the user with e-mail and sites normalized."""
    email = normalize_email(user.email)
    if len(email) > MAX_EMAIL or not EMAIL.match(email):
        raise InvalidUser("email", f"not an e-mail address: {user.email!r}")
    if user.role not in ROLES:
        raise InvalidUser("role", f"role must be one of {', '.join(ROLES)}")
    try:
        sites = tuple(sorted({check_site(Site(domain=d)).domain for d in user.sites}))
    except InvalidSite as e:
        raise InvalidUser("sites", e.message) from None
    return msgspec.structs.replace(user, email=email, sites=sites)


def check_password(password: str) -> str:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InvalidUser(
            "password", f"a password needs {MIN_PASSWORD} to {MAX_PASSWORD} characters"
        )
    return password


_hasher = PasswordHasher()


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


@functools.cache
def _unknown_user_hash() -> str:
    # Verified against when the e-mail is unknown, so that a login answers in the same
    # time whether or not the address exists.
    return _hasher.hash("no such user")


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


class UserStore:
    def __init__(self, clickhouse: AsyncClickHouse, clock: Callable[[], float] = time.monotonic):
        self._clickhouse = clickhouse
        self._clock = clock
        self._cache: dict[str, tuple[float, User | None]] = {}

    async def list(self) -> list[User]:
        rows = await self._clickhouse.query(records.USERS)
        return [_user(row) for row in rows]

    async def get(self, email: str) -> User | None:
        """The user, from the in-process cache when it is fresh (every request asks)."""
        email = normalize_email(email)
        now = self._clock()
        cached = self._cache.get(email)
        if cached is not None and cached[0] > now:
            return cached[1]
        found = await self._read(email)
        user = found[0] if found else None
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[email] = (now + CACHE_SECONDS, user)
        return user

    async def add(self, user: User, password: str) -> User:
        user = check_user(user)
        check_password(password)
        if await self._read(user.email) is not None:
            raise UserExists(user.email)
        await self._write(user, await hash_password(password))
        return user

    async def update(
        self,
        email: str,
        *,
        role: str | None = None,
        sites: list[str] | tuple[str, ...] | None = None,
        password: str | None = None,
    ) -> User | None:
        """Change what is given, keep the rest; None when there is no such user."""
        found = await self._read(email)
        if found is None:
            return None
        user, password_hash = found
        changes: dict[str, object] = {}
        if role is not None:
            changes["role"] = role
        if sites is not None:
            changes["sites"] = tuple(sites)
        user = check_user(msgspec.structs.replace(user, **changes))
        if password is not None:
            password_hash = await hash_password(check_password(password))
        await self._write(user, password_hash)
        return user

    async def delete(self, email: str) -> bool:
        found = await self._read(email)
        if found is None:
            return False
        await self._write(found[0], found[1], deleted=True)
        return True

    async def verify(self, email: str, password: str) -> User | None:
        """The user whose e-mail and password these are, else None (in the same time)."""
        found = await self._read(normalize_email(email)) if email else None
        if found is None:
            await asyncio.to_thread(_verify, _unknown_user_hash(), password)
            return None
        user, password_hash = found
        if not await asyncio.to_thread(_verify, password_hash, password):
            return None
        if _hasher.check_needs_rehash(password_hash):
            await self._write(user, await hash_password(password))
        return user

    async def ensure_admin(self, email: str, password: str) -> bool:
        """Create the first admin (settings admin_email/admin_password) unless the user
        exists; True when created. An existing user is left as it is."""
        if not email or await self._read(normalize_email(email)) is not None:
            return False
        if not password:
            raise ValueError(
                f"FOOTFALL_ADMIN_EMAIL ({email}) names no user yet: set FOOTFALL_ADMIN_PASSWORD"
            )
        try:
            await self.add(User(email=email, role="admin"), password)
        except InvalidUser as e:
            raise ValueError(f"first admin ({e.field}): {e.message}") from None
        except UserExists:
            return False  # another dashboard process made it first
        return True

    async def _read(self, email: str) -> tuple[User, str] | None:
        rows = await self._clickhouse.query(records.USER, {"email": normalize_email(email)})
        return (_user(rows[0]), rows[0][3]) if rows else None

    async def _write(self, user: User, password_hash: str, *, deleted: bool = False) -> None:
        now_ns = time.time_ns()
        updated_at = dt.datetime.fromtimestamp(now_ns / 1e9, dt.UTC)
        row = [user.email, password_hash, user.role, list(user.sites), updated_at, deleted, now_ns]
        await self._clickhouse.insert(tables.USERS, [row], records.USER_COLUMNS)
        self._cache.pop(user.email, None)


def _user(row: tuple) -> User:
    email, role, sites, _ = row
    return User(email=email, role=role, sites=tuple(sites))
