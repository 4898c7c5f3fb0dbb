"""Protection at ingest: rate limits per client and per site, origin checks, excluded
addresses and paths; a real Redis, a clock the tests move."""

from __future__ import annotations

import asyncio
import fnmatch
import hashlib
import json
import os
import re
import subprocess
import sys
from importlib import resources

import pytest
import re2
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.rate_limits import RateLimits
from collector.visitors import visitor_id
from footfall import keys
from footfall.salts import client_key
from footfall.sites import Site
from tests.conftest import AUTH
from tests.helpers import pageview, stream_events

PROXY = {"trusted_proxies": "127.0.0.1"}  # the test client's address, so X-Forwarded-For counts


def from_ip(ip: str) -> dict[str, str]:
    return {"X-Forwarded-For": ip}


# ----------------------------------------------------------------------------- rate limits


async def test_a_client_over_its_limit_gets_429_with_retry_after_until_the_window_ends(
    make_client, add_site, redis_db, clock
):
    client = await make_client(rate_limit_ip=3, rate_limit_window=60)
    await add_site("news.example")
    clock.advance(15)  # 15 s into a one-minute window
    statuses = [(await client.post("/api/event", json=pageview())).status for _ in range(5)]
    assert statuses == [202, 202, 202, 429, 429]
    response = await client.post("/api/event", json=pageview())
    assert response.headers["Retry-After"] == "45"
    assert response.headers["X-Footfall-Dropped"] == "rate_limited_client"
    assert (await response.json())["error"] == "too many events from this client, retry in 45 s"
    assert len(stream_events(redis_db)) == 3
    clock.advance(45)
    assert (await client.post("/api/event", json=pageview())).status == 202


async def test_a_flood_from_one_address_does_not_starve_the_others(make_client, add_site, redis_db):
    client = await make_client(rate_limit_ip=5, rate_limit_site=30, **PROXY)
    await add_site("news.example")

    async def send(ip: str) -> int:
        response = await client.post("/api/event", json=pageview(), headers=from_ip(ip))
        return response.status

    assert await send("203.0.113.1") == 202  # the site and the salt are cached from here on
    # The flood and the readers arrive together, so they share the committer's batches.
    flood = [send("198.51.100.66") for _ in range(200)]
    readers = [send(f"203.0.113.{i}") for i in range(2, 22)]
    statuses = await asyncio.gather(*flood, *readers)
    assert statuses[200:] == [202] * 20
    assert (statuses[:200].count(202), statuses[:200].count(429)) == (5, 195)
    assert len(stream_events(redis_db)) == 26


async def test_a_site_over_its_limit_gets_429_whatever_the_client(make_client, add_site, redis_db):
    client = await make_client(rate_limit_site=4, **PROXY)
    await add_site("news.example")
    await add_site("other.example")
    answers = []
    for i in range(6):
        response = await client.post("/api/event", json=pageview(), headers=from_ip(f"10.0.0.{i}"))
        answers.append((response.status, response.headers.get("X-Footfall-Dropped")))
    assert answers[4:] == [(429, "rate_limited_site")] * 2
    other = pageview("https://other.example/")
    assert (await client.post("/api/event", json=other)).status == 202
    assert len(stream_events(redis_db)) == 5


async def test_a_tokens_batch_counts_against_the_site_not_the_senders_address(
    make_client, add_site, redis_db
):
    client = await make_client(rate_limit_ip=2, rate_limit_site=5)
    await add_site("news.example")
    batch = [pageview(ip=f"203.0.113.{i % 2}", ua="Mozilla/5.0 Firefox/133.0") for i in range(4)]
    response = await client.post("/api/events", json=batch, headers=AUTH)
    assert await response.json() == {"accepted": 4, "dropped": 0}
    response = await client.post("/api/events", json=batch, headers=AUTH)
    assert response.status == 202
    assert await response.json() == {
        "accepted": 1,
        "dropped": 0,
        "rate_limited": 3,
        "rate_limited_at": [1, 2, 3],
    }
    response = await client.post("/api/events", json=batch[:1], headers=AUTH)
    assert response.status == 429
    assert len(stream_events(redis_db)) == 5


async def test_limits_set_to_zero_are_off(make_client, add_site, redis_db):
    client = await make_client(rate_limit_ip=0, rate_limit_site=0)
    await add_site("news.example")
    for _ in range(20):
        assert (await client.post("/api/event", json=pageview())).status == 202
    assert not redis_db.keys("ff:*limit*")


