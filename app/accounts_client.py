"""Users and API tokens for the CLI, by either road: a running server's API, or direct.

As for sites (`app.sites_client`): both roads answer with the API's JSON
shapes and raise `AccountsError` with the API's message and field.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

from app import runtime
from app.database import open_clickhouse
from app.server_api import ClientError, ServerApi
from dashboard.accounts import InvalidUser, User, UserExists, UserStore, user_document
from dashboard.api_tokens import InvalidToken, TokenStore, new_token_from_json, token_document
from footfall.connections import AsyncClickHouse, async_redis
from footfall.settings import Settings

T = TypeVar("T")
CLI = "cli"  # `created_by` of a token made straight in the data dir


class AccountsError(ClientError):
    pass


class AccountsClient(Protocol):
    def add_user(self, body: dict[str, Any]) -> dict[str, Any]: ...
    def list_users(self) -> list[dict[str, Any]]: ...
    def create_token(self, body: dict[str, Any]) -> dict[str, Any]: ...
    def list_tokens(self) -> list[dict[str, Any]]: ...
    def revoke_token(self, token_id: str) -> None: ...


def accounts_client(settings: Settings) -> AccountsClient:
    """The running server's API when one owns the data dir, else the stores directly."""
    url = runtime.running_server(settings)
    if url:
        return ApiAccounts(url, runtime.with_admin_token(settings).admin_token)
    return DirectAccounts(settings)


class ApiAccounts(ServerApi):
    """Through the users and tokens API of the server that owns the data dir."""

    error = AccountsError

    def add_user(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", "/api/v1/users", body)

    def list_users(self) -> list[dict[str, Any]]:
        return self._call("GET", "/api/v1/users")["users"]

    def create_token(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", "/api/v1/tokens", body)

    def list_tokens(self) -> list[dict[str, Any]]:
        return self._call("GET", "/api/v1/tokens")["tokens"]

    def revoke_token(self, token_id: str) -> None:
        self._call("DELETE", f"/api/v1/tokens/{token_id}")


class DirectAccounts:
    """Straight to ClickHouse (and, for tokens, Redis's mirror: the data dir's embedded
    Redis, started for the call)."""

    def __init__(self, settings: Settings):
        self._settings = settings

    def add_user(self, body: dict[str, Any]) -> dict[str, Any]:
        async def add(users: UserStore, _: TokenStore | None) -> dict[str, Any]:
            user = User(email=body["email"], role=body["role"], sites=tuple(body["sites"]))
            try:
                return user_document(await users.add(user, body["password"]))
            except InvalidUser as e:
                raise AccountsError(e.message, e.field) from None
            except UserExists:
                raise AccountsError(f"user {user.email} already exists", "email") from None

        return self._run(add, tokens=False)

    def list_users(self) -> list[dict[str, Any]]:
        async def list_users(users: UserStore, _: TokenStore | None) -> list[dict[str, Any]]:
            return [user_document(u) for u in await users.list()]

        return self._run(list_users, tokens=False)

    def create_token(self, body: dict[str, Any]) -> dict[str, Any]:
        async def create(_: UserStore, tokens: TokenStore | None) -> dict[str, Any]:
            assert tokens is not None
            try:
                new = new_token_from_json(json.dumps(body))
            except InvalidToken as e:
                raise AccountsError(e.message, e.field) from None
            token, secret = await tokens.create(new, created_by=CLI)
            return token_document(token, secret)

        return self._run(create, tokens=True)

    def list_tokens(self) -> list[dict[str, Any]]:
        async def list_tokens(_: UserStore, tokens: TokenStore | None) -> list[dict[str, Any]]:
            assert tokens is not None
            return [token_document(t) for t in await tokens.list()]

        return self._run(list_tokens, tokens=True)

    def revoke_token(self, token_id: str) -> None:
        async def revoke(_: UserStore, tokens: TokenStore | None) -> None:
            assert tokens is not None
            if not await tokens.revoke(token_id):
                raise AccountsError(f"no token {token_id}", "id")

        self._run(revoke, tokens=True)

    def _run(
        self,
        action: Callable[[UserStore, TokenStore | None], Awaitable[T]],
        *,
        tokens: bool,
    ) -> T:
        store = open_clickhouse(self._settings)
        if not tokens:
            return asyncio.run(_with_stores(store, None, action))
        with runtime.redis_available(self._settings) as settings:
            return asyncio.run(_with_stores(store, settings.redis_url, action))


async def _with_stores(
    store: AsyncClickHouse,
    redis_url: str | None,
    action: Callable[[UserStore, TokenStore | None], Awaitable[T]],
) -> T:
    redis = async_redis(redis_url) if redis_url else None
    try:
        tokens = TokenStore(store, redis) if redis is not None else None
        return await action(UserStore(store), tokens)
    finally:
        if redis is not None:
            await redis.aclose()
        store.close()
