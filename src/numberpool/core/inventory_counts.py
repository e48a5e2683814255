"""How many numbers each country and type has in each state, as a client would see them now.

A hold or reservation whose expiry has passed counts as available (lazy expiry: the next search
may take the number, and the sweep returns it for good), so the counts move lapsed holds back
to `available` rather than waiting for the sweep.
"""

from __future__ import annotations

from collections import Counter

from numberpool.core.context import Context

InventoryKey = tuple[str, str, str]
"""(country, number type, state)."""

STATES = ("available", "held", "reserved", "purchased", "aging")
"""Every country and type is counted in each of these (zero too), so an alert on a count sees it reach zero."""


async def inventory_counts(ctx: Context) -> dict[InventoryKey, int]:
    """Numbers by (country, number type, state): every state of `STATES` for each country and type
    that has numbers, and any other state that some number is in."""
    counts: Counter[InventoryKey] = Counter()
    for row in await ctx.store.count_numbers():
        counts[(row.country, row.number_type, row.state)] += row.count
    for row in await ctx.store.count_lapsed(ctx.clock.epoch()):
        counts[(row.country, row.number_type, row.state)] -= row.count
        counts[(row.country, row.number_type, "available")] += row.count
    for country, number_type in {(country, number_type) for country, number_type, _ in list(counts)}:
        for state in STATES:
            counts[(country, number_type, state)] += 0
    return dict(counts)