async def test_rate_limit_keys_hold_a_keyed_hash_never_the_address(make_client, add_site, redis_db):
    client = await make_client(rate_limit_ip=10, **PROXY)
    await add_site("news.example")
    await client.post("/api/event", json=pageview(), headers=from_ip("198.51.100.77"))
    names = [k.decode() for k in redis_db.keys("ff:*")]
    assert any(":limit:ip:" in name for name in names)
    assert not any("198.51.100.77" in name for name in names)
    assert all(b"198.51.100.77" not in (redis_db.dump(k) or b"") for k in names)
    (limit_key,) = [n for n in names if ":limit:ip:" in n]
    assert 0 < redis_db.pttl(limit_key) <= 60_000


@pytest.mark.parametrize("salt", [b"0123456789abcdef", b"another salt...."])
def test_the_copied_keyed_hash_gives_the_keyed_blake2b_of_each_input(salt):
    """`keyed_hash` is copied per event instead of keying anew: same ids, whatever came
    before (the copy leaves the cached hash untouched)."""
    for ua in ("UA one", "UA two", "UA one"):
        text = f"a.example\x00192.0.2.1\x00{ua}".encode()
        expected = hashlib.blake2b(text, key=salt, digest_size=8).digest()
        assert visitor_id(salt, "a.example", "192.0.2.1", ua) == int.from_bytes(expected, "big")
    expected_key = hashlib.blake2b(b"a.example\x00192.0.2.1", key=salt, digest_size=8).hexdigest()
    assert client_key(salt, "a.example", "192.0.2.1") == expected_key


def test_an_ipv6_client_is_its_64_block():
    salt = b"0123456789abcdef"
    same = client_key(salt, "a.example", "2001:db8:1:2::1")
    assert same == client_key(salt, "a.example", "2001:db8:1:2:ffff::9")
    assert same != client_key(salt, "a.example", "2001:db8:1:3::1")
    assert client_key(salt, "a.example", "192.0.2.1") != client_key(salt, "a.example", "192.0.2.2")
    assert client_key(b"another salt....", "a.example", "192.0.2.1") != client_key(
        salt, "a.example", "192.0.2.1"
    )


@pytest.mark.parametrize(
    ("now_ms", "window_s", "retry_after"),
    [(0, 60, 60), (59_001, 60, 1), (59_999, 60, 1), (30_000, 60, 30), (7_500, 10, 3)],
)
def test_retry_after_is_the_rest_of_the_window_in_whole_seconds(now_ms, window_s, retry_after):
    assert RateLimits(1, 1, window_s * 1000).retry_after(now_ms) == retry_after


async def test_the_collector_counts_what_each_site_stored_per_minute(
    client, add_site, redis_db, clock
):
    await add_site("news.example")
    for _ in range(3):
        await client.post("/api/event", json=pageview())
    minute = clock() // 60_000
    assert int(redis_db.get(keys.accepted("news.example", minute))) == 3
    assert 60_000 < redis_db.pttl(keys.accepted("news.example", minute)) <= 120_000


# ----------------------------------------------------------------------------- origins

FOREIGN = [
    ("another site's page", pageview("https://elsewhere.example/a.html", d="news.example"), {}),
    ("a subdomain", pageview("https://blog.news.example/a.html", d="news.example"), {}),
    ("a look-alike domain", pageview("https://evilnews.example/a.html", d="news.example"), {}),
    ("a foreign Origin header", pageview(), {"Origin": "https://elsewhere.example"}),
    ("a sandboxed page's Origin", pageview(), {"Origin": "null"}),
]


@pytest.mark.parametrize(("body", "headers"), [c[1:] for c in FOREIGN], ids=[c[0] for c in FOREIGN])
async def test_an_event_from_a_page_the_site_does_not_own_is_refused_403(
    client, add_site, redis_db, body, headers
):
    await add_site("news.example")
    response = await client.post("/api/event", json=body, headers=headers)
    assert response.status == 403
    assert response.headers["X-Footfall-Dropped"] == "foreign_origin"
    assert "is not news.example" in (await response.json())["error"]
    assert stream_events(redis_db) == []


