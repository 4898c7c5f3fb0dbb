"""What observing a request costs: the request observer middleware, in µs.

    .venv/bin/python bench/observe.py [--requests 200000]

Calls a trivial handler directly, then through `footfall.observe` (request id,
latency histogram, access-log decision for a quiet route, X-Request-Id on the
response, the check that every header is UTF-8), in-process on one routed request
with a browser's beacon headers, and prints the difference per
request; then the same with every request access-logged as a JSON line
(`FOOTFALL_ACCESS_LOG_SAMPLE=1`, to /dev/null). The collector spends about
250 µs per event (4,000 events/s per core, BENCHMARKS.md), so this is the share
of its time observing takes.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import time

from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from footfall import logs, observe
from footfall.settings import Settings
from footfall.web import setup_operations

# What Chrome sends with a sendBeacon to another origin: the headers observing checks.
BEACON_HEADERS = {
    "Host": "stats.news.example",
    "Connection": "keep-alive",
    "Content-Length": "120",
    "User-Agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Content-Type": "text/plain;charset=UTF-8",
    "Accept": "*/*",
    "Origin": "https://news.example",
    "Sec-Fetch-Site": "cross-site",
    "Sec-Fetch-Mode": "no-cors",
    "Sec-Fetch-Dest": "empty",
    "Referer": "https://news.example/tin-tuc/story-975.html",
    "Accept-Encoding": "gzip, deflate, br, zstd",
    "Accept-Language": "vi-VN,vi;q=0.9,en-US;q=0.8,en;q=0.7",
}


async def accepted(request: web.Request) -> web.Response:
    return web.Response(status=202, body=b"ok")


async def per_request(call, requests: int) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    for _ in range(requests):
        await call()
    return (time.perf_counter() - started) / requests * 1e6


async def main(requests: int) -> None:
    app = web.Application()
    setup_operations(app, metrics_token="")
    app.router.add_post("/api/event", accepted)
    app[observe.QUIET_ROUTES].add("/api/event")
    request = make_mocked_request("POST", "/api/event", headers=BEACON_HEADERS, app=app)
    match_info = await app.router.resolve(request)  # as aiohttp does before handling
    match_info.add_app(app)
    request._match_info = match_info

    async def bare() -> None:
        await accepted(request)

    async def observed() -> None:
        await observe.observe_requests(request, accepted)

    for _ in range(3):  # warm up, then the best of three runs of each
        await per_request(bare, requests // 10)
        await per_request(observed, requests // 10)
    bare_us = min([await per_request(bare, requests) for _ in range(3)])
    observed_us = min([await per_request(observed, requests) for _ in range(3)])
    print(f"handler alone     {bare_us:6.2f} µs/request")
    print(f"observed          {observed_us:6.2f} µs/request")
    cost = observed_us - bare_us
    print(f"observing costs   {cost:6.2f} µs/request ({cost / 2.5:.1f} % of 250 µs per event)")
    with open(os.devnull, "w") as devnull:
        logs.setup(Settings(log_format="json", access_log_sample=1), devnull)
        logged_us = min([await per_request(observed, requests // 10) for _ in range(3)])
    logging.getLogger().handlers.clear()
    cost = logged_us - bare_us
    print(f"with access lines {cost:6.2f} µs/request ({cost / 2.5:.1f} % of 250 µs per event)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200_000)
    asyncio.run(main(parser.parse_args().requests))
