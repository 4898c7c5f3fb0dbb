"""Ingest as named steps: from a valid `Hit` to the events the committer stores.

The steps run in order and the first that refuses or drops stops the event:
`drop_bot`, `put_sites`, then `put_visitor` and the building of one stream
event per site (an event may name several domains). Decoding and validation
happen before, in `collector.events`.
"""

from __future__ import annotations

from typing import NamedTuple

from iptocc import country_code

from collector.bots import is_bot
from collector.committer import Ingest
from collector.events import Hit
from collector.refusals import DropReason, Refused
from collector.site_cache import SiteCache
from collector.visitors import Salts, visitor_id
from footfall.sites import Site
from footfall.wire import EventType, StreamEvent, encode_event


class Dropped(Exception):
    """An event not counted on purpose (a bot); the sender still gets 202."""

    def __init__(self, reason: DropReason):
        super().__init__(reason.value)
        self.reason = reason


class Origin(NamedTuple):
    """Who sent the event, as the server saw it. The IP is used for the visitor id and the
    country, then dropped."""

    ip: str
    user_agent: str


class Pipeline:
    def __init__(self, sites: SiteCache, salts: Salts):
        self._sites = sites
        self._salts = salts

    async def run(self, hit: Hit, origin: Origin, now: int, where: str = "") -> list[Ingest]:
        """The events to store for one hit; raises `Dropped` or `Refused`."""
        drop_bot(origin.user_agent)
        sites = await self.put_sites(hit, where)
        salt = self._salts.cached(now) or await self._salts.for_time(now)
        country = country_of(origin.ip)
        return [
            build_ingest(hit, site, now, visitor_id(salt, site.domain, *origin), country, origin)
            for site in sites
        ]

    async def put_sites(self, hit: Hit, where: str = "") -> list[Site]:
        sites = [
            site
            for domain in hit.domains
            if (site := self._sites.cached(domain) or await self._sites.lookup(domain))
        ]
        if not sites:
            raise Refused(
                404,
                DropReason.UNKNOWN_SITE,
                f"no site is registered for {', '.join(hit.domains)}",
                where + "d",
            )
        return sites


def drop_bot(user_agent: str) -> None:
    if is_bot(user_agent):
        raise Dropped(DropReason.BOT)


def country_of(ip: str) -> str:
    """ISO country code of an address from the registries' data; "" when unknown."""
    return (country_code(ip) or "") if ip else ""


_TYPES: dict[str, EventType] = {"pageview": "pageview", "engagement": "engagement"}


def event_type(name: str) -> EventType:
    return _TYPES.get(name, "custom")


def build_ingest(
    hit: Hit, site: Site, now: int, visitor: int, country: str, origin: Origin
) -> Ingest:
    article = hit.article or site.article_of(hit.url)
    kind = event_type(hit.name)
    event = StreamEvent(
        ts=now,
        site=site.domain,
        type=kind,
        name=hit.name,
        url=hit.url,
        visitor_id=visitor,
        referrer=hit.referrer,
        article=article,
        title=hit.title,
        pageview_id=hit.pageview_id,
        country=country,
        user_agent=origin.user_agent,
        props=hit.props,
        engaged_ms=hit.engaged_ms,
        scroll_depth=hit.scroll_depth,
        screen_width=hit.screen_width,
        hash_mode=hit.hash_mode,
    )
    return Ingest(
        site=site.domain,
        ts=now,
        visitor_id=visitor,
        is_pageview=kind == "pageview",
        article=article,
        online_window_ms=site.online_window * 1000,
        payload=encode_event(event),
    )
