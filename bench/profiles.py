"""py-spy's collapsed stacks, read: own and inclusive time per function, own time per package.

`print_profile` serves every benchmark's `--profile`: `ours` names the packages
whose functions get an inclusive-time table, `thread_of` (optional) sorts each
sample into a thread, and `hide_inclusive` drops outer frames whose inclusive
share means nothing (under uvloop a sampled stack often starts at the coroutine
the loop resumed, not at `main`).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

Frame = tuple[str, str]
"""("function (dir/file.py)", package)."""


def print_profile(
    path: Path,
    top: int,
    ours: tuple[str, ...],
    thread_of: Callable[[str, list[Frame]], str] | None = None,
    hide_inclusive: tuple[str, ...] = (),
) -> None:
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    threads: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        n = int(count)
        frames = [frame_of(f) for f in stack.split(";")]
        total += n
        own[frames[-1][0]] += n
        packages[frames[-1][1]] += n
        if thread_of is not None:
            threads[thread_of(stack, frames)] += n
        for name in {name for name, package in frames if package in ours}:
            inclusive[name] += n
    if not total:
        print("py-spy recorded no sample")
        return
    print(f"\n{total} samples (CPU only, Python threads). Top {top} functions by own time:")
    _shares(own.most_common(top), total)
    if threads:
        print("\nBy thread:")
        _shares(threads.most_common(), total)
    print("\nOwn time by package:")
    _shares(packages.most_common(), total)
    print(f"\nTop {top} of footfall's functions by inclusive time:")
    shown = [
        (name, n) for name, n in inclusive.most_common() if not name.startswith(hide_inclusive)
    ]
    _shares(shown[:top], total)


def _shares(rows: list[tuple[str, int]], total: int) -> None:
    for name, n in rows:
        print(f"  {100 * n / total:5.1f}%  {name}")


def frame_of(frame: str) -> Frame:
    """Of py-spy's "function (/full/path/file.py:line)"."""
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rpartition(":")[0] or where.rstrip(")")
    parts = Path(path).parts
    if "site-packages" in parts:
        where = "/".join(parts[parts.index("site-packages") + 1 :])
    elif path.startswith(str(ROOT) + os.sep):
        where = "/".join(parts[len(ROOT.parts) :])
    else:
        where = "/".join(parts[-2:])
    short = f"{name} ({where})" if parts else name
    if name == "run_app" and "aiohttp" in parts:
        package = "event loop (uvloop's C code, below run_app)"
    elif "site-packages" in parts and parts.index("site-packages") + 1 < len(parts):
        package = parts[parts.index("site-packages") + 1]
    elif path.startswith(str(ROOT) + os.sep) and len(parts) > len(ROOT.parts) + 1:
        package = parts[len(ROOT.parts)]
    else:
        package = "python stdlib and other"
    return short, package
