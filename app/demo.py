"""Synthetic visitors for trying footfall out: who comes, from where, and what they read.

Pure and seeded: `plan_visit(rng, site, start_ms)` returns one visit's events
with the time each is due, as the Events API fields (with the visitor's `ip`
and `ua`, which the collector takes from a server holding an API token). The
distributions are module data so that other tools (the dashboard's benchmark)
draw from the same world:

* articles with long-tail popularity (Zipf, s = 1.1, over `ARTICLES` stories),
  plus the home page and section pages;
* visits of several pages (geometric, 2.4 on average), each page read for a
  log-normal time (median 35 s) with a heartbeat every 30 s carrying the time
  engaged and the scroll depth, as footfall's snippet sends them, and a last
  engagement event when the page is left;
* sources: direct, search (Google, Bing, DuckDuckGo, Cốc Cốc), social
  (Facebook with `fbclid`, X, Reddit, Zalo), other sites, and newsletter and
  paid campaigns with `utm_*` tags;
* devices through real browsers' user agents (desktop, phone, tablet) with
  screen widths to match;
* countries through addresses drawn from ranges the registries assign to each
  country (`iptocc` maps every one back to its country; a test checks it).
"""

from __future__ import annotations

import bisect
import ipaddress
import itertools
import math
import random
from dataclasses import dataclass, field
from typing import Any

ARTICLES = 500
ZIPF_S = 1.1
HEARTBEAT_MS = 30_000
MEAN_PAGES = 2.4
MEDIAN_READ_S = 35.0

SECTIONS = ("thoi-su", "kinh-te", "the-gioi", "the-thao", "giai-tri", "cong-nghe", "suc-khoe")
WORDS = (
    "budget", "flood", "election", "vaccine", "startup", "metro", "festival", "harvest",
    "exports", "storm", "league", "museum", "bridge", "schools", "housing", "rice", "tourism",
    "energy", "airport", "market",
)  # fmt: skip


