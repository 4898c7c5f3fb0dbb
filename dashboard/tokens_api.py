"""The API tokens API, for admins only: `/api/v1/tokens` and `/api/v1/tokens/{id}`.

POST answers the token with its secret (`token`), the only time it is shown;
GET lists tokens without secrets; DELETE revokes. `API` is the routes, each
with its operation in the API's document.
"""

from __future__ import annotations

import msgspec
from aiohttp import web

from dashboard import appkeys
from dashboard.api_tokens import (
    InvalidToken,
    NewToken,
    NewTokenAnswer,
    Token,
    new_token_from_json,
    token_document,
)
from dashboard.auth import ACCESS, SCHEMES, SCOPES, SIGNED_IN, authorize_admin
from dashboard.bodies import DELETED, Deleted, read_body
from footfall import openapi
from footfall.openapi import Route, answer, errors, path_param, ref
from footfall.web import ApiError, json_response


class TokenList(msgspec.Struct):
    tokens: list[Token]


def add_routes(app: web.Application) -> None:
    openapi.mount(app, API)


async def list_tokens(request: web.Request) -> web.Response:
    await authorize_admin(request)
    return json_response(TokenList(await request.app[appkeys.TOKENS].list()))


async def create_token(request: web.Request) -> web.Response:
    who = await authorize_admin(request)
    try:
        new = new_token_from_json(await read_body(request))
    except InvalidToken as e:
        raise ApiError(400, e.message, e.field) from None
    token, secret = await request.app[appkeys.TOKENS].create(new, created_by=who.name)
    return json_response(token_document(token, secret), 201, {"Cache-Control": "no-store"})


async def revoke_token(request: web.Request) -> web.Response:
    await authorize_admin(request)
    token_id = request.match_info["id"]
    if not await request.app[appkeys.TOKENS].revoke(token_id):
        raise ApiError(404, f"no token {token_id}", "id")
    return json_response(DELETED)


# -- the routes, as the document shows them ----------------------------------------------------

API = openapi.Part(
    ACCESS,
    (
        Route(
            "GET",
            "/api/v1/tokens",
            list_tokens,
            "List API tokens",
            "Admins only; without their secrets.",
            {"200": answer("The tokens.", ref("TokenList")), **errors(401, 403)},
        ),
        Route(
            "POST",
            "/api/v1/tokens",
            create_token,
            "Create an API token",
            "Admins only. Scopes: " + ", ".join(f"`{s}`" for s in SCOPES) + "; sites empty for "
            "every site. The answer holds the secret, the only time it is shown.",
            {
                "201": answer("The token and its secret.", ref("NewTokenAnswer")),
                **errors(400, 401, 403, 413),
            },
            body=openapi.body(ref("NewToken")),
        ),
        Route(
            "DELETE",
            "/api/v1/tokens/{id}",
            revoke_token,
            "Revoke an API token",
            "Admins only.",
            {"200": answer("Revoked.", ref("Deleted")), **errors(401, 403, 404)},
            (path_param("id", "The token's id."),),
        ),
    ),
    lambda: {
        **openapi.struct_schemas(NewToken),
        **openapi.answer_schemas(Token, TokenList, NewTokenAnswer, Deleted),
    },
    security=SIGNED_IN,
    security_schemes=SCHEMES,
)
