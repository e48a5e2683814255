"""Filling an empty store with the demo catalog and inventory."""

from __future__ import annotations

from collections.abc import Callable

from numberpool.core.demo_catalog import COUNTRIES, OFFERINGS
from numberpool.core.model import Locality
from numberpool.numbering.demo import demo_blocks
from numberpool.store.base import Store


async def seed_demo(store: Store, per_area_code: int, progress: Callable[[int], None] | None = None) -> int:
    """Load the demo catalog and `per_area_code` numbers in each demo area code; returns numbers added."""
    await store.load_catalog(COUNTRIES, OFFERINGS)
    added = 0
    for block in demo_blocks(per_area_code):
        locality = Locality(
            block.country, block.number_type, block.area_code, block.locality, block.division_abbr, block.division_name
        )
        added += await store.load_numbers(locality, block.numbers)
        if progress:
            progress(added)
    return added
