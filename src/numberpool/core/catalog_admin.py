"""Importing and exporting the catalog: the operator's countries, offerings and prices.

A catalog file is the whole catalog: importing it adds and updates what it declares and
removes the offerings it no longer lists. Prices are stored on each number when it is
bought (and on each reserved number when it is reserved), so a new price applies to new
purchases only. Removing the last offering of a country and type while numbers of it are
available would leave them unsellable: the import refuses that unless forced.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from numberpool.core.audit import service_now
from numberpool.core.catalog_file import Catalog, describe_offering, offering_key
from numberpool.core.inventory_store import CatalogChange
from numberpool.core.model import ADMIN_ACTOR, Change
from numberpool.core.storage import Store


class CatalogConflict(ValueError):
    """The import would strand available numbers; the message says which and how to proceed."""

    def __init__(self, message: str, stranded: list[str]) -> None:
        super().__init__(message)
        self.stranded = stranded
        """Per country and type: how many available numbers would have no offering left."""


@dataclass
class CatalogImport:
    """What an import changed (or, refused, would have changed)."""

    added_countries: list[str] = field(default_factory=list)
    updated_countries: list[str] = field(default_factory=list)
    removed_countries: list[str] = field(default_factory=list)
    kept_countries: list[str] = field(default_factory=list)
    """Absent from the file but kept: numbers of theirs are stored (in any state)."""
    added_offerings: list[str] = field(default_factory=list)
    updated_offerings: list[str] = field(default_factory=list)
    removed_offerings: list[str] = field(default_factory=list)
    stranded: list[str] = field(default_factory=list)
    """Country and type whose available numbers have no offering left (only with force)."""

    @property
    def changed(self) -> bool:
        return any((self.added_countries, self.updated_countries, self.removed_countries, self.added_offerings,
                    self.updated_offerings, self.removed_offerings))

    def summary(self) -> str:
        if not self.changed:
            return "catalog unchanged"
        parts = []
        for label, items in (("countries added", self.added_countries), ("countries updated", self.updated_countries),
                             ("countries removed", self.removed_countries), ("offerings added", self.added_offerings),
                             ("offerings updated", self.updated_offerings), ("offerings removed", self.removed_offerings)):
            if items:
                parts.append(f"{len(items)} {label}")
        return "catalog imported: " + ", ".join(parts)


async def export_catalog(store: Store) -> Catalog:
    countries, offerings = await store.inventory().catalog()
    return Catalog(tuple(countries), tuple(offerings))


async def import_catalog(store: Store, catalog: Catalog, *, force: bool = False, source: str = "catalog") -> CatalogImport:
    """Make the stored catalog what `catalog` declares; idempotent. Raises CatalogConflict (nothing changed)."""
    inventory = store.inventory()
    countries, offerings = await inventory.catalog()
    result = CatalogImport()
    stored_countries = {c.code: c for c in countries}
    stored_offerings = {offering_key(o): o for o in offerings}
    wanted_offerings = {offering_key(o): o for o in catalog.offerings}
    wanted_countries = {c.code for c in catalog.countries}

    upsert_countries = []
    for country in catalog.countries:
        before = stored_countries.get(country.code)
        if before != country:
            (result.updated_countries if before else result.added_countries).append(country.code)
            upsert_countries.append(country)
    upsert_offerings = []
    for key, offering in wanted_offerings.items():
        before = stored_offerings.get(key)
        if before != offering:
            (result.updated_offerings if before else result.added_offerings).append(describe_offering(offering))
            upsert_offerings.append(offering)
    removed = [o for key, o in stored_offerings.items() if key not in wanted_offerings]
    result.removed_offerings = [describe_offering(o) for o in removed]

    still_sold = {(o.country, o.number_type) for o in catalog.offerings}
    conflicts = []
    for country, number_type in sorted({(o.country, o.number_type) for o in removed} - still_sold):
        available = await inventory.available_count(country, number_type)
        if available:
            conflicts.append(f"{available} available {country} {number_type.value} numbers")
    if conflicts and not force:
        raise CatalogConflict(
            f"{source}: refused: the file removes the last offering for {', '.join(conflicts)}"
            " (they could no longer be sold); add the offering back, withdraw the numbers, or pass --force",
            conflicts,
        )
    result.stranded = conflicts

    with_numbers = await inventory.countries_with_numbers()
    for code in sorted(set(stored_countries) - wanted_countries):
        (result.kept_countries if code in with_numbers else result.removed_countries).append(code)

    # An import that changes nothing (each `serve --catalog` start, say) leaves no event.
    recorded = Change(await service_now(store), ADMIN_ACTOR) if result.changed else None
    await inventory.apply_catalog(CatalogChange(
        tuple(upsert_countries), tuple(upsert_offerings), tuple(removed), tuple(result.removed_countries),
        recorded, f"{source}: {result.summary().removeprefix('catalog imported: ')}",
    ))
    return result
