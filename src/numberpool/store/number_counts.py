"""The maintained inventory counts (migration 0012): one row per country, number type, area code
and state in `number_counts`, which triggers keep equal to the numbers table on every write.
SQLite keeps it as a table of counters; PostgreSQL as a view summing append-only deltas, which
the sweep compacts (`COMPACT_DELTAS_SQL`)."""

COUNTS_SQL = "SELECT country, number_type, area_code, state, count FROM number_counts WHERE count <> 0"

COUNTS_DIFFER_SQL = """
SELECT 'counted apart from its numbers', country || ' ' || number_type || ' ' || area_code || ' ' || state
  FROM (SELECT country, number_type, area_code, state, count AS delta FROM number_counts
        UNION ALL
        SELECT country, number_type, area_code, state, -1 FROM numbers) counted
 GROUP BY country, number_type, area_code, state
HAVING sum(delta) <> 0
"""
"""The invariant's rule for the counts: a group whose maintained count is not its numbers' count."""

COMPACT_DELTAS_SQL = """
WITH gone AS (DELETE FROM number_count_deltas RETURNING country, number_type, area_code, state, delta)
INSERT INTO number_count_deltas (country, number_type, area_code, state, delta)
SELECT country, number_type, area_code, state, sum(delta) FROM gone
 GROUP BY country, number_type, area_code, state
HAVING sum(delta) <> 0
"""
"""PostgreSQL: each group's deltas replaced by their sum, in one statement. Deltas that concurrent
transactions insert meanwhile are not in its snapshot and stay; run under `COMPACT_LOCK` so that
two compactions never wait on each other's deleted rows."""

COMPACT_LOCK = 0x4E50_636F_756E_7473
"""pg_try_advisory_xact_lock key of the compaction: b"NPcounts"."""
