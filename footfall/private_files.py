"""Folders and files readable by the service's user alone: the data dir and its secrets.

Another local user must not read the data (events, sessions, password hashes) nor
learn a secret (the admin token, the embedded Redis's password), so folders are
0700 and files 0600 from the moment they exist.
"""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_UMASK = 0o077
"""What a process of the service creates is its user's alone (0700 folders, 0600 files)."""


def private_dir(path: Path) -> Path:
    """`path`, made if missing, readable by this user alone (0700)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)  # one made by an older version may have had another mode
    return path


def write_private(path: Path, text: str, flags: int = os.O_TRUNC) -> None:
    """Write `path` readable by its owner only, from the first byte on."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | flags, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