OWN = [
    ("the site's page", pageview(), {}),
    ("its www host", pageview("https://www.news.example/a.html"), {}),
    ("its own Origin", pageview(), {"Origin": "https://news.example"}),
    ("its www Origin", pageview(), {"Origin": "https://www.news.example"}),
]


@pytest.mark.parametrize(("body", "headers"), [c[1:] for c in OWN], ids=[c[0] for c in OWN])
async def test_an_event_from_the_sites_own_pages_is_stored(
    client, add_site, redis_db, body, headers
):
    await add_site("news.example")
    assert (await client.post("/api/event", json=body, headers=headers)).status == 202
    assert len(stream_events(redis_db)) == 1


async def test_subdomains_count_where_the_site_allows_them(client, add_site, redis_db):
    await add_site("news.example", allow_subdomains=True)
    body = pageview("https://blog.news.example/a.html", d="news.example")
    origin = {"Origin": "https://blog.news.example"}
    assert (await client.post("/api/event", json=body, headers=origin)).status == 202
    assert stream_events(redis_db)[0].site == "news.example"


# ----------------------------------------------------------------------------- exclusions


async def test_events_from_an_excluded_range_are_dropped_with_202(make_client, add_site, redis_db):
    client = await make_client(**PROXY)
    await add_site("news.example", excluded_ips=["198.51.100.0/24", "2001:db8::/32"])
    for ip in ("198.51.100.7", "2001:db8::1"):
        response = await client.post("/api/event", json=pageview(), headers=from_ip(ip))
        assert (response.status, response.headers["X-Footfall-Dropped"]) == (202, "excluded_ip")
    response = await client.post("/api/event", json=pageview(), headers=from_ip("198.51.101.7"))
    assert "X-Footfall-Dropped" not in response.headers
    assert len(stream_events(redis_db)) == 1


async def test_an_ipv4_mapped_ipv6_client_is_its_ipv4_address(make_client, add_site, redis_db):
    client = await make_client(rate_limit_ip=1, **PROXY)
    await add_site("news.example", excluded_ips=["192.0.2.4"])

    async def send(ip: str):  # type: ignore[no-untyped-def]
        return await client.post("/api/event", json=pageview(), headers=from_ip(ip))

    # Mapped, two addresses are two clients (not one /64), and an address is one client
    # however it is written.
    assert (await send("::ffff:198.51.100.7")).status == 202
    assert (await send("::ffff:198.51.100.8")).status == 202
    assert (await send("198.51.100.7")).status == 429
    dropped = await send("::ffff:192.0.2.4")
    assert (dropped.status, dropped.headers.get("X-Footfall-Dropped")) == (202, "excluded_ip")
    # A server's batch: each event's ip too, and its country is the IPv4 address's.
    batch = [pageview(ip="::ffff:192.0.2.4"), pageview(ip="::ffff:14.160.0.1")]
    response = await client.post("/api/events", json=batch, headers=AUTH)
    assert await response.json() == {"accepted": 1, "dropped": 1}
    assert [e.country for e in stream_events(redis_db)] == ["", "", "VN"]


async def test_an_excluded_range_written_as_mapped_ipv6_excludes_its_ipv4_clients(
    make_client, add_site
):
    client = await make_client(**PROXY)
    await add_site("news.example", excluded_ips=["::ffff:192.0.2.0/120", "::ffff:198.51.100.9"])
    for ip, excluded in [("192.0.2.77", True), ("::ffff:192.0.2.78", True),
                         ("198.51.100.9", True), ("198.51.100.10", False)]:  # fmt: skip
        response = await client.post("/api/event", json=pageview(), headers=from_ip(ip))
        assert (response.headers.get("X-Footfall-Dropped") == "excluded_ip") is excluded, ip


@pytest.mark.parametrize(
    ("path", "excluded"),
    [("/admin/", True), ("/admin/users/7", True), ("/preview-draft", True),
     ("/news/admin.html", False), ("/", False), ("/previews", True)],
)  # fmt: skip
async def test_events_on_excluded_paths_are_dropped(client, add_site, redis_db, path, excluded):
    await add_site("news.example", excluded_paths=["/admin/*", "/preview*"])
    response = await client.post("/api/event", json=pageview(f"https://news.example{path}?x=1"))
    assert response.status == 202
    assert (response.headers.get("X-Footfall-Dropped") == "excluded_path") is excluded
    assert len(stream_events(redis_db)) == (0 if excluded else 1)


GLOB_CHARACTERS = st.sampled_from(list("ab/.-*?[]!^\\é\n"))


