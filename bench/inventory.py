"""Synthetic inventories of any size for benchmarks, loaded through the engine's bulk path.

Numbers are North American geographic numbers NPA-NXX-XXXX in real US area codes
(checked once per area code with `phonenumbers`), spread evenly over area codes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import phonenumbers
from phonenumbers import geocoder

from numberpool.core.catalog_file import demo_catalog
from numberpool.core.model import Locality, NumberType
from numberpool.core.storage import Store

BATCH = 100_000
EXCHANGES = [x for x in range(200, 1000) if x % 100 != 11]  # N11 codes are service codes, not exchanges
PER_AREA_CODE = len(EXCHANGES) * 10_000


def area_codes(count: int) -> list[tuple[str, str]]:
    """`count` real US area codes with the geocoder's name for them."""
    found = []
    for npa in range(201, 1000):
        number = phonenumbers.parse(f"+1{npa}2345678")
        if phonenumbers.is_valid_number(number) and phonenumbers.region_code_for_number(number) == "US":
            place = geocoder.description_for_number(number, "en")
            if place:
                found.append((str(npa), place))
        if len(found) == count:
            break
    return found


def _numbers(npa: str, count: int) -> Iterator[str]:
    produced = 0
    for exchange in EXCHANGES:
        prefix = f"+1{npa}{exchange}"
        for line in range(10_000):
            if produced == count:
                return
            yield f"{prefix}{line:04d}"
            produced += 1


def plan(size: int, spread: int = 10) -> list[tuple[str, str, int]]:
    """(area code, place, how many numbers) for an inventory of `size`, over at least `spread` area codes."""
    codes = area_codes(max(spread, -(-size // PER_AREA_CODE)))
    per_code, extra = divmod(size, len(codes))
    return [(npa, place, per_code + (1 if i < extra else 0)) for i, (npa, place) in enumerate(codes)]


async def load(store: Store, size: int) -> tuple[int, float]:
    """Load `size` numbers; returns (numbers added, seconds spent in the store's bulk path)."""
    catalog = demo_catalog()
    await store.load_catalog(catalog.countries, catalog.offerings)
    added, spent = 0, 0.0
    for npa, place, count in plan(size):
        locality = Locality("US", NumberType.GEOGRAPHIC, npa, place, None, None)
        batch: list[str] = []
        for number in _numbers(npa, count):
            batch.append(number)
            if len(batch) == BATCH:
                started = time.perf_counter()
                added += await store.load_numbers(locality, batch)
                spent += time.perf_counter() - started
                batch = []
        if batch:
            started = time.perf_counter()
            added += await store.load_numbers(locality, batch)
            spent += time.perf_counter() - started
    return added, spent
