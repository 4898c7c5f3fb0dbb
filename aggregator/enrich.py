"""Enrichment of one stream event: the columns the aggregator derives for ClickHouse.

Pure functions, no I/O after import (the referrer data and the user-agent matchers are
loaded when this module is imported). What repeats is cached, each in an LRU cache:
user agents (`agent`: ua-parser's Rust resolver costs 60-90 µs per agent uncached),
page URLs (`page_of`), referrer URLs (`host_of`), the source of a (referrer host, page
host, site) (`source_of`) and referrer hosts (`aggregator.referrers.classify`). A URL
not seen before is split by `split_url`, a fast path for `http(s)://` URLs.

Page: `path` is the URL's path without query, kept percent-encoded as sent; in hash
mode `#` and the fragment are appended (without the fragment's own `?query`, whose
`utm_*` are read too); "/" when empty; cut at 1,000 characters. `hostname` is
lowercased, without port and leading `www.`. UTM values are percent-decoded (`+` is a
space), stripped and cut at 200 characters; the first non-empty value of each wins;
parameter names are case-sensitive (`UTM_SOURCE` is not read).

Source precedence, first match wins:

1. `campaign`: the page URL carries a non-empty `utm_source`, `utm_medium`,
   `utm_campaign`, `utm_content` or `utm_term`. `source_name` is `utm_source`, or, when
   the URL has none, the name the referrer would have had (below), else "".
2. `internal`: the referrer host is the page's own host, or the site, or a subdomain or
   a parent domain of the site (hosts compared without `www.`). A site on a shared
   host (`someone.github.io`) thus also counts `github.io` as internal.
3. `search`, `social`, `email`: the referrer host (or a parent domain of it) is listed in
   the referrer data under that medium; `source_name` is the data's name ("Google").
4. `referral`: any other referrer with a host. `source_name` is the data's name when
   the host is listed under another medium (`unknown`: e.g. support.google.com →
   "Google"; `paid`: ad networks), else the referrer host itself.
5. `direct`: no referrer, or one without a host (unparseable, `about:blank`...);
   `source_name` is "".

Device, from the user agent first; the screen width only breaks the one known tie:

* `other`: no agent; TVs, consoles, Chromecast (markers in the agent).
* `tablet`: iPad, Kindle/Silk, a `Tablet` token, or Android without a `Mobi` token
  (Chrome on Android tablets drops `Mobile`).
* `mobile`: `Mobi` token (`Mobile`, Opera `Mobi`), iPhone, iPod, Windows Phone, Opera Mini.
* `desktop`: Windows, macOS, Linux (and its distributions), Chrome OS, the BSDs.
* anything else: `other`.
* Tie-break: iPadOS Safari (and iPhone Safari asking for the desktop site) sends a
  macOS agent identical to a Mac's. So a macOS agent with a known viewport width
  (`screen_width` > 0, the snippet sends `innerWidth` with page views only) below 576
  is `mobile`, below 992 `tablet` (Plausible's thresholds), else `desktop`. A narrowed
  desktop window can be miscounted this way; engagement events, which carry no width,
  of the same page view stay `desktop`.

Names: ua-parser's families, except that its mobile variants are merged into the
browser (`Mobile Safari` → `Safari`, `Chrome Mobile` → `Chrome`, ...: the device is a
column of its own), `Mac OS X` is `macOS`, and Linux distributions (Ubuntu, Fedora...)
are `Linux` without a version. Unknown browser or OS is "". Versions are the major
version as the agent says it: macOS is frozen at "10" and Windows 11 reports "10" in
agents; Chrome OS gives its platform build ("14541").
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple
from urllib.parse import parse_qsl

from aggregator.referrers import classify
from footfall.urls import split_url
from footfall.user_agents import PARSER
from footfall.wire import StreamEvent

MAX_PATH = 1000
MAX_UTM = 200
UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")
MOBILE_MAX_WIDTH = 576
TABLET_MAX_WIDTH = 992
AGENT_CACHE_SIZE = 20_000
URL_CACHE_SIZE = 20_000

SOURCES = ("direct", "internal", "campaign", "search", "social", "email", "referral")
DEVICES = ("desktop", "mobile", "tablet", "other")


class Enriched(NamedTuple):
    """The derived columns of an event, in the order `aggregator.rows` appends them."""

    path: str
    hostname: str
    referrer_host: str
    source: str
    source_name: str
    utm_source: str
    utm_medium: str
    utm_campaign: str
    utm_content: str
    utm_term: str
    browser: str
    browser_version: str
    os: str
    os_version: str
    device: str


class Agent(NamedTuple):
    """What one user agent string says; cached per string."""

    browser: str
    browser_version: str
    os: str
    os_version: str
    device: str
    """Device class from the agent alone; see `device_of` for the width tie-break."""


_BROWSERS = {
    "Mobile Safari": "Safari",
    "Chrome Mobile": "Chrome",
    "Chrome Mobile iOS": "Chrome",
    "Firefox Mobile": "Firefox",
    "Firefox iOS": "Firefox",
    "Edge Mobile": "Edge",
    "Opera Mobile": "Opera",
}
_LINUXES = frozenset(
    {
        "Linux",
        "Ubuntu",
        "Kubuntu",
        "Lubuntu",
        "Xubuntu",
        "Debian",
        "Fedora",
        "Red Hat",
        "CentOS",
        "SUSE",
        "openSUSE",
        "Mageia",
        "Mandriva",
        "Gentoo",
        "Slackware",
        "Arch Linux",
        "Linux Mint",
        "PCLinuxOS",
        "Puppy",
        "BackTrack",
    }
)
_DESKTOP_OS = frozenset(
    {"Windows", "macOS", "Linux", "Chrome OS", "FreeBSD", "OpenBSD", "NetBSD", "Solaris"}
)
_OTHER_DEVICE = re.compile(
    r"smart-?tv|googletv|android tv|appletv|hbbtv|bravia|web0s|netcast|crkey|roku"
    r"|playstation|xbox|nintendo",
    re.IGNORECASE,
)
_TV_TOKEN = re.compile(r"\bTV\b|\bAFT[A-Z]")  # "... TV Safari", Fire TV models (AFTB, AFTMM)
_TABLET = re.compile(r"iPad|Tablet(?! PC)|Kindle|Silk/|PlayBook")
_MOBILE = re.compile(r"Mobi|iPhone|iPod|Windows Phone|Opera Mini")


@lru_cache(maxsize=AGENT_CACHE_SIZE)
def agent(user_agent: str) -> Agent:
    """Browser, OS and agent-derived device class of a user agent string."""
    if not user_agent:
        return Agent("", "", "", "", "other")
    result = PARSER.parse(user_agent)  # `agent`'s own cache is the cache
    browser = browser_version = os = os_version = ""
    if result.user_agent is not None and result.user_agent.family != "Other":
        browser = _BROWSERS.get(result.user_agent.family, result.user_agent.family)
        browser_version = result.user_agent.major or ""
    if result.os is not None and result.os.family != "Other":
        os = result.os.family
        os_version = result.os.major or ""
        if os == "Mac OS X":
            os = "macOS"
        elif os in _LINUXES:
            if os != "Linux":
                os_version = ""
            os = "Linux"
    device_family = result.device.family if result.device is not None else ""
    return Agent(browser, browser_version, os, os_version, _device(user_agent, os, device_family))


def _device(user_agent: str, os: str, device_family: str) -> str:
    if _OTHER_DEVICE.search(user_agent) or _TV_TOKEN.search(user_agent):
        return "other"
    if device_family == "iPad" or _TABLET.search(user_agent):
        return "tablet"
    if device_family in ("iPhone", "iPod") or _MOBILE.search(user_agent):
        return "mobile"
    if os == "Android" or "Android" in user_agent:
        return "tablet"
    if os in _DESKTOP_OS:
        return "desktop"
    return "other"


def device_of(found: Agent, screen_width: int) -> str:
    """The agent's device class, with the viewport width deciding for macOS agents."""
    if found.os == "macOS" and found.device == "desktop" and screen_width > 0:
        if screen_width < MOBILE_MAX_WIDTH:
            return "mobile"
        if screen_width < TABLET_MAX_WIDTH:
            return "tablet"
    return found.device


