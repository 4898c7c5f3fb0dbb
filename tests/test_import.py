"""Backfill from CSV: historical page views through the stream and the aggregator."""

from __future__ import annotations

import asyncio
import json
import re
import time
import urllib.request

import pytest

from aggregator import importer
from aggregator.importer import BadRow, ImportedBefore, import_file
from footfall import keys
from footfall.connections import async_redis
from tests.test_cli import env, footfall, server  # noqa: F401 - fixtures

CSV = """timestamp,url,visitor,referrer,title
2020-05-13T10:25:00+07:00,https://portal.example/tin-tuc/975.html,a,https://www.google.com/,Lượt xem
2020-05-13T10:26:00+07:00,https://portal.example/tin-tuc/976.html,a,https://portal.example/tin-tuc/975.html,Khác
2020-05-13T11:30:00+07:00,https://portal.example/tin-tuc/975.html,a,,Lượt xem
1589340000,https://portal.example/tin-tuc/975.html,b,https://zalo.me/,Lượt xem
"""


@pytest.fixture
async def portal(add_site):
    return await add_site("portal.example", timezone="Asia/Ho_Chi_Minh", public_counters=True)


async def test_an_import_lands_in_events_rollups_and_counters(
    tmp_path, portal, settings, aggregator, ch, redis_db
):
    path = tmp_path / "old.csv"
    path.write_text(CSV)
    progress = []
    redis = async_redis(settings.redis_url)
    count = await import_file(
        str(path), redis, default_site=None, visit_gap_ms=1_800_000,
        drain=aggregator.drain, on_progress=lambda done, total: progress.append((done, total)),
    )  # fmt: skip
    await redis.aclose()

    assert count == 4
    assert progress == [(0, 4), (4, 4)]
    # a's third view comes 64 minutes after the second: a new visit
    assert ch.query(
        "SELECT sum(pageviews), sum(visits), sum(bounces) FROM site_hourly"
    ).result_rows == [(4, 3, 2)]
    assert ch.query(
        "SELECT article_id, sum(pageviews) FROM article_totals GROUP BY article_id ORDER BY article_id"
    ).result_rows == [("975", 3), ("976", 1)]
    sources = ch.query(
        "SELECT value, sum(visits) FROM breakdown_stats WHERE property = 'source' AND span = 'day' GROUP BY value ORDER BY value"
    ).result_rows
    assert sources == [("direct", 1), ("search", 1), ("social", 1)]
    assert (
        ch.query("SELECT DISTINCT date FROM events").result_rows[0][0].isoformat() == "2020-05-13"
    )
    assert redis_db.hgetall(keys.totals("portal.example")) == {b"pageviews": b"4", b"visits": b"3"}
    assert redis_db.xlen(keys.stream("portal.example")) == 0
    # Each view carries its visit's entry: a's second view the Google visit's.
    assert ch.query(
        "SELECT path, visit_source_name, visit_entry_page FROM events ORDER BY ts"
    ).result_rows == [
        ("/tin-tuc/975.html", "Zalo", "/tin-tuc/975.html"),
        ("/tin-tuc/975.html", "Google", "/tin-tuc/975.html"),
        ("/tin-tuc/976.html", "Google", "/tin-tuc/975.html"),
        ("/tin-tuc/975.html", "", "/tin-tuc/975.html"),
    ]


async def test_a_file_imported_before_is_refused_unless_asked_again(
    tmp_path, portal, settings, aggregator, redis_db
):
    path = tmp_path / "old.csv"
    path.write_text(CSV)
    redis = async_redis(settings.redis_url)
    options = {"default_site": None, "visit_gap_ms": 1_800_000, "drain": aggregator.drain}
    assert await import_file(str(path), redis, **options) == 4
    # The same rows under another name are the same file.
    copy = tmp_path / "copy.csv"
    copy.write_text(CSV)
    with pytest.raises(ImportedBefore, match=r"was imported on .* UTC \(4 page views\)"):
        await import_file(str(copy), redis, **options)
    assert redis_db.hget(keys.totals("portal.example"), "pageviews") == b"4"
    assert await import_file(str(copy), redis, **options, again=True) == 4
    await redis.aclose()
    assert redis_db.hget(keys.totals("portal.example"), "pageviews") == b"8"


