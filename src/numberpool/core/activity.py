"""The service's recent activity, hour by hour: searches that held numbers and numbers purchased.

Counted from the audit trail (core/audit.py), which records both: a `held` event per number a
search takes (its reference is the search id) and a `purchased` event per number bought. The
events have no index by time; their ids grow with time, so the first event of the window is
found by a binary search on the primary key (about 25 look-ups at 10 M events) and only the
window's events are read.
"""

from __future__ import annotations

from dataclasses import dataclass

from numberpool.core.storage import Store, Transaction

HOUR = 3600


@dataclass(frozen=True)
class ActivityHour:
    start: float
    """Epoch seconds: the hour's first moment."""
    searches: int
    purchases: int


async def hourly_activity(store: Store, now: float, hours: int = 24) -> list[ActivityHour]:
    """The last `hours` whole hours up to the one holding `now`, oldest first, every hour present."""
    since = (now // HOUR - (hours - 1)) * HOUR
    async with store.read() as tx:
        first = await _first_event_since(tx, since)
        counts = {row.hour: row for row in await tx.hourly_activity(first, since, hours)}
    series = []
    for hour in range(hours):
        row = counts.get(hour)
        series.append(ActivityHour(since + hour * HOUR, row.searches if row else 0, row.purchases if row else 0))
    return series


async def _first_event_since(tx: Transaction, since: float) -> int:
    """The lowest id from which on every event is at or after `since` (past the last event if none is)."""

    async def from_here(event_id: int) -> bool:
        found = await tx.event_at_or_after(event_id)
        return found is None or found[1] >= since

    high = 1
    while not await from_here(high):  # doubling: an id past the window's start
        high *= 2
    low = high // 2 + 1 if high > 1 else 1
    while low < high:
        middle = (low + high) // 2
        if await from_here(middle):
            high = middle
        else:
            low = middle + 1
    return low
