"""Every redirect of the dashboard: `see_other(target)`, kept on this site by `safe_next`.

A target may come from the client (`next` of the login and the language
switch), so it is followed only if a browser would read it as a path on this
site. Browsers drop tab, LF and CR anywhere in a URL, trim C0 controls and
spaces at its ends, and read a backslash as a slash: `/\t/evil.example` is
`//evil.example`, another host. So a target is refused (the browser goes home)
unless it starts with one `/` not followed by `/` or `\\`, and holds no control
character and no backslash at all. What it keeps is ASCII: other characters are
percent-encoded, as a browser would, so the Location header is the same bytes
for every reader.
"""

from __future__ import annotations

from urllib.parse import quote

from aiohttp import web

HOME = "/"
_PRINTABLE_ASCII = "".join(chr(c) for c in range(0x21, 0x7F))
_REFUSED = frozenset([*(chr(c) for c in range(0x20)), "\x7f", "\\"])


def safe_next(target: str) -> str:
    """`target` if it is a path on this site (non-ASCII percent-encoded), else the home page."""
    if not target.startswith("/") or target[1:2] == "/" or any(c in _REFUSED for c in target):
        return HOME
    return quote(target, safe=_PRINTABLE_ASCII)


def see_other(target: str) -> web.Response:
    """A 303 to `target` if it is safe (`safe_next`), else to the home page.

    Returned, not raised, so that a handler may put cookies on it.
    """
    return web.Response(status=303, headers={"Location": safe_next(target)})
