-- The twin of sqlite/0015_activity_indexes.sql: two partial indexes for the hourly activity
-- (GET /activity), each a range by time over the only events it counts. PostgreSQL reads them
-- index-only (no heap fetch) once autovacuum has marked the pages all-visible. The migration builds
-- them while it holds the table's write lock: 0.35 s at 500 k events (bench/README.md, "The hourly
-- activity"), so about a second per 1.5 M events for which searches and purchases wait.
CREATE INDEX number_events_held ON number_events (at, reference) WHERE event = 'held';
CREATE INDEX number_events_purchased ON number_events (at) WHERE event = 'purchased';
