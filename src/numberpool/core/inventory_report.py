"""How many numbers there are, by country, type, area code and state: one source for the
`inventory report` command, its admin route, the `numberpool_phone_numbers` gauge and the
admin console.

The database maintains these counts on every write (store/number_counts.py), so reading them
costs the same at 10 M numbers as at 10. They count each number in its stored state: a hold
past its expiry counts as held until the sweep returns it (within `--sweep-seconds`), an aging
number past its end as aging, exactly as an export of the numbers would show them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from numberpool.core.model import NumberState
from numberpool.core.storage import Store

STATES = tuple(state.value for state in NumberState)


@dataclass(frozen=True)
class InventoryReport:
    rows: tuple[tuple[str, str, str, str, int], ...]
    """(country, number type, area code, state, count), sorted."""

    @property
    def total(self) -> int:
        return sum(row[4] for row in self.rows)

    def by_state(self) -> dict[str, int]:
        counts = Counter({state: 0 for state in STATES})
        for *_, state, count in self.rows:
            counts[state] += count
        return dict(counts)

    def by(self, *columns: str) -> dict[tuple[str, ...], dict[str, int]]:
        """Counts per state for each value of `columns` (any of country, type, areaCode)."""
        at = [("country", "type", "areaCode").index(c) for c in columns]
        grouped: dict[tuple[str, ...], dict[str, int]] = {}
        for row in self.rows:
            key = tuple(row[i] for i in at)
            counts = grouped.setdefault(key, dict.fromkeys(STATES, 0))
            counts[row[3]] = counts.get(row[3], 0) + row[4]
        return grouped

    def by_country_type_and_state(self) -> dict[tuple[str, str, str], int]:
        """(country, type, state): count, every state for each country and type (zeros too, so
        an alert on a count sees it reach zero)."""
        return {
            (country, kind, state): count
            for (country, kind), counts in self.by("country", "type").items()
            for state, count in counts.items()
        }

    def as_json(self) -> dict[str, object]:
        return {
            "total": self.total,
            "byState": self.by_state(),
            "groups": [
                {"countryCode": c, "phoneNumberType": t, "areaCode": a, "state": s, "count": n}
                for c, t, a, s, n in self.rows
            ],
        }


async def inventory_report(store: Store) -> InventoryReport:
    rows = await store.inventory().report()
    return InventoryReport(tuple(sorted((c, t, a, s, int(n)) for c, t, a, s, n in rows)))
