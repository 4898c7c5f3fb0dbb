"""Serving footfall's applications: aiohttp's runner, with aiohttp's own refusals as JSON.

aiohttp answers a request its parser refuses (a malformed request line, a header
line over 8 KB, `Content-Length: -1`, bytes that are no HTTP) before any
middleware runs, in text that quotes the offending bytes back. `AppRunner` (use it
where `web.AppRunner` would be) serves connections with `JsonErrorHandler`, which
answers those as every other error: `{"error": "...", "field": "..."}`
(`footfall/errors.py`), echoing nothing. aiohttp has no setting for this (its
issue 3287 asks for one), so `web.RequestHandler.handle_error` is overridden, and
the runner's `_make_server` (private, as are the `web.Server` attributes it
copies; aiohttp 3.14) makes a `web.Server` that builds that handler: the raw
socket tests in tests/test_validation.py fail if an upgrade moves them. `run_app`
is `web.run_app`'s life cycle on that runner (`web.run_app` makes its own
`web.AppRunner`, with no way to pass another).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from http import HTTPStatus

from aiohttp import web

from footfall.errors import json_error, protocol_error

KEEPALIVE_TIMEOUT = 75.0  # web.run_app's (a bare RequestHandler keeps an idle connection an hour)


class JsonErrorHandler(web.RequestHandler):
    """aiohttp's connection handler, answering what it refuses itself as a JSON error."""

    __slots__ = ()  # one per connection, as light as aiohttp's

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        # aiohttp's own logs the error and raises when an answer was sent already;
        # only its text answer is replaced.
        super().handle_error(request, status, exc, message)
        if 400 <= status < 500:
            text, field = protocol_error(exc)
        else:  # a handler that failed outside the request observer, or timed out
            text, field = ("internal error" if status == 500 else HTTPStatus(status).phrase), ""
        response = json_error(status, text, field)
        response.force_close()  # as aiohttp's: the rest of the connection cannot be trusted
        return response


class JsonErrorServer(web.Server):
    def __call__(self) -> web.RequestHandler:
        return JsonErrorHandler(self, loop=self._loop, **self._kwargs)


class AppRunner(web.AppRunner):
    """`web.AppRunner` whose connections are served by `JsonErrorHandler`."""

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()  # starts the application
        return JsonErrorServer(
            server.request_handler,
            request_factory=server.request_factory,
            handler_cancellation=server.handler_cancellation,
            loop=server._loop,
            **server._kwargs,
        )


def run_app(
    app: web.Application,
    *,
    host: str,
    port: int,
    loop: asyncio.AbstractEventLoop,
    started: Callable[[], None],
    reuse_port: bool = False,
) -> None:
    """Serve `app` until SIGTERM or SIGINT, then shut down gracefully, as `web.run_app`
    (no access log: the request observer writes one)."""
    main = loop.create_task(_serve(app, host, port, started, reuse_port))
    try:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(main)
    except (web.GracefulExit, KeyboardInterrupt):  # the runner's signal handlers raise these
        pass
    finally:
        try:
            if not main.done():
                main.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    loop.run_until_complete(main)
        finally:
            _cancel_the_rest(loop)
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()


async def _serve(
    app: web.Application, host: str, port: int, started: Callable[[], None], reuse_port: bool
) -> None:
    runner = AppRunner(
        app, handle_signals=True, access_log=None, keepalive_timeout=KEEPALIVE_TIMEOUT
    )
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port, reuse_port=reuse_port).start()
        started()
        await asyncio.Event().wait()  # until a signal ends the loop's run
    finally:
        await runner.cleanup()


def _cancel_the_rest(loop: asyncio.AbstractEventLoop) -> None:
    tasks = asyncio.all_tasks(loop)
    for task in tasks:
        task.cancel()
    loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
    for task in tasks:
        if not task.cancelled() and task.exception() is not None:
            loop.call_exception_handler(
                {
                    "message": "a task failed at shutdown",
                    "exception": task.exception(),
                    "task": task,
                }
            )
