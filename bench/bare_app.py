"""The baseline for bench/collector.py: aiohttp on uvloop answering 202 "ok" and nothing else.

It is served the way `footfall collector` serves (`footfall.serve.run`):
`web.run_app(..., reuse_port=True, access_log=None, loop=uvloop.new_event_loop())`,
with N forked processes sharing the port when `--workers` > 1. The handler reads
the body, as the collector must, and does no other work.

    .venv/bin/python bench/bare_app.py --port 8101 --workers 1
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import signal

import uvloop
from aiohttp import web


async def post_event(request: web.Request) -> web.Response:
    await request.read()
    return web.Response(status=202, text="ok")


def create_app() -> web.Application:
    app = web.Application()
    app.router.add_post("/api/event", post_event)
    return app


def serve(host: str, port: int) -> None:
    def banner(_: str) -> None:
        print(f"bare app (pid {os.getpid()}) listening on port {port}", flush=True)

    web.run_app(
        create_app(),
        host=host,
        port=port,
        reuse_port=True,
        access_log=None,
        print=banner,
        loop=uvloop.new_event_loop(),
    )


def serve_workers(host: str, port: int, workers: int) -> None:
    """Like `footfall.serve.run_collectors`: one process, or N forked children on one port."""
    if workers == 1:
        serve(host, port)
        return
    context = multiprocessing.get_context("fork")
    children = [context.Process(target=serve, args=(host, port)) for _ in range(workers)]
    for child in children:
        child.start()

    def stop(signum: int, _frame: object) -> None:
        for child in children:
            if child.pid:
                os.kill(child.pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for child in children:
        child.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    serve_workers(args.host, args.port, args.workers)


if __name__ == "__main__":
    main()
