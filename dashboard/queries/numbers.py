"""What ClickHouse answers a stats query, read as quantities: `Numbers` per group."""

from __future__ import annotations

from dashboard.sql.scope import SiteScope

Numbers = dict[str, float]
"""A group's numbers, by quantity."""


async def rows_of(
    scope: SiteScope, sql: str, params: dict[str, object], quantities: list[str]
) -> list[tuple[str, Numbers]]:
    """Rows of (g, q_... in the order of `quantities`) as (group, {quantity: number})."""
    return [(str(g), numbers(rest, quantities)) for g, *rest in await scope.query(sql, params)]


def numbers(values: list, quantities: list[str]) -> Numbers:
    return {q: float(v or 0) for q, v in zip(quantities, values, strict=True)}
