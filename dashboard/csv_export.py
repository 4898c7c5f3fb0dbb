"""CSV downloads: rows written so that a spreadsheet opens them as data, never as formulas.

Every text a download holds may have come from a tracked page (titles, paths,
UTM values, referrers). A cell that starts with `=`, `+`, `-`, `@`, a tab or a
carriage return is a formula to Excel and LibreOffice (`=HYPERLINK(...)`,
`=cmd|...`), so such a text cell gets a leading `'`, as OWASP advises for CSV
injection; the csv module quotes separators, quotes and line breaks inside a cell.
Numbers footfall computed are written as they are.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping

from aiohttp import web

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_response(
    columns: list[str], rows: Iterable[Mapping[str, object]], filename: str
) -> web.Response:
    """The rows' `columns` as a CSV attachment named `filename`, text cells made safe."""
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows({column: safe_cell(value) for column, value in row.items()} for row in rows)
    return web.Response(
        text=out.getvalue(),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def safe_cell(value: object) -> object:
    """A text a spreadsheet would read as a formula, with a `'` before it; else `value`."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
