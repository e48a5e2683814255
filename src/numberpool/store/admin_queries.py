"""The SQL of the admin listings, shared by both engines (they differ only in placeholders).

Numbers are paged by keyset on the primary key, `phone_number > last seen ... ORDER BY
phone_number LIMIT n`, never by OFFSET: a page costs the same at the 10 000th page as at the
first. Which index walks them (both engines have the same ones, migrations 0001/0008):
- the primary key (B-tree on phone_number; `COLLATE "C"` on PostgreSQL, so byte order, and the
  prefix becomes the range `>= prefix AND < prefix with its last character + 1`);
- `numbers_owned (owner, phone_number)` when a resource is given: equality on its first column
  leaves the rows already in key order, so the page stops after `n` index entries;
- with only state or country, the primary-key walk filters as it goes: a page reads until it has
  `n` matches, which is quick for common states and bounded by the prefix range for rare ones.
Only the conditions given are written into the query, so each engine plans for the filter it has.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from numberpool.core.storage import NumberFilter

Placeholder = Callable[[int], str]
"""The n-th (1-based) parameter's placeholder: `?` for SQLite, `$n` for PostgreSQL."""


def prefix_end(prefix: str) -> str:
    """The first text after every text that starts with `prefix` (non-empty)."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def numbers_page_sql(columns: str, where: NumberFilter, after: str, limit: int,
                     placeholder: Placeholder) -> tuple[str, list[Any]]:
    # After the last number seen, or from the prefix on when that comes later.
    lower = "phone_number > {}" if after >= where.prefix else "phone_number >= {}"
    args: list[Any] = [max(after, where.prefix), prefix_end(where.prefix)]
    conditions = [lower.format(placeholder(1)), f"phone_number < {placeholder(2)}"]
    for column, value in (("state", where.state), ("country", where.country), ("owner", where.owner)):
        if value is not None:
            args.append(value)
            conditions.append(f"{column} = {placeholder(len(args))}")
    args.append(limit)
    sql = (f"SELECT {columns} FROM numbers WHERE {' AND '.join(conditions)}"
           f" ORDER BY phone_number LIMIT {placeholder(len(args))}")
    return sql, args


def hourly_activity_sql(real: str, placeholder: Placeholder) -> str:
    """Parameters: since (epoch seconds), hours. One row per hour, oldest first: hour, searches, purchases.

    Each hour's two counts are ranges of the partial indexes `number_events_held` (at, reference) and
    `number_events_purchased` (at) of migration 0015, read by time and never by id, so events whose
    times do not grow with their ids (a reset test clock) are counted in their hour all the same.
    `real` is the engine's name for a double, which the first hour's start is cast to."""
    p = placeholder
    return (
        f"WITH RECURSIVE hours (hour, start) AS (SELECT 0, CAST({p(1)} AS {real})"
        f" UNION ALL SELECT hour + 1, start + 3600 FROM hours WHERE hour + 1 < {p(2)})"
        " SELECT hour,"
        " (SELECT COUNT(DISTINCT reference) FROM number_events"
        "   WHERE event = 'held' AND at >= start AND at < start + 3600),"
        " (SELECT COUNT(*) FROM number_events"
        "   WHERE event = 'purchased' AND at >= start AND at < start + 3600)"
        " FROM hours ORDER BY hour"
    )
