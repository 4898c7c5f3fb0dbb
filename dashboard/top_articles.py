"""A period's top articles, looked for first among each day's and span's top articles.

Summing every article's counts over a period to show ten of them reads a year's
225,000 rows. Each closing also lists, for each day, week, month and quarter it
closes, its `TOP` articles by page views, by visits and by visitors
(`closed_counts.TOP_ARTICLES`, aggregator/closing.py). A period's top articles by
one of those sums are looked for in the lists of its closed days and spans and in
the open days' `TOP`, a few thousand rows:

* an article a list does not show has at most the list's `TOP`-th number there,
  its bound; so an article has at most what the lists show of it plus the bounds of
  the lists that do not show it, and an article no list shows at most every bound;
* the candidates are the articles the lists show the most of, and the caller reads
  their exact numbers (it reads the page's anyway);
* they are the top articles if each has more than any other article can have.
  When not (popularity flat across the lists, or a page past them) `Candidates.ranked`
  says so, and the caller sums every article's counts.

A closed list's row holds every number of its article there: a candidate that every
list shows has its closed days' numbers in them (`closed_numbers`), and the caller
reads only its open days' (and title) instead of its every day's.

Sums only: an article's mean engaged time has no such bound.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from dashboard.closed_days import Split
from footfall import closed_counts

SORTS = ("pageviews", "visits", "visitors")
"""The sorts the lists serve."""


@dataclass(frozen=True)
class Candidates:
    """The articles the lists show the most of, most first, and the most any other
    article can have."""

    first: list[str]
    others_at_most: float

    def ranked(self, exact: dict[str, float]) -> list[str] | None:
        """The candidates by their `exact` numbers (most first, then by id), if each has
        more than any other article can have: the top articles. None if not."""
        if not self.first or min(exact.get(a, 0) for a in self.first) <= self.others_at_most:
            return None
        return sorted(self.first, key=lambda a: (-exact[a], a))


def candidates(lists: list[list[tuple[str, float]]], wanted: int) -> Candidates:
    """The `wanted` candidates from `lists` of (article, number), each list the top
    articles of a day, a span or the open days (an article at most once in each)."""
    bounds = [_bound(rows) for rows in lists]
    every_bound = sum(bounds)
    shown: dict[str, float] = defaultdict(float)
    shown_bounds: dict[str, float] = defaultdict(float)
    for rows, bound in zip(lists, bounds, strict=True):
        for article, number in rows:
            shown[article] += number
            shown_bounds[article] += bound
    order = sorted(shown, key=lambda a: (-shown[a], a))
    if len(order) < wanted:
        return Candidates([], every_bound)
    at_most = [shown[a] + every_bound - shown_bounds[a] for a in order[wanted:]]
    return Candidates(order[:wanted], max([every_bound, *at_most]))


def _bound(rows: list[tuple[str, float]]) -> float:
    """The most an article a list does not show has: its `TOP`-th number (a list is the
    union of `TOP`s by several numbers, so it holds the `TOP` of each); if it shows fewer,
    it shows every article."""
    numbers = sorted((number for _, number in rows), reverse=True)
    top = closed_counts.TOP
    return numbers[top - 1] if len(numbers) >= top else 0


def lists_of(rows: list[tuple]) -> list[list[tuple[str, float]]]:
    """`dashboard.sql.articles.top_lists`' rows as lists of (article, number)."""
    lists: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for name, article, number, *_ in rows:
        lists[name].append((article, number))
    return list(lists.values())


def closed_numbers(
    rows: list[tuple], parts: Split, articles: list[str], quantities: list[str]
) -> dict[str, dict[str, float]] | None:
    """{article: {quantity: number}} of the `articles` over the closed days and spans of
    `parts`, from `dashboard.sql.articles.top_lists`' rows (`quantities` its numbers),
    when every list shows each: the open days' list too, so that their numbers and,
    mostly, their latest title are there to read. Else None."""
    if not parts.open:
        return None
    lists = {name for name, *_ in rows}
    shown: dict[str, list[tuple]] = defaultdict(list)
    for _, article, _, *numbers in rows:
        shown[article].append(numbers)
    found = {}
    for article in articles:
        listed = shown.get(article, [])
        if len(listed) < len(lists):
            return None
        found[article] = {q: sum(float(row[n]) for row in listed) for n, q in enumerate(quantities)}
    return found
