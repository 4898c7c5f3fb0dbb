"""The CLI's road to a running server: its JSON API, called with the admin token.

`ServerApi._call` turns the API's JSON errors into `ClientError`s, carrying the
API's message and field, so a command reads the same whether it went through
the server or straight to the stores (`app.roads`).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any


class ClientError(Exception):
    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.message = message
        self.field = field


class ServerApi:
    def __init__(self, base_url: str, token: str):
        self._base_url = base_url.rstrip("/")
        self._token = token

    def _call(self, method: str, path: str, body: object = None) -> Any:
        request = urllib.request.Request(
            self._base_url + path,
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {self._token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.load(response)
        except urllib.error.HTTPError as e:
            error = json.loads(e.read() or b"{}")
            raise ClientError(error.get("error", str(e)), error.get("field", "")) from None
        except urllib.error.URLError as e:
            raise ClientError(f"cannot reach {self._base_url}: {e.reason}") from None
