"""Turning msgspec's validation messages into the `field` of footfall's JSON errors."""

from __future__ import annotations

import re

_AT = re.compile(r" - at `\$(?P<path>[^`]*)`$")
_NAMED = re.compile(r"(?:unknown|missing required) field `(?P<name>[^`]+)`")


def error_field(message: str) -> str:
    """The offending field of a msgspec error message, as a path without `$`.

    `Expected int - at $.online_window` -> `online_window`;
    `Object missing required field domain - at $[2]` -> `[2].domain`.
    """
    at = _AT.search(message)
    # msgspec writes a map's value as `[...]`: the map's own name says enough.
    path = at.group("path").replace("[...]", "").lstrip(".") if at else ""
    named = _NAMED.search(message)
    if named:
        path = f"{path}.{named.group('name')}" if path else named.group("name")
    return path


def error_text(message: str) -> str:
    """The message without msgspec's `- at $...` suffix (the field says where)."""
    return _AT.sub("", message)
