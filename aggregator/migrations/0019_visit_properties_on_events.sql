-- The visit's entry properties on each of its events (issue 17): `visit_<name>` holds
-- the property `name` of the event's visit, as its row in `visits` (0018) holds it (the
-- entry page view's source, referrer, UTM tags, country, device, browser and OS, and
-- its path as `visit_entry_page`); '' outside any visit. A query about pages or articles
-- under a filter on a visit's property (a click on a source, a country...) reads these
-- on the event rows instead of joining every event to its visit: that join was most of
-- its time (footfall.visit_rows).
--
-- The aggregator stamps them as it makes the rows (aggregator/rows.py), from the entry
-- event each stream entry of a visit carries (collector/ingest.lua). The events there
-- already take them from `visits` after these statements, a month at a time
-- (aggregator/backfills.py). Apply with the aggregators stopped (see 0007), and the
-- collectors' streams drained: an entry stored before the upgrade carries no entry
-- event.
ALTER TABLE events ADD COLUMN IF NOT EXISTS visit_source_name LowCardinality(String) AFTER stream_id;
ALTER TABLE events ADD COLUMN IF NOT EXISTS visit_referrer_host LowCardinality(String) AFTER visit_source_name;
ALTER TABLE events ADD COLUMN IF NOT EXISTS visit_utm_source LowCardinality(String) AFTER visit_referrer_host;
ALTER TABLE events ADD COLUMN IF NOT EXISTS visit_utm_medium LowCardinality(String) AFTER visit_utm_source;
ALTER TABLE events ADD COLUMN IF NOT EXISTS visit_utm_campaign LowCardinality(String) AFTER visit_utm_medium;
ALTER TABLE events ADD COLUMN IF NOT EXISTS visit_utm_content String AFTER visit_utm_campaign;
ALTER TABLE events ADD COLUMN IF NOT EXISTS visit_utm_term String AFTER visit_utm_content;
ALTER TABLE events ADD COLUMN IF NOT EXISTS visit_country LowCardinality(String) AFTER visit_utm_term;
ALTER TABLE events ADD COLUMN IF NOT EXISTS visit_device LowCardinality(String) AFTER visit_country;
ALTER TABLE events ADD COLUMN IF NOT EXISTS visit_browser LowCardinality(String) AFTER visit_device;
ALTER TABLE events ADD COLUMN IF NOT EXISTS visit_browser_version LowCardinality(String) AFTER visit_browser;
ALTER TABLE events ADD COLUMN IF NOT EXISTS visit_os LowCardinality(String) AFTER visit_browser_version;
ALTER TABLE events ADD COLUMN IF NOT EXISTS visit_os_version LowCardinality(String) AFTER visit_os;
ALTER TABLE events ADD COLUMN IF NOT EXISTS visit_entry_page String AFTER visit_os_version
