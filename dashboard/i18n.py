"""The dashboard's languages: which one a request gets, and its messages.

English and Vietnamese. A request's language is the `footfall_lang` cookie
(set by the switch at `/lang/{code}`), else the best match of its
Accept-Language, else English. Messages live in `locales/{code}.json`, one flat
map of key to text; templates call `t(key, **values)`, and the page's scripts
get the same map (`messages(lang)`) with the BCP 47 tag their `Intl` formatters
use (`vi-VN`: 34.231.142).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

from aiohttp import web

from dashboard.redirects import see_other

LOCALES_DIR = Path(__file__).parent / "locales"
LANGUAGES = {"en": "en-US", "vi": "vi-VN"}
"""Language code -> the tag `Intl` formats numbers and dates with."""
DEFAULT = "en"
COOKIE = "footfall_lang"
COOKIE_MAX_AGE = 365 * 24 * 3600


@functools.cache
def messages(lang: str) -> dict[str, str]:
    """The messages of a language, English filling any key a translation lacks."""
    english = _read(DEFAULT)
    return english if lang == DEFAULT else {**english, **_read(lang)}


def translate(lang: str, key: str, **values: object) -> str:
    text = messages(lang).get(key, key)
    return text.format(**values) if values else text


def language(request: web.Request) -> str:
    chosen = request.cookies.get(COOKIE, "")
    if chosen in LANGUAGES:
        return chosen
    return best_match(request.headers.get("Accept-Language", ""))


def best_match(accept_language: str) -> str:
    """The supported language the header ranks highest (`vi-VN,vi;q=0.9,en;q=0.8` -> vi)."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        code = tag.strip().lower().split("-")[0]
        if code not in LANGUAGES:
            continue
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            ranked.append((-quality, position, code))
    return min(ranked)[2] if ranked else DEFAULT


async def switch(request: web.Request) -> web.StreamResponse:
    """`GET /lang/{code}?next=/path`: remember the language in a cookie and go back
    (to `next` if it is a path on this site, else home)."""
    code = request.match_info["code"]
    if code not in LANGUAGES:
        raise web.HTTPNotFound()
    redirect = see_other(request.query.get("next", "/"))
    redirect.set_cookie(
        COOKIE, code, max_age=COOKIE_MAX_AGE, path="/", httponly=True, samesite="Lax"
    )
    return redirect


def _read(lang: str) -> dict[str, str]:
    return json.loads((LOCALES_DIR / f"{lang}.json").read_text(encoding="utf-8"))
