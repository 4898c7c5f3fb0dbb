"""The Stats API's answers as types: what a handler builds is what the document shows.

Plausible's rows name their values after the metrics asked for, in the order
asked (a breakdown's row also after its property): those rows are maps, their
keys bounded by the registries (`METRICS`, `PROPERTIES`), so they are encoded
in the order asked, as before. Every other shape is a struct, the articles'
built from `ARTICLE_METRICS`.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from dashboard.properties import PROPERTIES
from dashboard.stats_metrics import ARTICLE_METRICS, METRICS

SOURCES_LIMIT = 20
"""An article's sources, at the most."""
NUMBER = {"type": "number"}
TEXT = {"type": "string"}
READERS = Meta(description="Readers now.")

Bucket = Annotated[
    dict[str, str | float],
    Meta(
        extra_json_schema={
            "description": "One bucket of a time series: its `date` and the metrics asked for.",
            "properties": {
                "date": {
                    "type": "string",
                    "description": "`2023-11-15 13:00:00` (hour), `2023-11-15` (date), "
                    "`2023-11-01` (month), in the site's timezone.",
                },
                **dict.fromkeys(METRICS, NUMBER),
            },
            "required": ["date"],
            "additionalProperties": False,
        }
    ),
]
BreakdownRow = Annotated[
    dict[str, str | float],
    Meta(
        extra_json_schema={
            "description": "The property's value, named after the property without its prefix "
            "(`page`, `source`...), and the metrics asked for.",
            "properties": {
                **{p.key: TEXT for p in PROPERTIES.values()},
                **dict.fromkeys(METRICS, NUMBER),
            },
            "additionalProperties": False,
        }
    ),
]


class AggregateValue(Struct):
    value: float
    comparison_value: float | UnsetType = UNSET
    change: (
        Annotated[
            float | None,
            Meta(
                description="Percent change (percentage points for bounce_rate; null when the "
                "previous period had none)."
            ),
        ]
        | UnsetType
    ) = UNSET


class AggregateResults(Struct):
    results: Annotated[
        dict[str, AggregateValue],
        Meta(extra_json_schema={"propertyNames": {"enum": list(METRICS)}}),
    ]
    """The metrics asked for, by name."""


class TimeseriesResults(Struct):
    results: list[Bucket]


class BreakdownResults(Struct):
    results: list[BreakdownRow]


_ARTICLE_METRICS = [(name, float) for name in ARTICLE_METRICS]
ArticleRow = msgspec.defstruct(
    "ArticleRow",
    [("article_id", str), ("title", str), *_ARTICLE_METRICS, ("readers", Annotated[int, READERS])],
    module=__name__,
)
ArticleTotals = msgspec.defstruct("ArticleTotals", _ARTICLE_METRICS, module=__name__)


class ArticlesResults(Struct):
    results: list[ArticleRow]  # type: ignore[valid-type]


class ArticleSource(Struct):
    source: str
    visitors: int
    pageviews: int


class Article(Struct):
    article_id: str
    title: str
    readers: Annotated[int, READERS]
    totals: ArticleTotals  # type: ignore[valid-type]
    results: list[Bucket]
    sources: Annotated[list[ArticleSource], Meta(max_length=SOURCES_LIMIT)]


ANSWERS = (
    AggregateResults,
    TimeseriesResults,
    BreakdownResults,
    ArticlesResults,
    ArticleRow,
    Article,
    ArticleTotals,
    ArticleSource,
    AggregateValue,
)
