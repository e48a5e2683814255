"""What the operator's inventory commands need from storage, beyond `core.storage.Store`.

Each engine implements it in its own module (`store/sqlite_inventory.py`,
`store/postgres_inventory.py`); `Store.inventory()` hands it out.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from numberpool.core.model import Change, Country, NumberType, Offering


@dataclass(frozen=True)
class CatalogChange:
    """What a catalog import writes, in one transaction."""

    upsert_countries: tuple[Country, ...]
    upsert_offerings: tuple[Offering, ...]
    """Added, or their cost updated (an offering is identified by country, type, assignment, capabilities)."""
    remove_offerings: tuple[Offering, ...]
    remove_countries: tuple[str, ...]
    recorded: Change | None = None
    """Who imports, when: the `catalog imported` admin event written in the same transaction (None: no event)."""
    detail: str | None = None


@dataclass(frozen=True)
class ExportFilter:
    state: str | None = None
    country: str | None = None
    resource: str | None = None


ExportRow = tuple[
    str, str, str, "str | None", "str | None", str, "str | None", "float | None", "float | None", "str | None"
]
"""phone number, type, area code, locality, division, state, owner, since (epoch), cost, currency."""

ReportRow = tuple[str, str, str, str, int]
"""country, number type, area code, state, count."""


class InventoryStore(Protocol):
    async def catalog(self) -> tuple[list[Country], list[Offering]]:
        """Every country (by code) and offering (in the order they were added)."""
        ...

    async def available_count(self, country: str, number_type: NumberType) -> int:
        """How many numbers of a country and type are available now."""
        ...

    async def countries_with_numbers(self) -> set[str]: ...

    async def apply_catalog(self, change: CatalogChange) -> None: ...

    async def present(self, numbers: Sequence[str]) -> int:
        """How many of `numbers` (distinct) are stored, in any state."""
        ...

    async def withdraw(self, numbers: Sequence[str], change: Change) -> dict[str, str | None]:
        """Withdraw those of `numbers` that are available, each with its `withdrawn` event in the same
        transaction; every number's state before (None: not stored)."""
        ...

    def export(self, where: ExportFilter) -> AsyncIterator[list[ExportRow]]:
        """The numbers `where` selects, in number order, a batch at a time."""
        ...

    async def report(self) -> list[ReportRow]:
        """Counts of numbers by country, type, area code and state (groups with none left out), as the
        database maintains them on every write: a few hundred rows to read at any inventory size."""
        ...
