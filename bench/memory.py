"""Memory of `footfall serve`: idle after a small day's work, against chdb's own floor.

    .venv/bin/python bench/memory.py [--events 5000] [--idle 30] [--set NAME=VALUE ...]

What it does, every process on 127.0.0.1:

1. floor, measured in this run: a process that imports chdb, opens a folder and runs
   its first query, as any program using chdb must; its RSS;
2. `footfall serve` on a fresh data dir (its own Redis and chdb; `--set` adds
   `FOOTFALL_<NAME>` variables, to compare settings): its RSS once `/ready` (the first
   start migrates the schema); then a site, `--events` page views sent at `--rate`
   (bounded in count and time), drained into ClickHouse, and every call of a site page
   at 30d and 12mo (`bench/dashboard.py`'s `page_calls`), twice; then `--idle`
   seconds of nothing, and its RSS again;
3. the same serve stopped and started on that data dir (no migration now), `/ready`,
   `--idle` seconds, RSS;
4. prints each RSS (anonymous and file-backed apart: most of chdb's share is its
   library's code, mapped from the wheel) and its ratio to the floor. The embedded
   Redis is a process of its own, reported beside.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.redis_server import free_port  # noqa: E402
from bench.dashboard import page_calls  # noqa: E402
from bench.faults import SITE, Load, Serve  # noqa: E402
from bench.machine import memory, of_process  # noqa: E402

FLOOR = """
import chdb, sys
connection = chdb.connect(sys.argv[1])
connection.query("SELECT 1")
print(open("/proc/self/status").read())
"""


def floor(folder: Path) -> dict[str, int]:
    done = subprocess.run(
        [sys.executable, "-c", FLOOR, str(folder / "floor")],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    return memory(done.stdout)


def start(data_dir: Path, log: Path, settings: dict[str, str]) -> Serve:
    serve = Serve(data_dir, free_port(), log, settings=settings)
    serve.wait_ready()
    return serve


def measure(serve: Serve) -> tuple[dict[str, int], dict[str, int]]:
    """(serve's memory, its embedded Redis's)."""
    return of_process(serve.process.pid), of_process(serve.redis_pid())


def work(serve: Serve, events: int, rate: float) -> dict:
    serve.add_site()
    load = Load(serve.port, rate, connections=4, limit=events)
    deadline = time.monotonic() + events / rate + 60
    while len(load.answers) < events and time.monotonic() < deadline:
        time.sleep(0.2)
    answers = load.stop()
    while serve.backlog()["stream_length"] and time.monotonic() < deadline + 60:
        time.sleep(0.2)
    calls = 0
    for _ in range(2):
        for period in ("30d", "12mo"):
            for _, path, params in page_calls(period, [], site=SITE):
                serve.api(f"{path}?{urlencode(params)}")
                calls += 1
    return {"answers": dict(answers), "calls": calls, "counted": serve.counted()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000, help="page views sent (bounded)")
    parser.add_argument("--rate", type=float, default=500, help="page views per second")
    parser.add_argument("--idle", type=float, default=30, help="seconds idle before measuring")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="a setting for serve, e.g. chdb_cache_mb=0")  # fmt: skip
    args = parser.parse_args()
    settings = dict(item.split("=", 1) for item in args.set)
    with tempfile.TemporaryDirectory(prefix="footfall-bench-memory-") as tmp:
        folder = Path(tmp)
        base = floor(folder)
        rows = [("floor: import chdb, open, first query", base, None)]
        serve = start(folder / "data", folder / "serve.log", settings)
        try:
            rows.append(("serve, first start, /ready", of_process(serve.process.pid), None))
            done = work(serve, args.events, args.rate)
            time.sleep(args.idle)
            rows.append((f"serve after the work, idle {args.idle:.0f} s", *measure(serve)))
        finally:
            serve.stop()
        serve = start(folder / "data", folder / "serve-2.log", settings)
        try:
            time.sleep(args.idle)
            rows.append((f"serve started again, idle {args.idle:.0f} s", *measure(serve)))
        finally:
            serve.stop()
    print(f"settings: {settings or 'defaults'}; work: {json.dumps(done)}")
    print(
        "| process | RSS MiB | anonymous | file-backed | peak (VmHWM) | RSS / floor | Redis RSS |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, m, redis in rows:
        ratio = m["VmRSS"] / base["VmRSS"]
        redis_rss = redis["VmRSS"] if redis else "-"
        print(f"| {name} | {m['VmRSS']} | {m['RssAnon']} | {m['RssFile']} | {m['VmHWM']} | "
              f"{ratio:.2f} | {redis_rss} |")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
