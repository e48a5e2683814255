"""The service's recent activity, hour by hour: searches that held numbers and numbers purchased.

Counted from the audit trail (core/audit.py), which records both: a `held` event per number a
search takes (its reference is the search id) and a `purchased` event per number bought. Each
hour is counted by time alone (the store reads one range of an index per hour and kind), so the
cost follows the events of the 24 hours, not the whole trail, and an event is counted in the
hour of its time even where times do not grow with ids (after a reset of the test clock).
"""

from __future__ import annotations

from dataclasses import dataclass

from numberpool.core.storage import Store

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
        counts = await tx.hourly_activity(since, hours)
    return [ActivityHour(since + row.hour * HOUR, row.searches, row.purchases) for row in counts]
