"""footfall components as real processes, for the deployment and shutdown tests.

`Component` starts `python -m app ARGS` (the `footfall` command) with a given environment and a
log file, waits for a URL or a log line, and stops it with a real signal.
ClickHouse is counted by a separate process: one process may open a chdb
folder, and the test process has its own.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

FOOTFALL = [sys.executable, "-m", "app"]
START_TIMEOUT = 90.0


def clean_environ() -> dict[str, str]:
    """This process's environment without any FOOTFALL_* variable of the developer's."""
    return {k: v for k, v in os.environ.items() if not k.startswith("FOOTFALL_")}


def wait_for(condition: Callable[[], object], what: str, timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def answers(url: str) -> bool:
    try:
        return get(url)[0] == 200
    except OSError:
        return False


class Component:
    """One `footfall ...` process (run by `wrapper` when given: a command that ends by
    executing the rest of its arguments)."""

    def __init__(
        self, args: list[str], env: dict[str, str], log: Path, wrapper: tuple[str, ...] = ()
    ):
        self.args = args
        self.log = log
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "ab") as out:
            self.process = subprocess.Popen(
                [*wrapper, *FOOTFALL, *args], env=env, stdout=out, stderr=subprocess.STDOUT
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_ready(self, url: str) -> Component:
        def up() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"footfall {self.args} exited: {self.output()}")
            return answers(url)

        wait_for(up, f"{url} of footfall {self.args}")
        return self

    def wait_output(self, text: str) -> Component:
        def seen() -> bool:
            if self.process.poll() is not None and text not in self.output():
                raise AssertionError(f"footfall {self.args} exited: {self.output()}")
            return text in self.output()

        wait_for(seen, f"{text!r} from footfall {self.args}")
        return self

    def terminate(self, timeout: float = 60.0) -> int:
        """SIGTERM, as `docker stop` sends; returns the exit status."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


def run_footfall(
    env: dict[str, str], *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*FOOTFALL, *args], env=env, input=stdin, capture_output=True, text=True, timeout=180,
        check=False,
    )  # fmt: skip


def clickhouse_query(dsn: str, sql: str) -> list[list]:
    """Rows of `sql`, read by another process (which must be the only one on a chdb path)."""
    script = (
        "import json, clickhouse_connect\n"
        f"client = clickhouse_connect.get_client(dsn={dsn!r})\n"
        f"print(json.dumps(client.query({sql!r}).result_rows, default=str))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=180, check=True
    )
    return json.loads(out.stdout)
