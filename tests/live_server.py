"""A real footfall server on a free port, run by a background thread with its own event loop.

It runs on footfall's own runner (`footfall.http_server.AppRunner`), so requests
sent as raw bytes (`LiveServer.raw`) meet what a deployed server answers.

For tests that drive a browser with Playwright's sync API, which cannot run inside
a running asyncio loop: the test stays synchronous, the server lives elsewhere.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import NamedTuple

from aiohttp import web

from app.serve import new_event_loop
from footfall.http_server import AppRunner

START_TIMEOUT = 30.0


class RawAnswer(NamedTuple):
    status: int
    headers: dict[str, str]
    """By lowercased name."""
    body: bytes


class LiveServer:
    """Serves the application `make_app()` builds (on the server's own loop) at `self.url`."""

    def __init__(self, make_app: Callable[[], web.Application], host: str = "127.0.0.1"):
        self._make_app = make_app
        self.host = host
        self.port = 0
        self.url = ""
        self._loop = new_event_loop()
        self._runner: AppRunner | None = None
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

    def raw(self, request: bytes) -> RawAnswer:
        """Sends `request` byte for byte (what aiohttp's client refuses to send: bytes that
        are not UTF-8, malformed lines) and reads the answer until the server closes the
        connection: send `Connection: close` with a well-formed request."""
        with socket.create_connection((self.host, self.port), timeout=10) as connection:
            connection.sendall(request)
            answer = b""
            while chunk := connection.recv(65536):
                answer += chunk
        head, _, body = answer.partition(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        return RawAnswer(int(status_line.split()[1]), headers, body)

    async def _start(self) -> None:
        # The application is made here, on the server's loop: whatever it creates
        # at construction belongs to the loop that will run it.
        self._runner = AppRunner(self._make_app(), access_log=None)
        await self._runner.setup()
        # Port 0: the kernel picks a free port, with no window for another process to take it.
        await web.TCPSite(self._runner, self.host, 0).start()
        self.port = self._runner.addresses[0][1]
        self.url = f"http://{self.host}:{self.port}"


def raw_request(method: str, path: bytes, headers: list[bytes], body: bytes = b"") -> bytes:
    """An HTTP/1.1 request as bytes, asking the server to close the connection after it."""
    head = [b"%s %s HTTP/1.1" % (method.encode(), path), b"Host: 127.0.0.1",
            b"Connection: close", b"Content-Length: %d" % len(body), *headers]  # fmt: skip
    return b"\r\n".join(head) + b"\r\n\r\n" + body