@lru_cache(maxsize=URL_CACHE_SIZE)
def host_of(url: str) -> str:
    """Lowercased host of a URL without `www.`; "" when it has none or does not parse.

    Cached: browsers send only the origin (`https://www.google.com/`) as the referrer of
    a cross-origin link by default, so referrer strings repeat as much as their hosts.
    """
    return split_url(url)[0]


class Page(NamedTuple):
    """What the page URL says; cached per (URL, hash mode)."""

    path: str
    hostname: str
    utm_source: str
    utm_medium: str
    utm_campaign: str
    utm_content: str
    utm_term: str

    @property
    def has_utm(self) -> bool:
        return any(self[2:])


_NO_UTM = ("", "", "", "", "")


@lru_cache(maxsize=URL_CACHE_SIZE)
def page_of(url: str, hash_mode: bool) -> Page:
    """Path, host and UTM parameters of a page URL (see the module's docstring)."""
    hostname, path, query, fragment = split_url(url)
    path = path or "/"
    fragment_query = ""
    if hash_mode and fragment:
        fragment, _, fragment_query = fragment.partition("?")
        path = f"{path}#{fragment}"
    if "utm_" in query or "utm_" in fragment_query:
        utm: dict[str, str] = {}
        _utm(query, utm)
        _utm(fragment_query, utm)
        return Page(path[:MAX_PATH], hostname, *(utm.get(key, "") for key in UTM_KEYS))
    return Page(path[:MAX_PATH], hostname, *_NO_UTM)


