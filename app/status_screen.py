"""`footfall status` on one screen: the `Status` an operator reads, drawn with rich."""

from __future__ import annotations

import datetime as dt

from rich.console import Group
from rich.table import Table
from rich.text import Text

from footfall.status import Status


def render(status: Status) -> Group:
    at = dt.datetime.fromtimestamp(status.at_ms / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    parts: list[object] = [Text(f"footfall status at {at}", style="bold")]
    parts.append(_pipeline(status))
    if status.consumers:
        parts.append(_consumers(status))
    parts.append(_sites(status))
    for store, problem in status.problems.items():
        parts.append(Text(f"{store}: {problem}", style="bold red"))
    return Group(*parts)


def _pipeline(status: Status) -> Table:
    table = Table(title="Pipeline", title_justify="left", show_header=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    rows = [
        ("stream length (not yet acknowledged)", _number(status.stream_length)),
        ("oldest event waiting", _age(status, status.oldest_waiting_ms, "none")),
        ("consumer group lag (never delivered)", _number(status.group_lag)),
        ("pending (delivered, not acknowledged)", _number(status.group_pending)),
        ("dead letters", _number(status.dead_letters)),
        ("last insert (newest event in ClickHouse)", _age(status, status.newest_in_clickhouse_ms)),
    ]
    if status.embedded_redis:
        embedded = status.embedded_redis
        rows.append(("embedded Redis", f"{embedded.state}, {embedded.restarts:,} restarts"))
    if status.disk_free_bytes is not None:
        rows.append(("free disk (data dir)", f"{status.disk_free_bytes / 1e9:,.1f} GB"))
    for name, value in rows:
        table.add_row(name, value)
    return table


def _consumers(status: Status) -> Table:
    table = Table(title="Aggregators", title_justify="left")
    table.add_column("consumer")
    table.add_column("pending", justify="right")
    table.add_column("idle", justify="right")
    for consumer in status.consumers:
        table.add_row(consumer.name, f"{consumer.pending:,}", f"{consumer.idle_ms / 1000:.1f} s")
    return table


def _sites(status: Status) -> Table:
    table = Table(title="Sites", title_justify="left")
    table.add_column("site")
    table.add_column("stored this minute", justify="right")
    table.add_column("stored last minute", justify="right")
    table.add_column("inserted, last 60 s", justify="right")
    table.add_column("online now", justify="right")
    for site in status.sites:
        table.add_row(
            site.domain,
            f"{site.stored_this_minute:,}",
            f"{site.stored_last_minute:,}",
            _number(site.inserted_last_60s),
            f"{site.online:,}",
        )
    if not status.sites:
        table.add_row("(no site)", "", "", "", "")
    return table


def _number(value: int | None) -> str:
    return "?" if value is None else f"{value:,}"


def _age(status: Status, ms: int | None, absent: str = "?") -> str:
    if ms is None:
        return absent
    seconds = max(0, status.at_ms - ms) / 1000
    when = dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%H:%M:%S")
    return f"{when} ({seconds:,.1f} s ago)"
