"""The catalog: countries, localities, area codes and offerings for sale."""

from __future__ import annotations

from dataclasses import dataclass

from numberpool.core import errors
from numberpool.core.context import Context
from numberpool.core.model import AssignmentType, Country, Locality, NumberType, Offering
from numberpool.numbering.e164 import is_region


@dataclass(frozen=True)
class Division:
    abbreviated: str
    name: str


@dataclass(frozen=True)
class Town:
    name: str
    division: Division | None


def check_country(country: str) -> str:
    """The upper-case ISO code, or the ACS error for a code that names no country."""
    if len(country) != 2 or not is_region(country):
        raise errors.unknown_country()
    return country.upper()


async def countries(ctx: Context) -> list[Country]:
    async with ctx.store.read() as tx:
        return await tx.countries()


async def offerings(
    ctx: Context,
    country: str,
    number_type: NumberType | None = None,
    assignment: AssignmentType | None = None,
) -> list[Offering]:
    country = check_country(country)
    async with ctx.store.read() as tx:
        found = await tx.offerings(country)
    return [
        o
        for o in found
        if (number_type is None or o.number_type is number_type) and (assignment is None or o.assignment is assignment)
    ]


def _division_matches(locality: Locality, division: str | None) -> bool:
    if division is None:
        return True
    wanted = division.casefold()
    return wanted in ((locality.division_abbr or "").casefold(), (locality.division_name or "").casefold())


async def localities(
    ctx: Context, country: str, division: str | None = None, number_type: NumberType | None = None
) -> list[Town]:
    country = check_country(country)
    async with ctx.store.read() as tx:
        found = await tx.localities(country)
    towns: dict[tuple[str, str | None], Town] = {}
    for locality in found:
        if locality.name is None or not _division_matches(locality, division):
            continue
        if number_type is not None and locality.number_type is not number_type:
            continue
        div = Division(locality.division_abbr, locality.division_name or locality.division_abbr) if locality.division_abbr else None
        towns.setdefault((locality.name, locality.division_abbr), Town(locality.name, div))
    return sorted(towns.values(), key=lambda t: (t.division.abbreviated if t.division else "", t.name))


async def area_codes(
    ctx: Context,
    country: str,
    number_type: NumberType,
    assignment: AssignmentType | None = None,
    locality: str | None = None,
    division: str | None = None,
) -> list[str]:
    country = check_country(country)
    async with ctx.store.read() as tx:
        sold = await tx.offerings(country)
        found = await tx.localities(country)
    if not any(o.number_type is number_type and (assignment is None or o.assignment is assignment) for o in sold):
        return []
    codes = {
        loc.area_code
        for loc in found
        if loc.number_type is number_type
        and (locality is None or (loc.name or "").casefold() == locality.casefold())
        and _division_matches(loc, division)
    }
    if not codes and (locality is not None or division is not None):
        raise errors.no_area_codes()
    return sorted(codes)
