"""The users API, for admins only: `/api/v1/users` and `/api/v1/users/{email}`.

A user is answered as `{"email", "role", "sites"}` (`User`), never with a
password or its hash. PUT changes the fields it is given (`role`, `sites`,
`password`) and keeps the others. A new password, or deleting the user, ends
their sessions. `API` is the routes, each with its operation in the API's document.
"""

from __future__ import annotations

from typing import Annotated, Literal, TypeVar

import msgspec
from aiohttp import web

from dashboard import appkeys
from dashboard.accounts import (
    EMAIL,
    MAX_EMAIL,
    MAX_PASSWORD,
    MIN_PASSWORD,
    InvalidUser,
    User,
    UserExists,
    normalize_email,
)
from dashboard.auth import ACCESS, SCHEMES, SIGNED_IN, authorize_admin
from dashboard.bodies import DELETED, Deleted, read_body
from footfall import openapi
from footfall.openapi import Route, answer, errors, path_param, ref
from footfall.validation import error_field, error_text
from footfall.web import ApiError, json_response

T = TypeVar("T")
# Documented as `check_user` and `check_password` check them (with their messages).
Email = Annotated[
    str, msgspec.Meta(extra_json_schema={"maxLength": MAX_EMAIL, "pattern": EMAIL.pattern})
]
Password = Annotated[
    str, msgspec.Meta(extra_json_schema={"minLength": MIN_PASSWORD, "maxLength": MAX_PASSWORD})
]


class NewUser(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    email: Email
    password: Password
    role: Literal["admin", "editor"] = "editor"
    sites: tuple[str, ...] = ()


class UserChanges(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    role: Literal["admin", "editor"] | None = None
    sites: tuple[str, ...] | None = None
    password: Password | None = None


class UserList(msgspec.Struct):
    users: list[User]


def add_routes(app: web.Application) -> None:
    openapi.mount(app, API)


async def list_users(request: web.Request) -> web.Response:
    await authorize_admin(request)
    return json_response(UserList(await request.app[appkeys.USERS].list()))


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
    return json_response(user, 201)


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
    return json_response(user)


async def delete_user(request: web.Request) -> web.Response:
    await authorize_admin(request)
    email = request.match_info["email"]
    if not await request.app[appkeys.USERS].delete(email):
        raise ApiError(404, f"no user {email}", "email")
    # Else a user added again under this address would find the old sessions open.
    await request.app[appkeys.SESSIONS].end_all(normalize_email(email))
    return json_response(DELETED)


def _decode(body: bytes, kind: type[T]) -> T:
    try:
        return msgspec.json.decode(body, type=kind)
    except msgspec.ValidationError as e:
        raise ApiError(400, error_text(str(e)), error_field(str(e))) from None
    except msgspec.DecodeError as e:
        raise ApiError(400, f"malformed JSON: {e}") from None


# -- the routes, as the document shows them ----------------------------------------------------

EMAIL_PARAM = path_param("email", "The user's e-mail address.")
API = openapi.Part(
    ACCESS,
    (
        Route(
            "GET",
            "/api/v1/users",
            list_users,
            "List users",
            "Admins only.",
            {"200": answer("The users.", ref("UserList")), **errors(401, 403)},
        ),
        Route(
            "POST",
            "/api/v1/users",
            create_user,
            "Add a user",
            "Admins only. An editor reads the sites given; an admin everything.",
            {"201": answer("The user.", ref("User")), **errors(400, 401, 403, 409, 413)},
            body=openapi.body(ref("NewUser")),
        ),
        Route(
            "PUT",
            "/api/v1/users/{email}",
            update_user,
            "Change a user",
            "Admins only. A new password ends the user's sessions.",
            {"200": answer("The user.", ref("User")), **errors(400, 401, 403, 404, 413)},
            (EMAIL_PARAM,),
            body=openapi.body(ref("UserChanges")),
        ),
        Route(
            "DELETE",
            "/api/v1/users/{email}",
            delete_user,
            "Delete a user",
            "Admins only. Ends the user's sessions.",
            {"200": answer("Deleted.", ref("Deleted")), **errors(401, 403, 404)},
            (EMAIL_PARAM,),
        ),
    ),
    lambda: {
        **openapi.struct_schemas(NewUser, UserChanges),
        **openapi.answer_schemas(User, UserList, Deleted),
    },
    security=SIGNED_IN,
    security_schemes=SCHEMES,
)
