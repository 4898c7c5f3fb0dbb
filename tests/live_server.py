"""A real footfall server on a free port, run by a background thread with its own event loop.

For tests that drive a browser with Playwright's sync API, which cannot run inside
a running asyncio loop: the test stays synchronous, the server lives elsewhere.
"""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Callable

from aiohttp import web

from footfall.serve import new_event_loop

START_TIMEOUT = 30.0


class LiveServer:
    """Serves the application `make_app()` builds (on the server's own loop) at `self.url`."""

    def __init__(self, make_app: Callable[[], web.Application], host: str = "127.0.0.1"):
        self._make_app = make_app
        self.host = host
        self.port = 0
        self.url = ""
        self._loop = new_event_loop()
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, name="live-server")

    def start(self) -> LiveServer:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._start(), self._loop)
        try:
            future.result(START_TIMEOUT)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            if self._runner is not None:
                cleanup = asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop)
                cleanup.result(START_TIMEOUT)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(START_TIMEOUT)
        self._loop.close()

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def request(
        self,
        method: str,
        path: str,
        body: object = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict]:
        """One HTTP request to the server; answers (status, decoded JSON body)."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json", **(headers or {})},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    async def _start(self) -> None:
        # The application is made here, on the server's loop: whatever it creates
        # at construction belongs to the loop that will run it.
        self._runner = web.AppRunner(self._make_app(), access_log=None)
        await self._runner.setup()
        # Port 0: the kernel picks a free port, with no window for another process to take it.
        await web.TCPSite(self._runner, self.host, 0).start()
        self.port = self._runner.addresses[0][1]
        self.url = f"http://{self.host}:{self.port}"
