"""Users and API tokens for the CLI, by either road (`app.roads`): a running server's API, or
straight to the stores."""

from __future__ import annotations

import json
from typing import Any

from app.roads import Direct, Stores, answered, road
from app.server_api import ClientError, ServerApi
from dashboard.accounts import User, UserExists
from dashboard.api_tokens import new_token_from_json, token_document
from footfall.settings import Settings

CLI = "cli"  # `created_by` of a token made straight in the data dir


def accounts_client(settings: Settings) -> ApiAccounts | DirectAccounts:
    return road(settings, ApiAccounts, DirectAccounts)


class ApiAccounts(ServerApi):
    """Through the users and tokens API of the server that owns the data dir."""

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


class DirectAccounts(Direct):
    """Straight to ClickHouse (and, for tokens, Redis's mirror)."""

    def add_user(self, body: dict[str, Any]) -> dict[str, Any]:
        async def add(stores: Stores) -> dict[str, Any]:
            user = User(email=body["email"], role=body["role"], sites=tuple(body["sites"]))
            try:
                return answered(await stores.users.add(user, body["password"]))
            except UserExists:
                raise ClientError(f"user {user.email} already exists", "email") from None

        return self._run(add, redis=False)

    def list_users(self) -> list[dict[str, Any]]:
        async def list_users(stores: Stores) -> list[dict[str, Any]]:
            return [answered(u) for u in await stores.users.list()]

        return self._run(list_users, redis=False)

    def create_token(self, body: dict[str, Any]) -> dict[str, Any]:
        async def create(stores: Stores) -> dict[str, Any]:
            new = new_token_from_json(json.dumps(body))
            token, secret = await stores.tokens.create(new, created_by=CLI)
            return answered(token_document(token, secret))

        return self._run(create)

    def list_tokens(self) -> list[dict[str, Any]]:
        async def list_tokens(stores: Stores) -> list[dict[str, Any]]:
            return [answered(t) for t in await stores.tokens.list()]

        return self._run(list_tokens)

    def revoke_token(self, token_id: str) -> None:
        async def revoke(stores: Stores) -> None:
            if not await stores.tokens.revoke(token_id):
                raise ClientError(f"no token {token_id}", "id")

        self._run(revoke)