@settings(max_examples=2000, deadline=None)
@given(glob=st.text(GLOB_CHARACTERS, max_size=12), path=st.text(GLOB_CHARACTERS, max_size=12))
def test_excluded_path_globs_run_on_re2_and_match_as_fnmatch_does(glob, path):
    from footfall.patterns import compile_glob  # RE2, where fnmatch's regex is Python's

    assert isinstance(compile_glob(glob), re2._Regexp)
    site = Site(domain="news.example", excluded_paths=(glob,))
    assert site.excludes_path(path) == fnmatch.fnmatchcase(path, glob)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"excluded_ips": ["10.0.0.0/33"]}, "excluded_ips[0]"),
        ({"excluded_ips": ["10.0.0.1", "office"]}, "excluded_ips[1]"),
        ({"excluded_paths": ["admin/*"]}, "excluded_paths[0]"),
        ({"allow_subdomains": "yes"}, "allow_subdomains"),
    ],
)
async def test_bad_protection_settings_are_refused_naming_the_field(client, fields, field):
    response = await client.post(
        "/api/v1/sites", json={"domain": "news.example", **fields}, headers=AUTH
    )
    assert response.status == 400
    assert (await response.json())["field"] == field


async def test_protection_settings_are_kept_in_clickhouse(client, add_site):
    fields = {
        "allow_subdomains": True,
        "excluded_ips": ["192.0.2.0/24"],
        "excluded_paths": ["/admin/*"],
    }
    await add_site("news.example", **fields)
    response = await client.get("/api/v1/sites/news.example", headers=AUTH)
    site = await response.json()
    assert {k: site[k] for k in fields} == fields


async def test_ingest_lua_names_its_counters_as_footfall_keys_does(
    make_client, add_site, redis_db, clock
):
    client = await make_client(rate_limit_ip=10, rate_limit_site=10, rate_limit_window=60)
    await add_site("news.example")
    await client.post("/api/event", json=pageview())
    slot = clock() // 60_000
    (client_key_name,) = redis_db.keys(keys.client_limit("news.example", "*", slot))
    assert redis_db.get(client_key_name) == b"1"
    assert redis_db.get(keys.limit("news.example", slot)) == b"1"
    assert redis_db.get(keys.accepted("news.example", clock() // 60_000)) == b"1"


def test_ingest_lua_names_no_key_itself():
    """It appends an article, a visitor or a window's number to prefixes footfall/keys.py
    gives it, and writes no piece of a key name of its own."""
    script = resources.files("collector").joinpath("ingest.lua").read_text()
    code = "\n".join(line.split("--")[0] for line in script.splitlines())
    texts = re.findall(r'"([^"]*)"', code)
    pieces = ("ff:", "}", "online", "readers", "visit", "limit", "accepted", "receipt", "events")
    assert [text for text in texts if any(piece in text for piece in pieces)] == []


def test_the_site_command_sets_the_protection_settings(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("FOOTFALL_")}
    env["FOOTFALL_DATA_DIR"] = str(tmp_path / "data")
    command = [sys.executable, "-m", "app", "site"]
    added = subprocess.run(
        [*command, "add", "news.example", "--allow-subdomains", "--exclude-ip", "10.0.0.0/8",
         "--exclude-path", "/admin/*", "--exclude-path", "/preview*"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    changed = subprocess.run(
        [*command, "set", "news.example", "--online-window", "600"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert changed.returncode == 0, changed.stderr
    site = json.loads(changed.stdout.split("\n\n")[0])
    assert site["allow_subdomains"] is True
    assert site["excluded_ips"] == ["10.0.0.0/8"]
    assert site["excluded_paths"] == ["/admin/*", "/preview*"]


async def test_a_burst_on_a_cold_collector_is_accepted_whole(make_client, add_site, redis_db):
    """Hundreds of requests missing the same site and salt share one lookup each, so the
    Redis pool does not run dry and no event is answered 503."""
    client = await make_client(**PROXY)
    await add_site("news.example")

    async def send(i: int) -> int:
        headers = from_ip(f"10.1.{i // 250}.{i % 250}")
        return (await client.post("/api/event", json=pageview(), headers=headers)).status

    statuses = await asyncio.gather(*(send(i) for i in range(400)))
    assert statuses == [202] * 400
    assert len(stream_events(redis_db)) == 400