def _utm(query: str, into: dict[str, str]) -> None:
    if "utm_" not in query:
        return
    for key, value in parse_qsl(query):
        if key in UTM_KEYS and key not in into:
            value = value.strip()[:MAX_UTM].strip()
            if value:
                into[key] = value


@lru_cache(maxsize=URL_CACHE_SIZE)
def source_of(referrer_host: str, hostname: str, site: str) -> tuple[str, str]:
    """(source, source name) from the referrer alone, campaigns aside (steps 2-5 above)."""
    if not referrer_host:
        return "direct", ""
    site = site.lower().removeprefix("www.")
    if referrer_host == hostname or _related(referrer_host, site):
        return "internal", ""
    known = classify(referrer_host)
    if known is None:
        return "referral", referrer_host
    if known[0] in ("search", "social", "email"):
        return known
    return "referral", known[1]


def _related(host: str, site: str) -> bool:
    """`host` is the site, a subdomain of it, or a parent domain of it."""
    return bool(site) and (
        host == site
        or (host.endswith(site) and host[-len(site) - 1] == ".")
        or (site.endswith(host) and site[-len(host) - 1] == ".")
    )


def enrich(event: StreamEvent) -> Enriched:
    page = page_of(event.url, event.hash_mode)
    referrer_host = host_of(event.referrer) if event.referrer else ""
    source, source_name = source_of(referrer_host, page.hostname, event.site)
    if page.has_utm:
        fallback = "" if source == "internal" else source_name
        source, source_name = "campaign", page.utm_source or fallback
    found = agent(event.user_agent)
    return Enriched(
        page.path,
        page.hostname,
        referrer_host,
        source,
        source_name,
        *page[2:],  # the utm_* values
        *found[:4],  # browser, its version, OS, its version
        device_of(found, event.screen_width),
    )
