"""What the benchmarks share: their server processes, this machine's CPU use, quiet waits,
a process's memory.

These machines are shared and noisy: a benchmark waits for a quiet moment before
each timed part and records the CPU every party used, so a disturbed run shows.
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import statistics
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
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


def memory(status: str) -> dict[str, int]:
    """VmRSS, RssAnon, RssFile and VmHWM (the peak) of a /proc/PID/status text, in MiB."""
    found = {}
    for line in status.splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
            found[name] = int(value.split()[0]) // 1024
    return found


def of_process(pid: int) -> dict[str, int]:
    """`memory` of the process `pid`."""
    return memory(Path(f"/proc/{pid}/status").read_text())


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


class Server:
    """A server process in its own session (process group), with its output in a log file."""

    def __init__(self, name: str, args: list[str], banner: str, log: Path, env: dict[str, str],
                 *, port: int = 0, workers: int = 1):  # fmt: skip
        self.name = name
        self.port = port
        self.workers = workers
        self.banner = banner
        self.log = log
        self._log_file = log.open("wb")
        self._stopped = False
        self.process = subprocess.Popen(
            args,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_listening(self, timeout: float = 120.0) -> None:
        """Until every worker printed its banner: a load's connections must reach all of them."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited at start:\n{self.log_tail()}")
            if self.log.read_text(errors="replace").count(self.banner) >= self.workers:
                return
            time.sleep(0.05)
        raise RuntimeError(f"{self.name}: not listening after {timeout}s:\n{self.log_tail()}")

    def pids(self) -> list[int]:
        return process_tree(self.process.pid)

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM, then SIGKILL after `timeout`; the exit code of a clean stop."""
        if self._stopped:
            return self.process.returncode
        self._stopped = True
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        # Forked workers or a redis-server share its process group: none may outlive it.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self._log_file.close()
        return self.process.returncode

    def log_tail(self, lines: int = 20) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
