"""The site: its settings, their validation, the article rule, and the Redis mirror format.

ClickHouse's `sites` table is the record (the dashboard writes it); the Redis
hash `ff:sites` mirrors it for the collector, which reads nothing else.
"""

from __future__ import annotations

import fnmatch
import functools
import ipaddress
import re
import zoneinfo
from typing import Annotated, Literal

import msgspec

from footfall.urls import split_url
from footfall.validation import error_field, error_text

DEFAULT_ONLINE_WINDOW = 300
_DOMAIN = re.compile(r"^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*$")
_LAST_SEGMENT = re.compile(r"/(?P<article>[^/]+?)(?:\.[A-Za-z0-9]{1,5})?/?$")
MAX_EXCLUSIONS = 100
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class InvalidSite(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


class Site(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    domain: str
    timezone: str = "UTC"
    public_counters: bool = False
    counter_measure: Literal["visits", "pageviews"] = "visits"
    counter_offset: Annotated[int, msgspec.Meta(ge=0, le=2**53)] = 0
    online_window: Annotated[int, msgspec.Meta(ge=10, le=86_400)] = DEFAULT_ONLINE_WINDOW
    article_pattern: Annotated[str, msgspec.Meta(max_length=500)] = ""
    allow_subdomains: bool = False
    """Count pages on any subdomain of `domain` too (blog.example.com for example.com)."""
    excluded_ips: Annotated[
        tuple[Annotated[str, msgspec.Meta(max_length=64)], ...],
        msgspec.Meta(max_length=MAX_EXCLUSIONS),
    ] = ()
    """Addresses or CIDR ranges whose events are not counted (the newsroom's own office)."""
    excluded_paths: Annotated[
        tuple[Annotated[str, msgspec.Meta(max_length=300)], ...],
        msgspec.Meta(max_length=MAX_EXCLUSIONS),
    ] = ()
    """Path globs whose events are not counted (`/admin/*`, `/preview/*`); `*` crosses `/`."""

    def article_of(self, url: str) -> str:
        """The article id of a page URL by this site's rule ("" when the rule finds none).

        The default rule takes the last path segment without its extension; a
        custom rule is a regex searched in the whole URL, with a group named
        `article`.
        """
        return _article(self.article_pattern, url)

    def owns_host(self, host: str) -> bool:
        """True when a page on `host` (lowercased, without `www.`) belongs to this site."""
        # Two comparisons: cheaper than a cache lookup, and this runs for every event.
        return host == self.domain or (self.allow_subdomains and host.endswith("." + self.domain))

    def excludes_ip(self, ip: str) -> bool:
        return bool(self.excluded_ips) and _in_networks(ip, self.excluded_ips)

    def excludes_path(self, path: str) -> bool:
        if not self.excluded_paths:
            return False
        return _paths_regex(self.excluded_paths).match(path) is not None


def snippet_tag(base_url: str, domain: str) -> str:
    """The script tag an editor pastes into the site's pages."""
    return f'<script defer data-domain="{domain}" src="{base_url}/snippet.js"></script>'


def site_document(site: Site, base_url: str) -> dict[str, object]:
    """A site as the Sites API answers it: its settings and the tag to paste."""
    return {**msgspec.structs.asdict(site), "snippet": snippet_tag(base_url, site.domain)}


def normalize_domain(domain: str) -> str:
    domain = domain.strip().lower().rstrip(".")
    return domain.removeprefix("www.")


def check_site(site: Site) -> Site:
    """Validate what msgspec's types cannot; returns the site with its domain normalized."""
    domain = normalize_domain(site.domain)
    if not _DOMAIN.match(domain):
        raise InvalidSite("domain", f"not a domain name: {site.domain!r}")
    try:
        zoneinfo.ZoneInfo(site.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise InvalidSite("timezone", f"unknown timezone: {site.timezone!r}") from None
    if site.article_pattern:
        try:
            pattern = _compiled(site.article_pattern)
        except re.error as e:
            raise InvalidSite("article_pattern", f"not a regular expression: {e}") from None
        if "article" not in pattern.groupindex:
            raise InvalidSite("article_pattern", "the pattern needs a group named 'article'")
    for i, network in enumerate(site.excluded_ips):
        try:
            ipaddress.ip_network(network.strip(), strict=False)
        except ValueError:
            raise InvalidSite(
                f"excluded_ips[{i}]", f"not an address or CIDR range: {network!r}"
            ) from None
    for i, glob in enumerate(site.excluded_paths):
        if not glob.startswith("/"):
            raise InvalidSite(f"excluded_paths[{i}]", f"a path glob starts with '/': {glob!r}")
    return msgspec.structs.replace(site, domain=domain) if domain != site.domain else site


_decoder = msgspec.json.Decoder(Site)


def site_from_json(data: bytes | str) -> Site:
    """Decode and validate a site from JSON; errors are `InvalidSite` naming the field."""
    try:
        site = _decoder.decode(data)
    except msgspec.ValidationError as e:
        raise InvalidSite(error_field(str(e)), error_text(str(e))) from None
    except msgspec.DecodeError as e:
        raise InvalidSite("", f"malformed JSON: {e}") from None
    return check_site(site)


def changed(site: Site, changes: object) -> Site:
    """The site with `changes` (a JSON object of fields) applied; its domain cannot change."""
    if not isinstance(changes, dict):
        raise InvalidSite("", "send a JSON object of the fields to change")
    domain = changes.get("domain", site.domain)
    if not isinstance(domain, str) or normalize_domain(domain) != site.domain:
        raise InvalidSite("domain", "a site's domain cannot be changed")
    return site_from_json(msgspec.json.encode({**msgspec.structs.asdict(site), **changes}))


def site_to_json(site: Site) -> bytes:
    return msgspec.json.encode(site)


@functools.lru_cache(maxsize=65_536)
def _article(pattern: str, url: str) -> str:
    # Cached: a popular article's URL arrives thousands of times a minute.
    if pattern:
        return _group(_compiled(pattern).search(url))
    return _group(_LAST_SEGMENT.search(split_url(url)[1]))


@functools.lru_cache(maxsize=1024)
def _networks(ranges: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(_canonical(ipaddress.ip_network(r.strip(), strict=False)) for r in ranges)


def _canonical(network: Network) -> Network:
    """An IPv4-mapped IPv6 range (`::ffff:192.0.2.0/120`) as the IPv4 range it maps: client
    addresses arrive as IPv4 (`footfall.client_ip.canonical_ip`)."""
    mapped = network.network_address.ipv4_mapped if network.version == 6 else None
    if mapped is None or network.prefixlen < 96:
        return network
    return ipaddress.IPv4Network((mapped, network.prefixlen - 96))


def _in_networks(ip: str, ranges: tuple[str, ...]) -> bool:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(address in network for network in _networks(ranges))


@functools.lru_cache(maxsize=1024)
def _paths_regex(globs: tuple[str, ...]) -> re.Pattern[str]:
    # One regex per site for all its globs: one match call per event, whatever their number.
    return re.compile("|".join(f"(?:{fnmatch.translate(g)})" for g in globs))


def _group(match: re.Match[str] | None) -> str:
    return (match.group("article") or "") if match else ""


@functools.lru_cache(maxsize=1024)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)
