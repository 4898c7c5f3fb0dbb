"""The users API, for admins only: `/api/v1/users` and `/api/v1/users/{email}`.

A user is answered as `{"email", "role", "sites"}`, never with a password or
its hash. PUT changes the fields it is given (`role`, `sites`, `password`) and
keeps the others. A new password, or deleting the user, ends their sessions.
"""

from __future__ import annotations

from typing import Literal, TypeVar

import msgspec
from aiohttp import web

from dashboard import appkeys
from dashboard.accounts import InvalidUser, User, UserExists, normalize_email, user_document
from dashboard.auth import authorize_admin
from dashboard.bodies import read_body
from footfall.validation import error_field, error_text
from footfall.web import ApiError, json_response

T = TypeVar("T")


class NewUser(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    email: str
    password: str
    role: Literal["admin", "editor"] = "editor"
    sites: tuple[str, ...] = ()


class UserChanges(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    role: Literal["admin", "editor"] | None = None
    sites: tuple[str, ...] | None = None
    password: str | None = None


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/users", list_users)
    app.router.add_post("/api/v1/users", create_user)
    app.router.add_put("/api/v1/users/{email}", update_user)
    app.router.add_delete("/api/v1/users/{email}", delete_user)


async def list_users(request: web.Request) -> web.Response:
    await authorize_admin(request)
    users = await request.app[appkeys.USERS].list()
    return json_response({"users": [user_document(u) for u in users]})


async def create_user(request: web.Request) -> web.Response:
    await authorize_admin(request)
    new = _decode(await read_body(request), NewUser)
    user = User(email=new.email, role=new.role, sites=new.sites)
    try:
        user = await request.app[appkeys.USERS].add(user, new.password)
    except InvalidUser as e:
        raise ApiError(400, e.message, e.field) from None
    except UserExists:
        raise ApiError(409, f"user {user.email} already exists", "email") from None
    return json_response(user_document(user), 201)


async def update_user(request: web.Request) -> web.Response:
    await authorize_admin(request)
    changes = _decode(await read_body(request), UserChanges)
    email = request.match_info["email"]
    try:
        user = await request.app[appkeys.USERS].update(
            email, role=changes.role, sites=changes.sites, password=changes.password
        )
    except InvalidUser as e:
        raise ApiError(400, e.message, e.field) from None
    if user is None:
        raise ApiError(404, f"no user {email}", "email")
    if changes.password is not None:
        await request.app[appkeys.SESSIONS].end_all(user.email)
    return json_response(user_document(user))


async def delete_user(request: web.Request) -> web.Response:
    await authorize_admin(request)
    email = request.match_info["email"]
    if not await request.app[appkeys.USERS].delete(email):
        raise ApiError(404, f"no user {email}", "email")
    # Else a user added again under this address would find the old sessions open.
    await request.app[appkeys.SESSIONS].end_all(normalize_email(email))
    return json_response({"deleted": True})


def _decode(body: bytes, kind: type[T]) -> T:
    try:
        return msgspec.json.decode(body, type=kind)
    except msgspec.ValidationError as e:
        raise ApiError(400, error_text(str(e)), error_field(str(e))) from None
    except msgspec.DecodeError as e:
        raise ApiError(400, f"malformed JSON: {e}") from None
