-- The pages of the visits of each entry page, `key` the entry page (issue 17): under a
-- click on one entry page, the breakdown by page reads its rows by the primary key, as
-- under a click on a source or a country (0020). It read the rows by page (0022,
-- `entry_page:page`, `value` the entry page), every visit's pair of entry and page: a
-- 12-month period's are 3.6 M on the 10 M bench, 440 ms of a page of 1 s.
--
-- The closing now keeps both (`footfall.closed_counts.PAGES_KEYED`); the rows closed
-- before are the same the other way round, with their versions, so they are copied
-- here, not closed again. An interrupted copy is deleted before it is made again.
-- Apply with the aggregators stopped (see 0007).
ALTER TABLE closed_counts DELETE WHERE kind = 'page:entry_page' SETTINGS mutations_sync = 2;

INSERT INTO closed_counts (site, kind, span, date, key, value, visitors, visits, pageviews, engaged_ms, entries, bounces, duration_ms, title, version)
SELECT site, 'page:entry_page', span, date, value, key, visitors, visits, pageviews, engaged_ms, entries, bounces, duration_ms, title, version
FROM closed_counts
WHERE kind = 'entry_page:page'
