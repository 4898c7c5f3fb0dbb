"""The aggregator's SQL: every statement it sends ClickHouse, by name.

Its tables are named from the kernel's registry (`footfall.tables`). The statements
that read or close one site's days (`aggregator.closing`) read its rows through
`_of_site`, where the site condition is written, once. The schema's own statements
(its version table, the raw events' TTL) are with the migrations they apply
(`aggregator.schema`, `aggregator.cluster`).
"""

from __future__ import annotations

from footfall import closed_counts, tables, visit_rows

_SITE = "site = {site:String}"


def _of_site(table: str, *conditions: str) -> str:
    """`table WHERE` its rows of the site `{site}` that pass `conditions`."""
    return " AND ".join([f"{table} WHERE {_SITE}", *conditions])


# Closing days (aggregator/closing.py) --------------------------------------------

_DAYS = "date BETWEEN {first:Date} AND {last:Date}"
_DAY_ROWS = "span = 'day'"
_INTO_COUNTS = (
    f"INSERT INTO {tables.CLOSED_COUNTS} "
    "(site, kind, span, date, key, value, visitors, visits, pageviews, engaged_ms, title, version) "
)
_INTO_VISIT_COUNTS = (
    f"INSERT INTO {tables.CLOSED_COUNTS} (site, kind, span, date, key, value, visitors, visits, "
    "pageviews, engaged_ms, entries, bounces, duration_ms, title, version) "
)
"""With the numbers only the paired counts of visits hold (0020): the others' are 0."""
_VERSION = "{version:DateTime64(3, 'UTC')}"

CLOSING_VERSION = "SELECT now64(3, 'UTC')"
"""A closing's version: ClickHouse's clock, read before the states it closes."""

FIRST_DAY = f"SELECT minOrNull(date) FROM {_of_site(tables.SITE_VISITORS, _DAY_ROWS)}"
"""The site's first day with visitors: where its first closing starts."""

DAY_PAGEVIEWS = (
    "SELECT date, sum(pageviews) "
    f"FROM {_of_site(tables.SITE_VISITORS, _DAY_ROWS, _DAYS)} GROUP BY date ORDER BY date"
)
"""The site's page views per day of {first}..{last} (how many of them a closing takes)."""

CLOSED_MARKERS = (
    "SELECT span, date, max(version) "
    f"FROM {_of_site(tables.CLOSED_COUNTS, 'kind = {closed:String}')} GROUP BY span, date"
)
"""The site's closing markers (`footfall.closed_counts.closed_from` reads them)."""

# Every rollup's numbers per day of the days {first:Date}..{last:Date}, as rows
# (kind, date, key, value, visitors, visits, pageviews, engaged_ms, title): what each
# kind holds is in migration 0013 (0020: the paired kinds, `closed_counts.paired`).
_EXITS_FROM = "visit_start >= toDateTime({first:Date}, {tz:String})"
_EXITS_TO = "visit_start < toDateTime({last:Date} + 1, {tz:String})"
_VIEWED = visit_rows.VIEWED
_TITLE = "argMaxIf(title, ts, type = 'pageview' AND title != '')"


def _grouped(sets: dict[tuple[str, ...], list[str]], columns: tuple[str, ...]) -> tuple[str, str]:
    """The `GROUP BY` of a closing's paired counts, one grouping set by `date` and each key of
    `sets` (some of `columns`), and the array of rows (SQL) each grouped row gives: its
    set's in `sets`, named by `grouping(columns)` as `grouped` (ClickHouse's standard
    `GROUPING`: a bit is 1 where its column is not grouped). One scan groups the pairs,
    where an `ARRAY JOIN` of the pairs before grouping copied each row once per pair (and
    grouped a week of the 10 M bench in twice the time)."""

    def grouped(group: tuple[str, ...]) -> int:
        return sum(1 << n for n, column in enumerate(reversed(columns)) if column not in group)

    by = ", ".join(f"({', '.join(('date', *group))})" for group in sets)
    rows = ", ".join(f"grouped = {grouped(group)}, [{', '.join(of)}]" for group, of in sets.items())
    return f"GROUPING SETS ({by})", f"multiIf({rows}, [])"


