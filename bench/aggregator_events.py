"""Synthetic but realistic traffic of a Vietnamese news site, for bench/aggregator.py.

`stream_entries(n)` gives exactly `n` stream entries as the collector stores them
(`footfall.wire.stream_entry`: the msgpack event, dated in the site's timezone, and
its visit), in arrival order, deterministic for a seed:

* a few thousand visitors (`n // 50`), each with one of 50 real browser user
  agents (desktop, phones, tablets, in-app browsers of Facebook and Zalo), a
  country (mostly VN) and a screen width that fits the device;
* each visitor makes visits spread over 7 days (Nov 2026), at least an hour apart;
  a visit enters from Google, Facebook, Zalo, Cốc Cốc, other sites or directly (the
  landing URL then carries `fbclid`, `utm_*` or `zarsrc` as those do), then reads a
  few more pages with the previous page as referrer (internal);
* pages: a few thousand articles (popularity skewed), section pages and the home
  page; article ids and Vietnamese titles as the snippet sends them;
* after each page view, engagement events (heartbeats and the final one, with
  engaged time and scroll depth) and sometimes a custom event with props; the mix
  is about 60 % page views, 35 % engagements, 5 % custom events.

The visit fields are computed by the rules of `collector/ingest.lua` (a visit
ends after 30 minutes of silence; `vd` is the time since the visit's previous
event), so rollups add up as they would in production. `http_pageviews()` gives
the same kind of page views as bodies for `POST /api/event`, for the freshness load.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import random
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from footfall.salts import local_day
from footfall.wire import StreamEvent, days_since_epoch, encode_event, stream_entry

DOMAIN = "bench.example"
TIMEZONE = "Asia/Ho_Chi_Minh"
START_MS = int(dt.datetime(2026, 11, 20, tzinfo=dt.UTC).timestamp() * 1000)
DAYS = 7
VISIT_GAP_MS = 30 * 60 * 1000

AGENTS = tuple(
    line
    for line in (Path(__file__).parent / "aggregator_agents.txt").read_text().splitlines()
    if line.strip() and not line.startswith("#")
)
_WIDTHS = {
    "mobile": (360, 375, 390, 393, 412, 414, 430),
    "tablet": (768, 800, 810, 820, 1024),
    "desktop": (1280, 1366, 1440, 1536, 1920, 2560),
}
COUNTRIES = ("VN",) * 80 + ("US",) * 5 + ("JP", "KR", "SG", "AU", "DE", "FR", "GB", "CA", "TW")
COUNTRIES += ("AU", "US", "JP", "KR", "TH", "")  # ~1 % unknown
SECTIONS = (
    "thoi-su", "kinh-te", "the-gioi", "giai-tri", "the-thao", "phap-luat", "giao-duc",
    "suc-khoe", "doi-song", "du-lich", "khoa-hoc", "so-hoa", "xe",
)  # fmt: skip
_WORDS = (
    "Hà Nội", "TP.HCM", "giá vàng", "bão số 9", "đội tuyển Việt Nam", "kinh tế", "học sinh",
    "bệnh viện", "giao thông", "mưa lớn", "du lịch", "chứng khoán", "xăng dầu", "Quốc hội",
    "công nghệ", "AFF Cup", "bất động sản", "thời tiết", "lãi suất", "sân bay Long Thành",
)  # fmt: skip
# (weight, referrer, query maker name) of a visit's entry.
ENTRIES = (
    (30, "https://www.google.com/", ""),
    (8, "https://www.google.com.vn/", ""),
    (3, "https://news.google.com/", ""),
    (10, "https://m.facebook.com/", "fbclid"),
    (6, "https://l.facebook.com/", "fbclid"),
    (3, "https://www.facebook.com/", "fbclid"),
    (8, "https://zalo.me/", "zalo"),
    (4, "https://coccoc.com/search", ""),
    (2, "https://www.bing.com/", ""),
    (2, "https://baomoi.com/", ""),
    (1, "https://t.co/", ""),
    (3, "", "newsletter"),
    (20, "", ""),
)  # fmt: skip
_TOKEN_CHARACTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
CUSTOM = (
    ("Share", ("network",), ("facebook", "zalo", "twitter", "copy-link")),
    ("Outbound Link: Click", ("url",), ("https://dichvucong.gov.vn/", "https://vnexpress.net/")),
    ("Comment", ("section",), SECTIONS),
    ("Newsletter Signup", ("position",), ("footer", "inline", "popup")),
    ("Video Play", ("video", "autoplay"), ("v-1024", "v-2048", "v-4096")),
)


@dataclass(frozen=True)
class Visitor:
    visitor_id: int
    agent: str
    country: str
    width: int


@dataclass(frozen=True)
class Page:
    url: str
    article: str
    title: str


def _slug(text: str) -> str:
    """ASCII slug as Vietnamese sites make them: "Giá vàng" -> "gia-vang"."""
    plain = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    plain = "".join(c for c in plain if not unicodedata.combining(c)).lower()
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-")


def device_of_agent(agent: str) -> str:
    if "iPad" in agent or ("Android" in agent and "Mobile" not in agent):
        return "tablet"
    if any(m in agent for m in ("iPhone", "Mobile", "Android")):
        return "mobile"
    return "desktop"


class Site:
    """Pages and visitors of the synthetic site, drawn from one seeded generator."""

    def __init__(self, rng: random.Random, articles: int, visitors: int):
        self.rng = rng
        self.articles = [self._article(i) for i in range(1, articles + 1)]
        # Popularity ~ 1/rank (a few stories carry the day), as a cumulative table.
        self._cumulative = list(itertools.accumulate(1.0 / rank for rank in range(1, articles + 1)))
        self.sections = [Page(f"https://{DOMAIN}/{s}", "", "") for s in SECTIONS]
        self.home = Page(f"https://{DOMAIN}/", "", "")
        self.visitors = [self._visitor() for _ in range(visitors)]

    def _article(self, number: int) -> Page:
        rng = self.rng
        words = rng.sample(_WORDS, 3)
        title = f"{words[0][0].upper()}{words[0][1:]}: {words[1]} và {words[2]} ({number})"
        slug = _slug(" ".join(words))
        article = str(4_800_000 + number * 37)
        section = rng.choice(SECTIONS)
        return Page(f"https://{DOMAIN}/{section}/{slug}-{article}.html", article, title)

    def _visitor(self) -> Visitor:
        rng = self.rng
        agent = rng.choice(AGENTS)
        return Visitor(
            rng.getrandbits(64), agent, rng.choice(COUNTRIES),
            rng.choice(_WIDTHS[device_of_agent(agent)]),
        )  # fmt: skip

    def page(self) -> Page:
        roll = self.rng.random()
        if roll < 0.08:
            return self.home
        if roll < 0.15:
            return self.rng.choice(self.sections)
        pick = self.rng.random() * self._cumulative[-1]
        return self.articles[bisect.bisect_left(self._cumulative, pick)]

    def entry(self) -> tuple[str, str]:
        """(referrer, query string) of a visit's landing page."""
        weights = [w for w, _, _ in ENTRIES]
        _, referrer, kind = self.rng.choices(ENTRIES, weights)[0]
        rng = self.rng
        if kind == "fbclid":
            token = "".join(rng.choices(_TOKEN_CHARACTERS, k=60))
            query = f"fbclid=IwZXh0bgNhZW0CMTEAAR{token}"
            if rng.random() < 0.3:
                query = f"utm_source=facebook&utm_medium=social&utm_campaign=fanpage&{query}"
            return referrer, query
        if kind == "zalo":
            return referrer, "zarsrc=30&utm_source=zalo&utm_medium=zalo&utm_campaign=zalo"
        if kind == "newsletter":
            day = rng.randrange(20, 27)
            return referrer, (
                f"utm_source=newsletter&utm_medium=email&utm_campaign=ban-tin-{day}-11"
                f"&utm_content=top-{rng.randrange(1, 6)}"
            )
        return referrer, ""


