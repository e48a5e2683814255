-- `numbers_free` (country, number_type, area_code, state, number) has served no query
-- since 0004 added `numbers_free_by_type` (country, number_type, state, area_code,
-- number): every query filters state and area code by equality, or state alone, so the
-- newer index answers all of them in the same order, and the planner already chose it
-- for every one. Each bulk-loaded number paid for maintaining both.
DROP INDEX numbers_free;