def _paired_events(names: tuple[str, ...]) -> str:
    """The rows of the pages' and articles' kinds paired with each visit property of `names`
    (of `closed_counts.PAIRED` or `BY_PAGE`), as `_DAY_COUNTS`' (`value` the path, or the
    article and its title): the numbers of the site's events on the days among the visits
    of each of its values (stamped on the events), as raw events count them: its
    articles', and its pages' (`key` the value, where `closed_counts.pages_keyed`; of
    `BY_PAGE`, `key` the path, by page: an entry page's both ways)."""
    stamped = {name: visit_rows.stamped(name) for name in names}
    sets: dict[tuple[str, ...], list[str]] = {}
    for name, visit in stamped.items():
        articles = closed_counts.paired(closed_counts.ARTICLES, name)
        sets[(visit, "article_id")] = [f"('{articles}', toString({visit}), article_id, last_title)"]
        pages = sets[(visit, "path")] = []
        if closed_counts.pages_keyed(name):
            page = closed_counts.paired(closed_counts.PAGE, name)
            pages.append(f"('{page}', toString({visit}), path, '')")
        if name in closed_counts.BY_PAGE:
            by_page = closed_counts.paired(name, closed_counts.PAGE)
            pages.append(f"('{by_page}', path, toString({visit}), '')")
    return _events_grouped(sets, (*stamped.values(), "path", "article_id"))


def _page_events() -> str:
    """The rows of the page's own kinds, as `_paired_events`': by page (`key` the path), the
    numbers of its events and those of its articles (`value`)."""
    on_page = closed_counts.paired(closed_counts.SITE, closed_counts.PAGE)
    articles = closed_counts.paired(closed_counts.ARTICLES, closed_counts.PAGE)
    sets = {
        ("path",): [f"('{on_page}', path, '', '')"],
        ("path", "article_id"): [f"('{articles}', path, article_id, last_title)"],
    }
    return _events_grouped(sets, ("path", "article_id"))


def _events_grouped(sets: dict[tuple[str, ...], list[str]], columns: tuple[str, ...]) -> str:
    """The rows of `sets` (see `_grouped`) from the site's events on the days."""
    group_by, pairs = _grouped(sets, columns)
    return (
        "SELECT pair.1 AS kind, date, pair.2 AS key, pair.3 AS value, visitors, visits, "
        "pageviews, engaged AS engaged_ms, pair.4 AS title "
        f"FROM (SELECT date, {', '.join(columns)}, grouping({', '.join(columns)}) AS grouped, "
        "uniqIf(visitor_id, type = 'pageview') AS visitors, "
        "uniqIf(visitor_id, visit_start, type = 'pageview' AND visit_start > 0) AS visits, "
        "countIf(type = 'pageview') AS pageviews, sum(engaged_ms) AS engaged, "
        f"{_TITLE} AS last_title "
        f"FROM {_of_site(tables.EVENTS, _DAYS)} GROUP BY {group_by} "
        # An article's sets leave out the events of no article.
        "HAVING article_id != '' OR grouping(article_id) = 1"
        f") ARRAY JOIN {pairs} AS pair"
    )


def _paired_visits() -> str:
    """`SELECT` the rows of the visits' paired kinds, as `_INTO_VISIT_COUNTS` takes them: the
    numbers of the visits that started on the days among those of each value of each
    property of `closed_counts.CLICKED` (`key`), in all (`closed_counts.SITE`, `value` '')
    and per value of each of its `closed_counts.paired_among` (`value`), as the `visits`
    table answers them under a filter. A pair of a property of `PAIRED` and one of
    `BY_PAGE` or the exit page is one grouping set, its rows both ways."""
    columns = closed_counts.VISIT_PROPERTIES
    sets: dict[tuple[str, ...], list[str]] = {}
    for name in closed_counts.CLICKED:
        site = closed_counts.paired(closed_counts.SITE, name)
        sets.setdefault((name,), []).append(f"('{site}', toString({name}), '')")
        for other in closed_counts.paired_among(name):
            group = tuple(column for column in columns if column in (name, other))
            row = f"('{closed_counts.paired(other, name)}', toString({name}), toString({other}))"
            sets.setdefault(group, []).append(row)
    group_by, pairs = _grouped(sets, columns)
    exit_page = f"{visit_rows.EXIT_PAGE} AS {closed_counts.EXIT_PAGE}"
    selected = (exit_page if column == closed_counts.EXIT_PAGE else column for column in columns)
    return (
        "SELECT {site:String}, pair.1, 'day', date, pair.2, pair.3, visitors, started, viewed, "
        f"engaged, started, bounced, lasted, '', {_VERSION} "
        "FROM (SELECT toDate(visit_start, {tz:String}) AS date, "
        f"{', '.join(selected)}, "
        f"grouping({', '.join(columns)}) AS grouped, uniq(visitor_id) AS visitors, "
        "count() AS started, sum(pageviews) AS viewed, sum(engaged_ms) AS engaged, "
        "countIf(pageviews = 1) AS bounced, sum(duration_ms) AS lasted "
        f"FROM {_of_site(f'{tables.VISITS} FINAL', _EXITS_FROM, _EXITS_TO)} GROUP BY {group_by}"
        f") ARRAY JOIN {pairs} AS pair"
    )


