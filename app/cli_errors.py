"""How a `footfall` command that manages something reports failure: one line.

Sites, users and tokens answer `ClientError`s (from the server's API or the
stores directly) carrying the field at fault; an embedded engine missing or a
Redis that will not start is an `OSError` or `RuntimeError`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import click

from app.server_api import ClientError


@contextlib.contextmanager
def client_errors() -> Iterator[None]:
    try:
        yield
    except ClientError as e:
        where = f" ({e.field})" if e.field else ""
        raise click.ClickException(f"{e.message}{where}") from None
    except (OSError, RuntimeError) as e:
        raise click.ClickException(str(e)) from None
