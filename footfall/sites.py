"""The site: its settings, their validation, the article rule, and the Redis mirror format.

ClickHouse's `sites` table is the record (the dashboard writes it); the Redis
hash `ff:sites` mirrors it for the collector, which reads nothing else. A site
is checked when written (`check_site`); read back from the mirror, it is taken
as stored (`site_from_mirror`), so that a check made stricter since (RE2 for the
article rule) cannot stop the components that read it.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import re
import zoneinfo
from typing import Annotated, Literal

import msgspec

from footfall.patterns import InvalidPattern, Pattern, compile_glob, compile_pattern
from footfall.urls import split_url
from footfall.validation import error_field, error_text

log = logging.getLogger(__name__)

DEFAULT_ONLINE_WINDOW = 300
_DOMAIN = re.compile(r"^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*$")
_LAST_SEGMENT = re.compile(r"/(?P<article>[^/]+?)(?:\.[A-Za-z0-9]{1,5})?/?$")
MAX_EXCLUSIONS = 100
MAX_PATTERN = 500
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
    article_pattern: Annotated[str, msgspec.Meta(max_length=MAX_PATTERN)] = ""
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
        custom rule is a regex (RE2's) searched in the whole URL, with a group named
        `article`. A stored rule RE2 cannot compile (written before footfall used RE2)
        gives way to the default rule, with a warning in the log.
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
        return any(glob.fullmatch(path) for glob in _globs(self.excluded_paths))


def snippet_tag(base_url: str, domain: str) -> str:
    """The script tag an editor pastes into the site's pages."""
    return f'<script defer data-domain="{domain}" src="{base_url}/snippet.js"></script>'


class SiteDocument(Site, kw_only=True):
    """A site as the Sites API answers it: its settings and the tag to paste."""

    snippet: Annotated[str, msgspec.Meta(description="The tag to paste.")]


def site_document(site: Site, base_url: str) -> SiteDocument:
    snippet = snippet_tag(base_url, site.domain)
    return SiteDocument(**msgspec.structs.asdict(site), snippet=snippet)


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
            pattern = compile_pattern(site.article_pattern)
        except InvalidPattern as e:
            raise InvalidSite(
                "article_pattern",
                f"not a regular expression RE2 runs: {e} (RE2 has no backreferences nor "
                "lookarounds, and writes \\Z as \\z)",
            ) from None
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
        try:
            compile_glob(glob)
        except InvalidPattern as e:
            raise InvalidSite(f"excluded_paths[{i}]", f"a glob RE2 cannot run: {e}") from None
    return msgspec.structs.replace(site, domain=domain) if domain != site.domain else site


_decoder = msgspec.json.Decoder(Site)


def site_from_json(data: bytes | str) -> Site:
    """Decode and validate a site from JSON; errors are `InvalidSite` naming the field."""
    return check_site(site_from_mirror(data))


def site_from_mirror(data: bytes | str) -> Site:
    """Decode a site as the mirror stores it: checked when it was written, not again."""
    try:
        return _decoder.decode(data)
    except msgspec.ValidationError as e:
        raise InvalidSite(error_field(str(e)), error_text(str(e))) from None
    except msgspec.DecodeError as e:
        raise InvalidSite("", f"malformed JSON: {e}") from None


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
    rule = article_rule(pattern) if pattern else None
    if rule is not None:
        return _group(rule.search(url))
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
def _globs(globs: tuple[str, ...]) -> tuple[Pattern, ...]:
    # One pattern per glob: RE2 runs a union of a hundred long ones by its slow engine.
    return tuple(compile_glob(g) for g in globs)


def _group(match) -> str:  # type: ignore[no-untyped-def]
    return (match.group("article") or "") if match else ""


@functools.lru_cache(maxsize=1024)
def article_rule(pattern: str) -> Pattern | None:
    """A site's compiled article rule; None, said once per process, if RE2 cannot compile
    it (a pattern stored before footfall used RE2): the default rule applies then."""
    try:
        return compile_pattern(pattern)
    except InvalidPattern as e:
        log.warning(
            "article_pattern %r: RE2 cannot compile it (%s); the default rule applies until "
            "the site's pattern is changed",
            pattern,
            e,
        )
        return None