def _in_visits(by: str, *also: str, where: str = "1", having: str = "1") -> str:
    """The site's events on the days per visit and `by` (their `day`, `views` and `engaged_on`,
    and `also`), of those that pass `where` and groups that pass `having`, each joined to
    the row of its visit (`pageviews`, `duration_ms`, `exit_page`): a visit that started
    on the days. A visit never crosses the site's midnight: its events are on the days."""
    viewed = _of_site(tables.EVENTS, _DAYS, "visit_start > 0", where)
    started = _of_site(f"{tables.VISITS} FINAL", _EXITS_FROM, _EXITS_TO)
    selected = ", ".join((by, "toDate(visit_start, {tz:String}) AS day", *also))
    return (
        f"(SELECT visitor_id, visit_start, {selected}, countIf(type = 'pageview') AS views, "
        f"sum(engaged_ms) AS engaged_on FROM {viewed} GROUP BY visitor_id, visit_start, {by} "
        f"HAVING {having}) AS viewed "
        "INNER JOIN (SELECT visitor_id, visit_start, pageviews, duration_ms, "
        f"{visit_rows.EXIT_PAGE} AS exit_page FROM {started}) AS started "
        "USING (visitor_id, visit_start)"
    )


def _page_visits() -> str:
    """`SELECT` the rows by page of the visits that started on the days and viewed each page
    (an event on it but an engagement), as `_INTO_VISIT_COUNTS` takes them, as the
    `visits` table holds those visits: the entries, bounces and durations of the site's
    (`closed_counts.PAGE_KINDS`), and the numbers of the page's events per exit page of
    their visit (`closed_counts.EXIT_PAGE` paired with `PAGE`), both ways (`PAGE` paired
    with `EXIT_PAGE`, `key` the exit page: `closed_counts.PAGES_KEYED`)."""
    site, exits, pages = (
        closed_counts.paired(kind, name)
        for kind, name in (
            (closed_counts.SITE, closed_counts.PAGE),
            (closed_counts.EXIT_PAGE, closed_counts.PAGE),
            (closed_counts.PAGE, closed_counts.EXIT_PAGE),
        )
    )
    by_exit = f"[('{exits}', path, exit_page), ('{pages}', exit_page, path)]"
    viewed = _in_visits("path", having="countIf(type != 'engagement') > 0")
    return (
        "SELECT {site:String}, pair.1, 'day', day, pair.2, pair.3, if(by_exit, visitors, 0), "
        "if(by_exit, visits, 0), if(by_exit, page_views, 0), if(by_exit, engaged, 0), "
        "if(by_exit, 0, entries), if(by_exit, 0, bounced), if(by_exit, 0, lasted), '', "
        f"{_VERSION} "
        # `grouping` is 1 where its column is not grouped (the standard's GROUPING).
        "FROM (SELECT day, path, exit_page, grouping(exit_page) = 0 AS by_exit, "
        "uniqIf(visitor_id, views > 0) AS visitors, countIf(views > 0) AS visits, "
        "sum(views) AS page_views, sum(engaged_on) AS engaged, count() AS entries, "
        "countIf(pageviews = 1) AS bounced, sum(duration_ms) AS lasted "
        f"FROM {viewed} GROUP BY GROUPING SETS ((day, path), (day, path, exit_page))) "
        f"ARRAY JOIN if(by_exit, {by_exit}, [('{site}', path, '')]) AS pair"
    )


def _exit_articles() -> str:
    """`SELECT` the rows of the articles' numbers among the visits of each exit page
    (`closed_counts.ARTICLES` paired with `EXIT_PAGE`, `key` the exit page), as
    `_INTO_VISIT_COUNTS` takes them: of the events of the visits that started on the days,
    as `_paired_events` counts them among those of a value stamped on the events, with
    each day's latest title."""
    articles = closed_counts.paired(closed_counts.ARTICLES, closed_counts.EXIT_PAGE)
    titled = "type = 'pageview' AND title != ''"
    viewed = _in_visits(
        "article_id",
        f"argMaxIf(title, ts, {titled}) AS visit_title",
        f"maxIf(ts, {titled}) AS titled_at",
        where="article_id != ''",
    )
    return (
        f"SELECT {{site:String}}, '{articles}', 'day', day, exit_page, article_id, "
        "uniqIf(visitor_id, views > 0), countIf(views > 0), sum(views), sum(engaged_on), "
        f"0, 0, 0, argMaxIf(visit_title, titled_at, visit_title != ''), {_VERSION} "
        f"FROM {viewed} GROUP BY day, exit_page, article_id"
    )


