"""Scoped API tokens: ClickHouse's `api_tokens` is the record, Redis's `ff:api_tokens` its mirror.

A token's secret is made here, returned once by `create` and never stored: the
record and the mirror hold its SHA-256 only. As for sites, every change writes
ClickHouse first, then the mirror; `sync_mirror()` rebuilds the mirror (at
start, or after Redis lost it). Lookups go through the mirror and
`footfall.tokens.TokenLookup`, the same code the collector runs.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
from typing import Annotated

import msgspec
import redis.asyncio

from dashboard.sql import records
from footfall import keys, tables
from footfall.connections import AsyncClickHouse
from footfall.sites import InvalidSite, Site, check_site
from footfall.tokens import PREFIX, SCOPES, Grant, TokenLookup, grant_to_json, secret_hash
from footfall.validation import error_field, error_text

Scope = Annotated[str, msgspec.Meta(extra_json_schema={"enum": list(SCOPES)})]
"""A scope: documented as one of `SCOPES`, checked by `check_new_token` (with its message)."""


class NewToken(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What a token is asked for: a name to recognise it by, scopes, sites (empty: all)."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    scopes: Annotated[tuple[Scope, ...], msgspec.Meta(min_length=1)]
    sites: tuple[str, ...] = ()


class Token(msgspec.Struct, frozen=True, kw_only=True):
    """A token as listed: everything but its secret."""

    id: str
    name: str
    scopes: tuple[str, ...]
    sites: tuple[str, ...]
    created_at: str
    created_by: str


class InvalidToken(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


_new_token = msgspec.json.Decoder(NewToken)


def new_token_from_json(data: bytes | str) -> NewToken:
    try:
        return check_new_token(_new_token.decode(data))
    except msgspec.ValidationError as e:
        raise InvalidToken(error_field(str(e)), error_text(str(e))) from None
    except msgspec.DecodeError as e:
        raise InvalidToken("", f"malformed JSON: {e}") from None


def check_new_token(new: NewToken) -> NewToken:
    """Validate what the types cannot; returns it with scopes and sites normalized."""
    if not new.name.strip():
        raise InvalidToken("name", "a token needs a name")
    unknown = [s for s in new.scopes if s not in SCOPES]
    if unknown:
        raise InvalidToken("scopes", f"unknown scope {unknown[0]!r}: one of {', '.join(SCOPES)}")
    try:
        sites = tuple(sorted({check_site(Site(domain=d)).domain for d in new.sites}))
    except InvalidSite as e:
        raise InvalidToken("sites", e.message) from None
    scopes = tuple(s for s in SCOPES if s in new.scopes)
    return NewToken(name=new.name.strip(), scopes=scopes, sites=sites)


class TokenStore:
    def __init__(self, clickhouse: AsyncClickHouse, redis: redis.asyncio.Redis):
        self._clickhouse = clickhouse
        self._redis = redis
        self._lookup = TokenLookup(redis)

    async def create(self, new: NewToken, created_by: str) -> tuple[Token, str]:
        """A new token and its secret: the only time the secret is known."""
        new = check_new_token(new)
        secret = PREFIX + secrets.token_urlsafe(32)
        now = dt.datetime.now(dt.UTC)
        token = Token(
            id=secrets.token_hex(8),
            name=new.name,
            scopes=new.scopes,
            sites=new.sites,
            created_at=_iso(now),
            created_by=created_by,
        )
        await self._write(token, secret_hash(secret), now, deleted=False)
        return token, secret

    async def list(self) -> list[Token]:
        rows = await self._clickhouse.query(records.TOKENS)
        return [_token(row) for row in rows]

    async def revoke(self, token_id: str) -> bool:
        """Delete the token; False when there is none by that id."""
        rows = await self._clickhouse.query(records.TOKEN, {"id": token_id})
        if not rows:
            return False
        await self._write(_token(rows[0]), rows[0][2], rows[0][5], deleted=True)
        return True

    async def grant(self, secret: str) -> Grant | None:
        return await self._lookup.grant(secret)

    async def sync_mirror(self) -> int:
        """Make the Redis mirror equal ClickHouse; returns the number of tokens."""
        rows = await self._clickhouse.query(records.LIVE_TOKENS)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(keys.API_TOKENS)
            if rows:
                pipe.hset(keys.API_TOKENS, mapping={r[2]: grant_to_json(_grant(r)) for r in rows})
            await pipe.execute()
        self._lookup.forget()
        return len(rows)

    async def _write(
        self, token: Token, digest: str, created_at: dt.datetime, *, deleted: bool
    ) -> None:
        row = [
            token.id,
            token.name,
            digest,
            list(token.scopes),
            list(token.sites),
            created_at,
            token.created_by,
            deleted,
            time.time_ns(),
        ]
        await self._clickhouse.insert(tables.API_TOKENS, [row], records.TOKEN_COLUMNS)
        if deleted:
            await self._redis.hdel(keys.API_TOKENS, digest)
        else:
            grant = Grant(id=token.id, scopes=token.scopes, sites=token.sites)
            await self._redis.hset(keys.API_TOKENS, digest, grant_to_json(grant))
        self._lookup.forget()


def _token(row: tuple) -> Token:
    id_, name, _, scopes, sites, created_at, created_by = row
    return Token(
        id=id_,
        name=name,
        scopes=tuple(scopes),
        sites=tuple(sites),
        created_at=_iso(created_at),
        created_by=created_by,
    )


def _grant(row: tuple) -> Grant:
    return Grant(id=row[0], scopes=tuple(row[3]), sites=tuple(row[4]))


def _iso(moment: dt.datetime) -> str:
    if moment.tzinfo is None:  # clickhouse-connect may answer naive UTC
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class NewTokenAnswer(Token, kw_only=True):
    """A token as made: with its secret, in this answer only."""

    token: Annotated[str, msgspec.Meta(description="The secret: shown this once.")]


def token_document(token: Token, secret: str) -> NewTokenAnswer:
    """The answer that made `token`: the one with its secret."""
    return NewTokenAnswer(**msgspec.structs.asdict(token), token=secret)
