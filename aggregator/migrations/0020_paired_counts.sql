-- Paired counts (issue 17): a page's and an article's numbers among the visits of one
-- source, or of one country, kept for each closed day and span.
--
-- A click on a source or a country filters the whole page. Since 0019 the page
-- breakdown and the top articles under such a filter read the events of the visits
-- that pass by the visit's properties stamped on them, but still every one of the
-- period's events: 3-4 s for a year of 10 million page views. The closing now counts
-- them too (aggregator/sql.py): kinds `page:visit_source_name`, `page:visit_country`
-- (`value` the path, visitors, visits and page views) and `articles:visit_source_name`,
-- `articles:visit_country` (`value` the article, its numbers and title), `key` the
-- visit's source or country (`footfall.closed_counts.PAIRED`), by day and by span as
-- every kind; and from `visits`, the site's numbers among the visits of each source and
-- country (`site:source_name`, `site:country`) and each visit property's
-- (`country:source_name`, `entry_page:country`...), with three more numbers a visit has:
-- `entries` (the visits that started), `bounces` and `duration_ms`. A query reads a
-- closed period's cards, chart, breakdowns and top articles under one source or country
-- from those rows, as it reads them unfiltered.
--
-- The counts start again empty, as with 0013: the aggregator closes every past day
-- anew by itself, with the paired kinds (a year of 10 million page views in about a
-- minute), and queries merge the rollups' states for the days not closed yet
-- meanwhile. Apply with the aggregators stopped (see 0007).
ALTER TABLE closed_counts ADD COLUMN IF NOT EXISTS entries UInt64 AFTER engaged_ms;

ALTER TABLE closed_counts ADD COLUMN IF NOT EXISTS bounces UInt64 AFTER entries;

ALTER TABLE closed_counts ADD COLUMN IF NOT EXISTS duration_ms UInt64 AFTER bounces;

TRUNCATE TABLE IF EXISTS closed_counts