_DAY_COUNTS = (
    "SELECT {site_kind:String} AS kind, date, '' AS key, '' AS value, "
    "uniqMerge(visitors) AS visitors, 0 AS visits, 0 AS pageviews, 0 AS engaged_ms, '' AS title "
    f"FROM {_of_site(tables.SITE_VISITORS, _DAY_ROWS, _DAYS)} GROUP BY date "
    "UNION ALL "
    "SELECT property, date, '', value, uniqMerge(visitors), sum(visits), sum(pageviews), 0, '' "
    f"FROM {_of_site(tables.BREAKDOWN_STATS, _DAY_ROWS, _DAYS)} GROUP BY property, date, value "
    "UNION ALL "
    "SELECT kind, date, if(kind = {article:String}, article_id, ''), "
    "if(kind = {article:String}, '', article_id), visitors, visits, pageviews, engaged_ms, "
    "if(kind = {article:String}, title, '') "
    "FROM (SELECT date, article_id, uniqMerge(visitors) AS visitors, uniqMerge(visits) AS visits, "
    "sum(pageviews) AS pageviews, sum(engaged_ms) AS engaged_ms, argMaxMerge(title) AS title "
    f"FROM {_of_site(tables.ARTICLE_STATS, _DAY_ROWS, _DAYS)} GROUP BY date, article_id"
    ") ARRAY JOIN [{article:String}, {articles:String}] AS kind "
    "UNION ALL "
    "SELECT {article_source:String}, date, article_id, source, uniqMerge(visitors), 0, "
    "sum(pageviews), 0, '' "
    f"FROM {_of_site(tables.ARTICLE_SOURCES, _DAY_ROWS, _DAYS)} GROUP BY date, article_id, source "
    "UNION ALL "
    "SELECT {exit_page:String}, toDate(visit_start, {tz:String}) AS day, '', "
    f"{visit_rows.EXIT_PAGE} AS path, uniq(visitor_id), count(), 0, 0, '' "
    f"FROM {_of_site(f'{tables.VISITS} FINAL', _EXITS_FROM, _EXITS_TO, _VIEWED)} "
    "GROUP BY day, path"
)


def _counts(rows: str) -> str:
    """The INSERT of `rows` of the days' counts (as `_DAY_COUNTS`'), at {version}."""
    return (
        f"{_INTO_VISIT_COUNTS}SELECT {{site:String}}, kind, 'day', date, key, value, visitors, "
        f"visits, pageviews, engaged_ms, 0, 0, 0, title, {_VERSION} FROM ({rows})"
    )


CLOSE_DAYS = (
    _counts(f"{_DAY_COUNTS} UNION ALL {_page_events()}"),
    _counts(_paired_events(closed_counts.PAIRED)),
    _counts(_paired_events(closed_counts.BY_PAGE)),
    f"{_INTO_VISIT_COUNTS}{_paired_visits()}",
    f"{_INTO_VISIT_COUNTS}{_page_visits()}",
    f"{_INTO_VISIT_COUNTS}{_exit_articles()}",
)
"""The counts of the days {first}..{last}, at {version}: statements run one after the other,
so that ClickHouse holds one's groups at a time (as one statement, a week of the 10 M
bench's busiest days went over 1.5 GiB with 0023's kinds; a statement per property made
the closing of a test's few events twice as slow)."""

MARK_DAYS_CLOSED = (
    f"{_INTO_COUNTS}SELECT {{site:String}}, {{closed:String}}, 'day', {{first:Date}} + number, "
    f"'', '', 0, 0, 0, 0, '', {_VERSION} "
    "FROM numbers(dateDiff('day', {first:Date}, {last:Date}) + 1)"
)
"""The markers of the days {first}..{last}, closed at {version}: written after their counts."""

