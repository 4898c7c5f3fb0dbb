"""Queries in `footfall serve`'s first minutes on a big data dir: does start-up work starve them?

    .venv/bin/python bench/startup.py [--data-dir /tmp/ff-dash-bench] [--seconds 120]
        [--window 15]

The chdb folder is `bench/dashboard.py`'s (`<data-dir>/chdb`, made there: 10 M page
views of bench.example by default; run that first, and not at the same time: one
process may open a chdb folder). What it does, every process on 127.0.0.1:

1. starts `footfall serve` on that folder (`FOOTFALL_CLICKHOUSE_DSN`) with a fresh data
   dir of its own, so a fresh embedded Redis: the hot counters are reseeded from
   ClickHouse, and the site's days from the data's end to today are due to close, the
   work of a first start after an upgrade or after Redis lost its data;
2. from `/ready` on, for `--seconds`, makes the unfiltered calls of the site's page
   (`bench/dashboard.py`'s `page_calls`: 30d and 12mo ending on the data's last day),
   one after another, round after round, keeping each call's time and moment;
3. prints, per `--window` seconds since `/ready`: calls, p50, p95 and max (ms). The
   last windows are the steady state to compare the first with.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.redis_server import free_port  # noqa: E402
from bench.dashboard import END, page_calls, pct  # noqa: E402
from bench.faults import FaultError, Serve, get  # noqa: E402


def timed_calls(serve: Serve, seconds: float) -> list[tuple[float, str, float]]:
    """(moment since /ready, call, seconds) of every call made for `seconds`."""
    day = END.date().isoformat()
    calls = [
        (f"{period} {name}", f"{path}?{urlencode(params | {'date': day})}")
        for period in ("30d", "12mo")
        for name, path, params in page_calls(period, [])
    ]
    timed = []
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        for name, path in calls:
            before = time.monotonic()
            status, body = get(serve.url + path, serve.token, timeout=600)
            if status != 200:
                raise FaultError(f"{name}: {status} {body[:300]}")
            timed.append((before - started, name, time.monotonic() - before))
            if time.monotonic() - started >= seconds:
                break
    return timed


def print_windows(timed: list[tuple[float, str, float]], window: float) -> None:
    print("| seconds after /ready | calls | p50 ms | p95 ms | max ms | slowest call |")
    print("|---|---|---|---|---|---|")
    last = int(max(moment for moment, _, _ in timed) // window)
    for w in range(last + 1):
        part = [(name, took) for moment, name, took in timed if int(moment // window) == w]
        if not part:
            continue
        took = [t for _, t in part]
        slowest = max(part, key=lambda p: p[1])[0]
        print(f"| {w * window:.0f}-{(w + 1) * window:.0f} | {len(part)} | {pct(took, 50):.0f} | "
              f"{pct(took, 95):.0f} | {max(took) * 1000:.0f} | {slowest} |")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/ff-dash-bench"))
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--window", type=float, default=15)
    args = parser.parse_args()
    folder = (args.data_dir / "chdb").resolve()
    if not folder.is_dir():
        print(f"no chdb folder at {folder}: make it with bench/dashboard.py first")
        return 2
    with tempfile.TemporaryDirectory(prefix="footfall-bench-startup-") as tmp:
        log = Path(tmp) / "serve.log"
        serve = Serve(Path(tmp) / "data", free_port(), log,
                      settings={"clickhouse_dsn": f"chdb://{folder}"})  # fmt: skip
        try:
            ready_s = serve.wait_ready()
            print(f"footfall serve on {folder}: /ready after {ready_s:.1f} s")
            timed = timed_calls(serve, args.seconds)
        finally:
            serve.stop()
        lines = [line for line in log.read_text().splitlines() if "WARNING" in line]
    print_windows(timed, args.window)
    print(json.dumps({"calls": len(timed), "serve warnings": lines[:5]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
