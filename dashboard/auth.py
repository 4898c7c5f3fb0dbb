"""API authentication for the dashboard's routes.

For now the one token is the deployment's admin token (FOOTFALL_ADMIN_TOKEN, or
the one `footfall serve` generates under the data dir), with every right.
"""

from __future__ import annotations

from aiohttp import web

from footfall.tokens import bearer, is_admin
from footfall.web import ApiError

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="footfall"'}


def require_token(request: web.Request, admin_token: str) -> None:
    token = bearer(request.headers.get("Authorization", ""))
    if not token:
        raise ApiError(401, "missing API token: send Authorization: Bearer TOKEN", "", CHALLENGE)
    if not is_admin(token, admin_token):
        raise ApiError(401, "invalid API token", "", CHALLENGE)