def _events(n: int, seed: int) -> Iterator[tuple[int, Visitor, StreamEvent]]:
    """Raw events (before the visit fields), unordered; at least `n` of them."""
    rng = random.Random(seed)
    site = Site(rng, articles=max(50, n // 60), visitors=max(20, n // 50))
    made = 0
    span = DAYS * 86_400_000
    while made < n:
        visitor = rng.choice(site.visitors)
        ts = START_MS + rng.randrange(span)
        referrer, query = site.entry()
        previous = ""
        for number in range(1 + min(int(rng.expovariate(1 / 2.2)), 15)):
            page = site.page()
            url = f"{page.url}?{query}" if number == 0 and query else page.url
            referrer_now = referrer if number == 0 else previous
            pageview_id = f"{rng.getrandbits(64):016x}"
            common = {
                "site": DOMAIN, "url": url, "visitor_id": visitor.visitor_id,
                "referrer": referrer_now, "article": page.article, "pageview_id": pageview_id,
                "country": visitor.country, "user_agent": visitor.agent,
            }  # fmt: skip
            yield ts, visitor, StreamEvent(
                ts=ts, date=_date(ts), type="pageview", name="pageview", title=page.title,
                screen_width=visitor.width, **common,
            )  # fmt: skip
            made += 1
            reading = int(rng.expovariate(1 / 50_000)) + 2_000
            # Heartbeats every 30 s while visible, and one when the page is left:
            # 0.58 engagement events per page view keeps the 60/35 mix.
            beats = rng.choices((0, 1, 2), (0.52, 0.38, 0.10))[0]
            for beat in range(1, beats + 1):
                at = ts + reading * beat // (beats + 1) + rng.randrange(1_000)
                yield at, visitor, StreamEvent(
                    ts=at, date=_date(at), type="engagement", name="engagement",
                    engaged_ms=min(30_000, reading // (beats + 1)),
                    scroll_depth=min(100, 20 + 80 * beat // beats), **common,
                )  # fmt: skip
                made += 1
            if rng.random() < 0.083:
                name, keys, values = rng.choice(CUSTOM)
                props = {key: rng.choice(values) for key in keys}
                if name == "Video Play":
                    props["autoplay"] = rng.choice(("true", "false"))
                at = ts + rng.randrange(reading)
                yield (
                    at,
                    visitor,
                    StreamEvent(
                        ts=at, date=_date(at), type="custom", name=name, props=props, **common
                    ),
                )
                made += 1
            previous = page.url
            ts += reading + rng.randrange(5_000, 60_000)


def _date(ts: int) -> int:
    """The day of `ts` in the site's timezone, as the collector dates an event."""
    return days_since_epoch(dt.date.fromisoformat(local_day(TIMEZONE, ts)[0]))


def stream_entries(n: int, seed: int = 1) -> list[dict[str, bytes | int]]:
    """Exactly `n` stream entries in arrival order, with the visit fields of ingest.lua."""
    raw = sorted(_events(n, seed), key=lambda item: (item[0], item[1].visitor_id))[:n]
    # visitor -> (start, last, page views, the encoded event that started the visit)
    visits: dict[int, tuple[int, int, int, bytes]] = {}
    entries = []
    for ts, visitor, event in raw:
        current = visits.get(visitor.visitor_id)
        if current is not None and ts - current[1] >= VISIT_GAP_MS:
            current = None
        pageview = event.type == "pageview"
        new_visit, start, number, added, entry = False, 0, 0, 0, b""
        if current is not None:
            start, last, number, entry = current
            if ts > last:
                added, last = ts - last, ts
            if pageview:
                number += 1
            visits[visitor.visitor_id] = (start, last, number, entry)
        elif pageview:
            new_visit, start, number = True, ts, 1
            visits[visitor.visitor_id] = (ts, ts, 1, encode_event(event))
        number = number if pageview else 0
        entries.append(stream_entry(event, new_visit, start, number, added, entry))
    return entries


def expected_counts(entries: list[dict[str, bytes | int]]) -> dict[str, int]:
    """What ClickHouse and the hot counters must hold after these entries are inserted."""
    from footfall.wire import decode_entry

    counts = {"events": 0, "pageviews": 0, "visits": 0, "engagements": 0, "custom": 0}
    counts["article_pageviews"] = 0
    for entry in entries:
        fields = {
            k.encode(): v if isinstance(v, bytes) else str(v).encode() for k, v in entry.items()
        }
        event = decode_entry(fields)
        counts["events"] += 1
        if event.type == "pageview":
            counts["pageviews"] += 1
            counts["article_pageviews"] += 1 if event.article else 0
        elif event.type == "engagement":
            counts["engagements"] += 1
        else:
            counts["custom"] += 1
        counts["visits"] += 1 if event.new_visit else 0
    return counts


def http_pageviews(count: int, seed: int = 2) -> list[tuple[str, bytes]]:
    """(user agent, JSON body) of `count` page views as the snippet sends them (sendBeacon)."""
    import json

    rng = random.Random(seed)
    site = Site(rng, articles=3000, visitors=200)
    bodies = []
    for _ in range(count):
        page = site.page()
        referrer, query = site.entry()
        if rng.random() < 0.5:
            referrer = site.page().url  # a reader going on from another page of the site
            query = ""
        body = {
            "n": "pageview",
            "u": f"{page.url}?{query}" if query else page.url,
            "d": DOMAIN,
            "w": rng.choice(_WIDTHS["mobile"] + _WIDTHS["desktop"]),
        }
        if referrer:
            body["r"] = referrer
        if page.article:
            body.update(a=page.article, ti=page.title)
        bodies.append((rng.choice(AGENTS), json.dumps(body, ensure_ascii=False).encode()))
    return bodies