async def test_two_imports_of_one_file_at_once_add_it_once(tmp_path, portal, settings, redis_db):
    path = tmp_path / "old.csv"
    path.write_text(CSV)
    redis = async_redis(settings.redis_url)
    options = {"default_site": None, "visit_gap_ms": 1_800_000, "drain": None}
    outcomes = await asyncio.gather(
        import_file(str(path), redis, **options),
        import_file(str(path), redis, **options),
        return_exceptions=True,
    )
    await redis.aclose()
    assert sorted(map(type, outcomes), key=str) == sorted([int, ImportedBefore], key=str)
    assert redis_db.xlen(keys.stream("portal.example")) == 4


async def test_a_file_whose_import_stopped_is_refused_with_what_was_added(
    tmp_path, portal, settings, redis_db, monkeypatch
):
    monkeypatch.setattr(importer, "CHUNK", 2)
    path = tmp_path / "old.csv"
    path.write_text(CSV)
    redis = async_redis(settings.redis_url)

    def stop_after_a_chunk(done: int, total: int) -> None:
        if done:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        await import_file(
            str(path), redis, default_site=None, visit_gap_ms=1_800_000, drain=None,
            on_progress=stop_after_a_chunk,
        )  # fmt: skip
    assert redis_db.xlen(keys.stream("portal.example")) == 2
    with pytest.raises(ImportedBefore, match="at least 2 of its 4 page views were added"):
        await import_file(str(path), redis, default_site=None, visit_gap_ms=1_800_000, drain=None)
    await redis.aclose()
    assert redis_db.xlen(keys.stream("portal.example")) == 2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("url,visitor\nhttps://portal.example/,a\n", "line 1: missing column(s) timestamp"),
        ("timestamp,url\nyesterday,https://portal.example/\n", "line 2: timestamp 'yesterday'"),
        ("timestamp,url\n1589340000,ftp://portal.example/\n", "line 2: url must be an http(s) URL"),
        ("timestamp,url\n1589340000,https://portal.example/\n4102444800,https://portal.example/\n",
         "line 3: timestamp '4102444800' is in the future"),
        ("timestamp,url\n1589340000,https://portal.example/\n1589340000,https://nobody.example/\n",
         "line 3: no site is registered for nobody.example"),
    ],
)  # fmt: skip
async def test_a_bad_row_names_its_line_and_adds_nothing(
    tmp_path, portal, settings, redis_db, text, message
):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    redis = async_redis(settings.redis_url)
    with pytest.raises(BadRow, match=re.escape(message)):
        await import_file(str(path), redis, default_site=None, visit_gap_ms=1_800_000, drain=None)
    await redis.aclose()
    assert redis_db.xlen(keys.stream("portal.example")) == 0


def test_the_import_command_with_no_server_running(env, tmp_path):  # noqa: F811
    assert footfall(env, "site", "add", "portal.example").returncode == 0
    path = tmp_path / "old.csv"
    path.write_text(CSV)
    result = footfall(env, "import", str(path))
    assert result.returncode == 0, result.stderr
    assert "imported 4 page views" in result.stdout
    again = footfall(env, "import", str(path))
    assert again.returncode == 1
    assert "this file was imported on" in again.stderr and "--again" in again.stderr
    assert "imported 4 page views" in footfall(env, "import", str(path), "--again").stdout
    offset = footfall(env, "site", "set", "portal.example", "--counter-offset", "34231142")
    assert '"counter_offset": 34231142' in offset.stdout
    bad = tmp_path / "bad.csv"
    bad.write_text("url\nhttps://portal.example/\n")
    result = footfall(env, "import", str(bad))
    assert result.returncode == 1
    assert "missing column(s) timestamp" in result.stderr


def test_the_import_command_goes_through_a_running_server(env, server, tmp_path):  # noqa: F811
    url, _ = server
    assert footfall(env, "site", "add", "portal.example", "--public-counters").returncode == 0
    path = tmp_path / "old.csv"
    path.write_text(CSV)
    result = footfall(env, "import", str(path))
    assert result.returncode == 0, result.stderr
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"{url}/api/counters?d=portal.example", timeout=5) as answer:
            if json.load(answer)["total"] == 3:  # visits, counted by serve's aggregator
                return
        time.sleep(0.2)
    pytest.fail("the imported visits never reached the counters")
