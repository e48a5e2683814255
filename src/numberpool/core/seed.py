"""Filling a store with the demo catalog and inventory, resumably.

Each locality's numbers go in with one transaction and the loader skips numbers already
stored, so loading the same blocks again is harmless. The seeding is recorded in the store
before the first number and marked complete after the last: a process stopped half-way
(kill -9, power cut) leaves whole localities and an incomplete record, and the next start
loads what is missing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from numberpool.core.catalog_file import demo_catalog
from numberpool.core.model import Locality
from numberpool.numbering.demo import demo_blocks
from numberpool.core.storage import Store


@dataclass(frozen=True)
class SeedPlan:
    per_area_code: int
    resuming: bool
    """True when an earlier start began this seeding and did not finish it."""


async def seed_demo(store: Store, per_area_code: int, progress: Callable[[int], None] | None = None) -> int:
    """Load the demo catalog and `per_area_code` numbers in each demo area code; returns numbers added.

    Idempotent: numbers and localities already stored are left as they are (whatever their state).
    """
    catalog = demo_catalog()
    await store.load_catalog(catalog.countries, catalog.offerings)
    added = 0
    for block in demo_blocks(per_area_code):
        locality = Locality(
            block.country, block.number_type, block.area_code, block.locality, block.division_abbr, block.division_name
        )
        added += await store.load_numbers(locality, block.numbers)
        if progress:
            progress(added)
    return added


async def demo_seed_plan(store: Store, per_area_code: int) -> SeedPlan | None:
    """What seeding this store needs: None when nothing (seeded, or holds an inventory from elsewhere).

    An unfinished seeding is resumed at the size it began with, whatever `per_area_code` is now,
    so the inventory ends up exactly as if the first start had finished.
    """
    recorded = await store.demo_seed()
    if recorded is not None:
        size, complete = recorded
        return None if complete else SeedPlan(size, resuming=True)
    if not per_area_code or not await store.is_empty():
        return None
    return SeedPlan(per_area_code, resuming=False)


async def ensure_demo_inventory(
    store: Store, plan: SeedPlan, progress: Callable[[int], None] | None = None
) -> int:
    """Carry out `plan` to completion; returns the numbers added by this call."""
    await store.record_demo_seed(plan.per_area_code, time.time(), complete=False)
    added = await seed_demo(store, plan.per_area_code, progress)
    await store.record_demo_seed(plan.per_area_code, time.time(), complete=True)
    return added
