"""Ingest as named steps: from a valid `Hit` to the events the committer stores.

The steps run in order and the first that refuses or drops stops the event:
`drop_bot`, `put_sites` (each site once), `refuse_foreign_origin`, `drop_excluded_ip`,
`drop_excluded_path`, then the site's day (its date and salt), the visitor id, the
client's rate-limit key and the building of one stream event per site (an event
may name several domains). Decoding and validation happen before, in
`collector.events`; the rate limits are counted after, by the committer's script.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

from iptocc import country_code

from collector.bots import is_bot
from collector.committer import Ingest
from collector.events import Hit
from collector.rate_limits import UNLIMITED_CLIENT
from collector.refusals import RefusalReason, Refused
from collector.site_cache import SiteCache
from collector.visitors import visitor_id
from footfall import keys
from footfall.salts import Day, Salts, client_key
from footfall.sites import Site
from footfall.urls import split_url
from footfall.wire import EventType, StreamEvent


class Dropped(Exception):
    """An event not counted on purpose (a bot); the sender still gets 202."""

    def __init__(self, reason: RefusalReason):
        super().__init__(reason.value)
        self.reason = reason


class Origin(NamedTuple):
    """Who sent the event, as the server saw it. The IP is used for the visitor id, the
    country, the site's excluded ranges and the rate limit's keyed hash, then dropped."""

    ip: str
    user_agent: str
    page_origin: str = ""
    """The request's `Origin` header ("" when none was sent, as by servers and curl)."""


class Pipeline:
    def __init__(self, sites: SiteCache, salts: Salts):
        self._sites = sites
        self._salts = salts

    async def run(
        self, hit: Hit, origin: Origin, now: int, where: str = "", limit_client: bool = True
    ) -> list[Ingest]:
        """The events to store for one hit; raises `Dropped` or `Refused`.

        Without `limit_client` (a server's batch sent with an API token) the events
        count against their site's rate limit only.
        """
        drop_bot(origin.user_agent)
        sites = await self.put_sites(hit, where)
        refuse_foreign_origin(hit.host, origin.page_origin, sites, where)
        sites = drop_excluded_ip(origin.ip, sites)
        sites = drop_excluded_path(hit.url, sites)
        country = country_of(origin.ip)
        ingests = []
        for site in sites:
            # Each site's own day: its events' date, and its visitor ids change at its midnight.
            day = self._salts.cached(site.timezone, now) or await self._salts.for_time(
                site.timezone, now
            )
            client = (
                keys.client_limit_prefix(site.domain, client_key(day.salt, site.domain, origin.ip))
                if limit_client
                else UNLIMITED_CLIENT
            )
            ingests.append(build_ingest(hit, site, now, day, country, origin, client))
        return ingests

    async def put_sites(self, hit: Hit, where: str = "") -> list[Site]:
        # A loop, not a comprehension: one with `await` in it is a coroutine of its own,
        # made and run for every event.
        sites: list[Site] = []
        for domain in hit.domains:
            site = self._sites.cached(domain) or await self._sites.lookup(domain)
            # Once per site, however many times (and spellings: case, `www.`) `d` names it.
            if site is not None and not _has_site(sites, site):
                sites.append(site)
        if not sites:
            raise Refused(
                404,
                RefusalReason.UNKNOWN_SITE,
                f"no site is registered for {', '.join(hit.domains)}",
                where + "d",
            )
        return sites


def _has_site(sites: list[Site], site: Site) -> bool:
    for known in sites:  # noqa: SIM110 (a loop: any() over a generator costs more)
        if known.domain == site.domain:
            return True
    return False


def drop_bot(user_agent: str) -> None:
    if is_bot(user_agent):
        raise Dropped(RefusalReason.BOT)


def refuse_foreign_origin(host: str, page_origin: str, sites: list[Site], where: str = "") -> None:
    """The page must be on one of the named sites (or a subdomain, where the site allows
    them), and so must the browser's `Origin` when it sent one.

    One owner is enough: the other sites an event names take it as a rollup, as
    with Plausible's `data-domain="site.com,rollup.com"`.
    """
    if not _any_owns(sites, host):
        raise Refused(
            403,
            RefusalReason.FOREIGN_ORIGIN,
            f"the page's host {host} is not {_names(sites)}",
            where + "u",
        )
    if page_origin:
        origin_host = host_of_origin(page_origin)
        if not _any_owns(sites, origin_host):
            raise Refused(
                403,
                RefusalReason.FOREIGN_ORIGIN,
                f"the request's Origin {page_origin} is not {_names(sites)}",
                "Origin",
            )


def _any_owns(sites: list[Site], host: str) -> bool:
    # A loop rather than any() over a generator, which costs 4 times more (about 1 µs
    # here, 2 per event: this runs for the page's host and for the Origin).
    for site in sites:  # noqa: SIM110
        if site.owns_host(host):
            return True
    return False


def drop_excluded_ip(ip: str, sites: list[Site]) -> list[Site]:
    """The sites that count this address: the others' owners excluded its range."""
    kept = [site for site in sites if not site.excludes_ip(ip)]
    if not kept:
        raise Dropped(RefusalReason.EXCLUDED_IP)
    return kept


def drop_excluded_path(url: str, sites: list[Site]) -> list[Site]:
    """The sites that count this page: the others' owners excluded its path."""
    if not any(site.excluded_paths for site in sites):
        return sites  # the usual case, without splitting the URL again
    path = split_url(url)[1] or "/"
    kept = [site for site in sites if not site.excludes_path(path)]
    if not kept:
        raise Dropped(RefusalReason.EXCLUDED_PATH)
    return kept


@functools.lru_cache(maxsize=1024)
def host_of_origin(page_origin: str) -> str:
    """The host of an `Origin` header ("" for `null`, which sandboxed and file pages send)."""
    return split_url(page_origin)[0]


def _names(sites: list[Site]) -> str:
    return " nor ".join(
        site.domain + (" or its subdomains" if site.allow_subdomains else "") for site in sites
    )


def country_of(ip: str) -> str:
    """ISO country code of an address from the registries' data; "" when unknown."""
    return (country_code(ip) or "") if ip else ""


_TYPES: dict[str, EventType] = {"pageview": "pageview", "engagement": "engagement"}


def event_type(name: str) -> EventType:
    return _TYPES.get(name, "custom")


def build_ingest(
    hit: Hit, site: Site, now: int, day: Day, country: str, origin: Origin, client: str
) -> Ingest:
    return Ingest(
        StreamEvent(
            ts=now,
            site=site.domain,
            date=day.number,
            type=event_type(hit.name),
            name=hit.name,
            url=hit.url,
            visitor_id=visitor_id(day.salt, site.domain, origin.ip, origin.user_agent),
            referrer=hit.referrer,
            article=hit.article or site.article_of(hit.url),
            title=hit.title,
            pageview_id=hit.pageview_id,
            country=country,
            user_agent=origin.user_agent,
            props=hit.props,
            engaged_ms=hit.engaged_ms,
            scroll_depth=hit.scroll_depth,
            screen_width=hit.screen_width,
            hash_mode=hit.hash_mode,
        ),
        client,
        site.online_window * 1000,
    )
