"""What the benchmarks share: reading this machine's CPU use, waiting for it to be quiet.

These machines are shared and noisy: a benchmark waits for a quiet moment before
each timed part and records the CPU every party used, so a disturbed run shows.
"""

from __future__ import annotations

import contextlib
import os
import resource
import statistics
import time

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
NOISY = 25  # % of a core used by other processes during a run


def process_tree(pid: int) -> list[int]:
    """`pid` and its descendants, from /proc."""
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        with contextlib.suppress(OSError):
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo += [int(c) for c in f.read().split()]
    return found


def cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError), open(f"/proc/{pid}/stat") as f:
            fields = f.read().rpartition(")")[2].split()
            total += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime
    return total


def children_cpu_seconds() -> float:
    """CPU of the children this process has waited for (wrk, once it exited)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def machine_busy_seconds() -> float:
    """CPU seconds every process of the machine used (all cores), from /proc/stat."""
    with open("/proc/stat") as f:
        ticks = [int(x) for x in f.readline().split()[1:]]
    idle = ticks[3] + ticks[4]  # idle + iowait
    return (sum(ticks[:8]) - idle) / CLOCK_TICKS  # user..steal, without guest (counted in user)


def wait_for_quiet(limit: float, window: float = 1.0) -> float:
    """Wait up to `limit` s for a window in which the machine is nearly idle; the seconds waited.

    Called when the benchmark's own processes are idle, so what the machine uses is
    other processes' load.
    """
    started = time.monotonic()
    while limit > 0:
        before = machine_busy_seconds()
        time.sleep(window)
        busy = 100 * (machine_busy_seconds() - before) / window
        waited = time.monotonic() - started
        if busy < NOISY or waited >= limit:
            return waited
    return 0.0


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def exit_on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds through the `finally` that stops every process
