-- The admin API's hourly activity (core/activity.py, GET /activity) counts, per hour of the last
-- 24, the searches that held numbers and the numbers bought. Without an index by time it read
-- every event of the window and sorted them by hour (about 0.26 s at 500 k events, all of them in
-- the window: bench/README.md, "The hourly activity"). Two partial indexes hold just the two kinds
-- it counts, each with what it reads, so the count of an hour is a range of one index and the
-- table is not touched. They are fed only by `held` and `purchased` events: one more small B-tree
-- insert per number a search holds or a purchase buys, none for the other events.
CREATE INDEX number_events_held ON number_events (at, reference) WHERE event = 'held';
CREATE INDEX number_events_purchased ON number_events (at) WHERE event = 'purchased';
