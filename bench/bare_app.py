"""The baseline for bench/collector.py: aiohttp on uvloop answering 202 "ok" and nothing else.

It is served by the very code that serves `footfall collector`
(`app.serve.run_workers`: uvloop, no access log, N forked processes sharing
the port when `--workers` > 1). The handler reads the body, as the collector
must, and does no other work.

    .venv/bin/python bench/bare_app.py --port 8101 --workers 1
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from app.serve import run_workers


async def post_event(request: web.Request) -> web.Response:
    await request.read()
    return web.Response(status=202, text="ok")


def create_app() -> web.Application:
    app = web.Application()
    app.router.add_post("/api/event", post_event)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    run_workers(create_app, args.host, args.port, args.workers)


if __name__ == "__main__":
    main()
