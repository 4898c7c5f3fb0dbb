-- Each closed day's and span's most read articles (issue 4).
--
-- A period's top articles summed every article's counts of the period: a year's
-- 225,000 `articles` rows for the ten shown. Closings now also write, for each day,
-- week, month and quarter, its 100 (`closed_counts.TOP`) articles by page views, by
-- visits and by visitors as `top_articles` rows, and the dashboard looks for the
-- period's top articles among those first (dashboard/top_articles.py). This fills them
-- for the closings made before, from their `articles` rows, as aggregator/closing.py
-- does (run again, it adds nothing once some list is there). Apply with the aggregators
-- stopped (see 0007): an aggregator of before this migration that closes a day after
-- it writes no list for it, and the day's top articles would be read without it.
INSERT INTO closed_counts (site, kind, span, date, key, value, visitors, visits, pageviews, engaged_ms, title, version)
SELECT site, 'top_articles', span, date, '', value, visitors, visits, pageviews, engaged_ms, '', version
FROM (
    SELECT site, span, date, value, visitors, visits, pageviews, engaged_ms, version,
        row_number() OVER (PARTITION BY site, span, date, version ORDER BY pageviews DESC, value) AS by_pageviews,
        row_number() OVER (PARTITION BY site, span, date, version ORDER BY visits DESC, value) AS by_visits,
        row_number() OVER (PARTITION BY site, span, date, version ORDER BY visitors DESC, value) AS by_visitors
    FROM closed_counts
    WHERE kind = 'articles'
)
WHERE least(by_pageviews, by_visits, by_visitors) <= 100
    AND (SELECT count() FROM closed_counts WHERE kind = 'top_articles') = 0;