_PARTS = "span = {parts:String}"
_COUNTED = "kind NOT IN ({closed:String}, {top_articles:String})"
# (kind, key) from ({after}, {after_key}) to ({before}, {before_key}), spelled out: compared
# as tuples, ClickHouse's index kept 171,018 granules of a month of the 10 M bench, not 32.
_IN_PIECE = (
    "kind BETWEEN {after:String} AND {before:String} "
    "AND (kind > {after:String} OR key >= {after_key:String}) "
    "AND (kind < {before:String} OR key < {before_key:String})"
)
_LATEST = (
    "(date, version) GLOBAL IN (SELECT date, max(version) "
    f"FROM {_of_site(tables.CLOSED_COUNTS, 'kind = {closed:String}', _PARTS, _DAYS)} GROUP BY date)"
)
_LAST_PART = (
    "date = (SELECT max(date) "
    f"FROM {_of_site(tables.CLOSED_COUNTS, 'kind = {site_kind:String}', _PARTS, _DAYS)})"
)
KINDS_OF_PART = (
    f"SELECT kind, count() FROM {_of_site(tables.CLOSED_COUNTS, _PARTS, _LAST_PART, _COUNTED)} "
    "GROUP BY kind ORDER BY kind"
)
"""The rows of each kind of the last of the {parts} (days, or a run's months) {first}..{last}
that had visitors, every closing's: how a span's sums are cut into pieces (a month's
rows took a second to count on the 10 M bench; its last day's, 30 times fewer)."""
KEYS_OF_PART = (
    "SELECT kind, key, count() "
    f"FROM {_of_site(tables.CLOSED_COUNTS, 'kind IN {kinds:Array(String)}', _PARTS, _LAST_PART)} "
    "GROUP BY kind, key ORDER BY kind, key"
)
"""The rows of each key of the {kinds} of that same last part: where a kind too big for one
piece is cut."""
CLOSE_SPAN = (
    f"{_INTO_VISIT_COUNTS}SELECT {{site:String}}, kind, {{span:String}}, {{start:Date}}, key, "
    "value, sum(visitors), sum(visits), sum(pageviews), sum(engaged_ms), sum(entries), "
    "sum(bounces), sum(duration_ms), "
    f"argMaxIf(title, date, title != ''), {_VERSION} "
    f"FROM {_of_site(tables.CLOSED_COUNTS, _IN_PIECE, _PARTS, _DAYS, _COUNTED, _LATEST)} "
    "GROUP BY kind, key, value"
)
"""The sums of the kinds and keys from ({after}, {after_key}) (included) to ({before},
{before_key}) (excluded) of the span {span} starting {start} from its {parts} (days, or a
run's months) {first}..{last}, each at its latest closing, the title the last one."""

MARK_SPAN_CLOSED = (
    f"{_INTO_COUNTS}SELECT {{site:String}}, {{closed:String}}, {{span:String}}, {{start:Date}}, "
    f"'', '', 0, 0, 0, 0, '', {_VERSION}"
)

_LISTED = "kind = {articles:String} AND span = {span:String}"
LIST_TOP_ARTICLES = (
    f"{_INTO_COUNTS}"
    "SELECT {site:String}, {top_articles:String}, span, date, '', value, visitors, visits, "
    "pageviews, engaged_ms, '', version "
    "FROM (SELECT span, date, value, visitors, visits, pageviews, engaged_ms, version, "
    "row_number() OVER (PARTITION BY date ORDER BY pageviews DESC, value) AS by_pageviews, "
    "row_number() OVER (PARTITION BY date ORDER BY visits DESC, value) AS by_visits, "
    "row_number() OVER (PARTITION BY date ORDER BY visitors DESC, value) AS by_visitors "
    f"FROM {_of_site(tables.CLOSED_COUNTS, _LISTED, _DAYS, f'version = {_VERSION}')}) "
    "WHERE least(by_pageviews, by_visits, by_visitors) <= {top:UInt32}"
)
"""Of each {span} starting {first}..{last} closed at {version}, `closed_counts.TOP` articles
by page views, by visits and by visitors, from its `articles` rows (an article in two
lists once)."""


# Every site's numbers ------------------------------------------------------------

SITE_TOTALS = f"SELECT site, sum(pageviews), sum(visits) FROM {tables.SITE_TOTALS} GROUP BY site"
"""Every site's all-time page views and visits (the hot counters' reseed)."""
ARTICLE_TOTALS = (
    f"SELECT site, article_id, sum(pageviews) FROM {tables.ARTICLE_TOTALS} "
    "GROUP BY site, article_id"
)
"""Every article's all-time page views (the hot counters' reseed)."""
INSERTED_BY_SITE = (
    "SELECT site, countIf(ts >= {now:DateTime64(3)} - INTERVAL 60 SECOND), max(ts) "
    f"FROM {tables.EVENTS} WHERE ts >= {{now:DateTime64(3)}} - INTERVAL 7 DAY GROUP BY site"
)
"""Per site, the events inserted in the 60 s before {now} and the newest in 7 days (status)."""
