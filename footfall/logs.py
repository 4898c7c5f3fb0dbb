"""The one logging setup of every footfall command: text or JSON lines, with the request id.

The standard library's logging, configured once per process by `setup(settings)`
(the CLI calls it): every module logs through `logging.getLogger(__name__)` as
before, and aiohttp's and the drivers' loggers come out in the same format.
`json` writes one object a line (`ts`, `level`, `logger`, `msg`, the
`request_id` of the request being handled, any `extra=` fields, `exc`), for a
log collector; `text` is for a terminal. The request id lives in a context
variable set by the request middleware (`footfall/observe.py`), so every line
written while a request is handled carries it, whichever module writes it.

The access log's sampling of the hot routes is set here too: like the format, it
is the process's, not one application's.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import logging
import sys
from typing import Any, TextIO

import orjson

from footfall.settings import Settings

REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "footfall_request_id", default=None
)

# The attributes every LogRecord has; the others came from `extra=` and are written out.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class AccessLogPolicy:
    """Which requests get an access log line.

    Every request but those to quiet routes (the Events API, the public counters,
    the snippet, health probes and scrapes: thousands a second, or noise) is
    logged. Of the quiet ones, server errors always, and one in `quiet_sample`
    of the others (0: none).
    """

    def __init__(self, quiet_sample: int = 0):
        self.quiet_sample = quiet_sample
        self._seen = 0

    def wants(self, quiet: bool, status: int) -> bool:
        if not quiet or status >= 500:
            return True
        if not self.quiet_sample:
            return False
        self._seen += 1
        return self._seen % self.quiet_sample == 0


ACCESS_LOG = AccessLogPolicy()


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        # Read when the line is written: handlers here write synchronously, in the
        # context (the request) of the code that logs.
        request_id = REQUEST_ID.get()
        if request_id:
            line["request_id"] = request_id
        for key, value in record.__dict__.items():
            if key not in _STANDARD:
                line[key] = value
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        request_id = REQUEST_ID.get()
        return f"{text} [{request_id}]" if request_id else text


def formatter(name: str) -> logging.Formatter:
    """The formatter of setting `log_format` (checked when the settings are read)."""
    return JsonFormatter() if name == "json" else TextFormatter()


def setup(settings: Settings, stream: TextIO | None = None) -> None:
    """Configure the root logger (INFO, to stderr) and the access log, once per process.

    As `logging.basicConfig`, which it uses, it leaves a root logger that already
    has handlers alone: a test runner's capture, when a test calls the CLI in-process.
    """
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter(settings.log_format))
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    ACCESS_LOG.quiet_sample = settings.access_log_sample
