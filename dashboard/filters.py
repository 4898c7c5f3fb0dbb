"""The Stats API v1 `filters` parameter -> parameterized SQL conditions.

Syntax (Plausible's): filters joined by `;`, each `property==value` or
`property!=value`; a value may list alternatives with `|` (`\\|` is a literal
bar) and use wildcards: `*` matches within one path segment, `**` matches
anything. `visit:source==Direct / None` matches visits without a source, as the
breakdown labels them. Values never enter the SQL: each is a server-side
parameter (`{f0:String}`), wildcards become an RE2 pattern parameter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dashboard.properties import PROPERTIES, PROPERTIES_DOCS, Property
from footfall.web import ApiError

_BAR = re.compile(r"(?<!\\)\|")
_WILDCARD = re.compile(r"\*\*|\*")


@dataclass(frozen=True)
class Filter:
    property: Property
    negated: bool
    values: tuple[str, ...]
    wildcard: bool

    def condition(self, column: str, params: dict[str, object]) -> str:
        """SQL that holds for rows whose `column` passes; adds its value to `params`."""
        name = f"f{len(params)}"
        if self.wildcard:
            params[name] = "^(?:" + "|".join(_pattern(v) for v in self.values) + ")$"
            sql = f"match({column}, {{{name}:String}})"
        elif len(self.values) == 1:
            params[name] = self.values[0]
            sql = f"{column} = {{{name}:String}}"
        else:
            params[name] = list(self.values)
            sql = f"{column} IN {{{name}:Array(String)}}"
        return f"NOT ({sql})" if self.negated else sql


def parse_filters(text: str | None) -> list[Filter]:
    """The filters of a query string's `filters` value; Plausible's error for a bad property."""
    if not text:
        return []
    return [_parse_one(part.strip()) for part in text.split(";") if part.strip()]


def _parse_one(text: str) -> Filter:
    operator = "!=" if "!=" in text else "=="
    name, sep, raw = text.partition(operator)
    if not sep:
        raise ApiError(
            400,
            f"Invalid filter expression '{text}'. Write property==value or property!=value, "
            "joined by `;`.",
        )
    name = name.strip()
    prop = PROPERTIES.get(name)
    if prop is None:
        raise ApiError(
            400,
            f"Invalid filter property '{name}'. Please provide a valid filter property: "
            f"{PROPERTIES_DOCS}",
        )
    labels = [v.replace("\\|", "|").strip() for v in _BAR.split(raw.strip())]
    wildcard = any("*" in label for label in labels)
    values = tuple(prop.stored(label) for label in labels)
    return Filter(prop, operator == "!=", values, wildcard)


def _pattern(value: str) -> str:
    parts = _WILDCARD.split(value)
    stars = _WILDCARD.findall(value)
    pattern = re.escape(parts[0])
    for star, literal in zip(stars, parts[1:], strict=True):
        pattern += (".*" if star == "**" else "[^/]*") + re.escape(literal)
    return pattern
