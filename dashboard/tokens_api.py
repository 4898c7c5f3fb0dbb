"""The API tokens API, for admins only: `/api/v1/tokens` and `/api/v1/tokens/{id}`.

POST answers the token with its secret (`token`), the only time it is shown;
GET lists tokens without secrets; DELETE revokes.
"""

from __future__ import annotations

from aiohttp import web

from dashboard import appkeys
from dashboard.api_tokens import InvalidToken, new_token_from_json, token_document
from dashboard.auth import authorize_admin
from dashboard.bodies import read_body
from footfall.web import ApiError, json_response


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/tokens", list_tokens)
    app.router.add_post("/api/v1/tokens", create_token)
    app.router.add_delete("/api/v1/tokens/{id}", revoke_token)


async def list_tokens(request: web.Request) -> web.Response:
    await authorize_admin(request)
    tokens = await request.app[appkeys.TOKENS].list()
    return json_response({"tokens": [token_document(t) for t in tokens]})


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
    return json_response({"deleted": True})
