"""Container health checks: `python -m footfall.healthcheck [URL | --aggregator]`.

The image's HEALTHCHECK runs it. A server is healthy when the URL (its
`/health`, or the aggregator's `/ready`) answers 200. An aggregator run with
`FOOTFALL_AGGREGATOR_PORT=0` serves no HTTP: it touches a heartbeat file in the
data dir while its loop runs and its inserts succeed (it always does), and is
healthy while that file is fresh. Exit status 0 is healthy, 1 is not (Docker's convention).
Only the standard library and the settings: it runs every 10 s in every container.
"""

from __future__ import annotations

import sys
import time
import urllib.request
from pathlib import Path

from footfall.settings import Settings, load_settings

HEARTBEAT_FILE = "aggregator.alive"
HEARTBEAT_EVERY = 5.0
# Three missed beats: a batch insert of 10,000 events takes about a second.
HEARTBEAT_STALE = 3 * HEARTBEAT_EVERY


def heartbeat_path(settings: Settings) -> Path:
    return settings.data_dir / HEARTBEAT_FILE


def beat(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()


def problem_with_url(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return None if response.status == 200 else f"{url}: {response.status}"
    except OSError as e:
        return f"{url}: {e}"


def problem_with_heartbeat(path: Path, now: float | None = None) -> str | None:
    try:
        age = (time.time() if now is None else now) - path.stat().st_mtime
    except FileNotFoundError:
        return f"no heartbeat at {path}"
    return None if age <= HEARTBEAT_STALE else f"last heartbeat {age:.0f}s ago ({path})"


def main(argv: list[str]) -> int:
    if argv == ["--aggregator"]:
        problem = problem_with_heartbeat(heartbeat_path(load_settings()))
    elif len(argv) == 1 and argv[0].startswith("http"):
        problem = problem_with_url(argv[0])
    else:
        print("usage: python -m footfall.healthcheck URL | --aggregator", file=sys.stderr)
        return 2
    if problem:
        print(problem, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