@dataclass(frozen=True)
class Weighted:
    """Choices and their weights, drawn in O(log n)."""

    items: tuple[Any, ...]
    weights: tuple[float, ...]
    _cumulative: tuple[float, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_cumulative", tuple(itertools.accumulate(self.weights)))

    def draw(self, rng: random.Random) -> Any:
        point = rng.random() * self._cumulative[-1]
        return self.items[bisect.bisect_right(self._cumulative, point)]


def zipf_weights(n: int, s: float = ZIPF_S) -> tuple[float, ...]:
    """Popularity of the k-th most read of `n` articles: 1 / k^s."""
    return tuple(1 / (k**s) for k in range(1, n + 1))


@dataclass(frozen=True)
class Article:
    id: str
    path: str
    title: str


def make_articles(n: int = ARTICLES, seed: int = 7) -> tuple[Article, ...]:
    """`n` stories over the sections, the most popular first."""
    rng = random.Random(seed)
    articles = []
    for i in range(n):
        section = SECTIONS[i % len(SECTIONS)]
        words = rng.sample(WORDS, 3)
        article_id = str(100_000 + i * 37)
        slug = "-".join(words)
        articles.append(
            Article(article_id, f"/{section}/{slug}-{article_id}.html", " ".join(words).title())
        )
    return tuple(articles)


ARTICLE_LIST = make_articles()
POPULARITY = Weighted(ARTICLE_LIST, zipf_weights(len(ARTICLE_LIST)))

# (kind, referrer, landing query) per source, with its share of visits.
SOURCES = Weighted(
    (
        ("direct", "", ""),
        ("search", "https://www.google.com/", ""),
        ("search", "https://www.google.com.vn/", ""),
        ("search", "https://www.bing.com/", ""),
        ("search", "https://duckduckgo.com/", ""),
        ("search", "https://coccoc.com/search", ""),
        ("social", "https://m.facebook.com/", "fbclid=IwAR{rand}"),
        ("social", "https://l.facebook.com/", "fbclid=IwAR{rand}"),
        ("social", "https://t.co/{rand}", ""),
        ("social", "https://www.reddit.com/r/VietNam/", ""),
        ("social", "https://zalo.me/", "utm_source=zalo&utm_medium=social&utm_campaign=share"),
        ("referral", "https://news.ycombinator.com/", ""),
        ("referral", "https://vnexpress.net/", ""),
        ("campaign", "", "utm_source=newsletter&utm_medium=email&utm_campaign=morning-brief"),
        ("campaign", "", "utm_source=google&utm_medium=cpc&utm_campaign=tet-2026&utm_term=tin+tuc"),
    ),
    (30, 22, 6, 4, 2, 3, 7, 5, 2, 1, 4, 1, 2, 8, 3),
)

# (device, user agent, screen widths)
DEVICES = Weighted(
    (
        ("desktop", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like "
         "Gecko) Chrome/131.0.0.0 Safari/537.36", (1366, 1536, 1920)),
        ("desktop", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like "
         "Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", (1366, 1920)),
        ("desktop", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
         "(KHTML, like Gecko) Version/18.1 Safari/605.1.15", (1440, 1512, 1728)),
        ("desktop", "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
         (1280, 1920)),
        ("mobile", "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
         "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1", (390, 393, 430)),
        ("mobile", "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like "
         "Gecko) Chrome/131.0.6778.81 Mobile Safari/537.36", (384, 412)),
        ("mobile", "Mozilla/5.0 (Linux; Android 13; SM-A536B) AppleWebKit/537.36 (KHTML, like "
         "Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36", (360, 412)),
        ("mobile", "Mozilla/5.0 (Linux; Android 12; Redmi Note 11) AppleWebKit/537.36 (KHTML, "
         "like Gecko) Chrome/129.0.0.0 Mobile Safari/537.36", (393,)),
        ("tablet", "Mozilla/5.0 (iPad; CPU OS 17_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
         "like Gecko) Version/17.7 Mobile/15E148 Safari/604.1", (810, 1024)),
        ("tablet", "Mozilla/5.0 (Linux; Android 10; SM-T510) AppleWebKit/537.36 (KHTML, like "
         "Gecko) Chrome/131.0.0.0 Safari/537.36", (800, 1280)),
    ),
    (22, 6, 8, 3, 24, 16, 8, 7, 4, 2),
)  # fmt: skip

# Ranges the regional registries assign to each country (ISPs' consumer blocks).
COUNTRY_RANGES: dict[str, tuple[str, ...]] = {
    "VN": ("14.160.0.0/11", "113.160.0.0/11", "27.64.0.0/12", "171.224.0.0/11"),
    "US": ("73.0.0.0/8", "24.0.0.0/12", "98.0.0.0/10"),
    "JP": ("60.64.0.0/11",),
    "KR": ("175.192.0.0/10",),
    "SG": ("116.86.0.0/15",),
    "TH": ("171.96.0.0/13",),
    "AU": ("1.128.0.0/11", "101.160.0.0/11"),
    "IN": ("117.192.0.0/10",),
    "DE": ("91.0.0.0/10", "79.192.0.0/10"),
    "FR": ("86.192.0.0/11",),
    "GB": ("86.128.0.0/10",),
    "CA": ("70.24.0.0/13",),
}
COUNTRIES = Weighted(tuple(COUNTRY_RANGES), (62, 10, 4, 4, 3, 3, 3, 3, 2, 2, 2, 2))


def address_in(country: str, rng: random.Random) -> str:
    network = ipaddress.ip_network(rng.choice(COUNTRY_RANGES[country]))
    return str(network[rng.randrange(1, network.num_addresses - 1)])


@dataclass(frozen=True, order=True)
class Planned:
    """One event of a visit, due `at_ms` (ms since the epoch)."""

    at_ms: int
    body: dict[str, Any] = field(compare=False)


def page_url(site: str, rng: random.Random) -> tuple[str, str, str]:
    """(url, article id, title) of a page: mostly an article, sometimes a front page."""
    roll = rng.random()
    if roll < 0.12:
        return f"https://{site}/", "", "Trang chủ"
    if roll < 0.18:
        section = rng.choice(SECTIONS)
        return f"https://{site}/{section}/", "", section.replace("-", " ").title()
    article = POPULARITY.draw(rng)
    return f"https://{site}{article.path}", article.id, article.title


def plan_visit(rng: random.Random, site: str, start_ms: int) -> list[Planned]:
    """Every event of one visit: page views, heartbeats, the last engagement of each page."""
    _, referrer, query = SOURCES.draw(rng)
    token = f"{rng.getrandbits(48):012x}"
    referrer, query = referrer.replace("{rand}", token), query.replace("{rand}", token)
    _, agent, widths = DEVICES.draw(rng)
    width = rng.choice(widths)
    ip = address_in(COUNTRIES.draw(rng), rng)
    pages = 1 + min(int(math.log(1 - rng.random()) / math.log(1 - 1 / MEAN_PAGES)), 14)
    events: list[Planned] = []
    at = start_ms
    for number in range(pages):
        url, article, title = page_url(site, rng)
        if number == 0 and query:
            url += ("&" if "?" in url else "?") + query
        pageview_id = f"{rng.getrandbits(64):016x}"
        common = {"u": url, "d": site, "ip": ip, "ua": agent, "pv": pageview_id}
        if article:
            common["a"] = article
        events.append(
            Planned(at, {"n": "pageview", **common, "r": referrer, "w": width, "ti": title})
        )
        read_ms = int(1000 * rng.lognormvariate(math.log(MEDIAN_READ_S), 0.9))
        read_ms = max(2_000, min(read_ms, 20 * 60_000))
        depth, engaged_at = 0, at
        for beat in [*range(at + HEARTBEAT_MS, at + read_ms, HEARTBEAT_MS), at + read_ms]:
            depth = min(100, depth + rng.randint(10, 45))
            engaged = int((beat - engaged_at) * rng.uniform(0.6, 1.0))
            events.append(Planned(beat, {"n": "engagement", **common, "e": engaged, "sd": depth}))
            engaged_at = beat
        referrer = url
        at += read_ms + rng.randint(500, 4_000)
    return events


def mean_events_per_visit(site: str = "demo.example", samples: int = 2000) -> float:
    """How many events a visit sends on average, to turn events/s into visits/s."""
    rng = random.Random(0)
    return sum(len(plan_visit(rng, site, 0)) for _ in range(samples)) / samples
