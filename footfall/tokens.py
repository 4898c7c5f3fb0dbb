"""API tokens as they arrive: `Authorization: Bearer TOKEN`, checked in constant time."""

from __future__ import annotations

import hmac


def bearer(authorization: str) -> str:
    """The token of an Authorization header; "" when there is none."""
    scheme, _, token = authorization.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def is_admin(token: str, admin_token: str) -> bool:
    return bool(token and admin_token) and hmac.compare_digest(token.encode(), admin_token.encode())
