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


def hourly_activity_sql(hour_of: str, placeholder: Placeholder) -> str:
    """Parameters: since, from_id, since, until. `hour_of` turns `(at - since) / 3600` into a whole hour.

    The events have no index by time (migration 0011 says why); ids grow with time, so the scan
    starts at `from_id` (found by `core.activity` with a binary search on the primary key)."""
    p = placeholder
    return (
        f"SELECT {hour_of.format(f'(at - {p(1)}) / 3600')} AS hour,"
        " COUNT(DISTINCT CASE WHEN event = 'held' THEN reference END),"
        " COUNT(CASE WHEN event = 'purchased' THEN 1 END)"
        f" FROM number_events WHERE id >= {p(2)} AND at >= {p(3)} AND at < {p(4)}"
        " AND event IN ('held', 'purchased') GROUP BY 1 ORDER BY 1"
    )
