"""The demo inventory: real, valid numbers in real area codes, grouped in blocks.

Every number is checked with `phonenumbers` (`is_valid_number` and the expected
`number_type`) and its locality is what numbering/plan.py says for it (the library's geocoder, and
where the real service lists mobile numbers the geocoder places nowhere).
Nothing here is random: the same size always yields the same numbers.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import phonenumbers
from phonenumbers import PhoneNumberType

from numberpool.core.model import NumberType
from numberpool.numbering.plan import locality_of, place_of

_EXPECTED_TYPES = {
    NumberType.GEOGRAPHIC: {PhoneNumberType.FIXED_LINE, PhoneNumberType.FIXED_LINE_OR_MOBILE},
    NumberType.TOLL_FREE: {PhoneNumberType.TOLL_FREE},
    NumberType.MOBILE: {PhoneNumberType.MOBILE},
}


@dataclass(frozen=True)
class Range:
    """Where to draw numbers: `prefix` then `subscriber_digits` digits, from `first` upward."""

    country: str
    number_type: NumberType
    area_code: str
    prefix: str  # national significant number prefix, e.g. "425" or "800"
    subscriber_digits: int
    first: int = 0
    per_exchange: int = 0
    """North American ranges: take this many numbers from an exchange, then jump to another."""


@dataclass(frozen=True)
class Block:
    """Numbers sharing country, type, area code and locality."""

    country: str
    number_type: NumberType
    area_code: str
    locality: str | None
    division_abbr: str | None
    division_name: str | None
    numbers: tuple[str, ...]


GEO, TF, MOBILE = NumberType.GEOGRAPHIC, NumberType.TOLL_FREE, NumberType.MOBILE

# North American geographic numbers are spread over many exchanges (visited in a
# fixed order that jumps across 200-999) so that one area code shows several
# localities, as it does in life.
_EXCHANGES = tuple(200 + (k * 41) % 800 for k in range(800))
_LINES = 10_000

RANGES: tuple[Range, ...] = (
    *(
        Range("US", GEO, ac, ac, 7, per_exchange=25)
        for ac in ("425", "206", "212", "415")
    ),
    *(Range("US", TF, ac, ac, 7, first=2_000_000) for ac in ("800", "833", "844", "855", "866", "877", "888")),
    *(Range("CA", GEO, ac, ac, 7, per_exchange=25) for ac in ("416", "604", "514")),
    *(Range("CA", TF, ac, ac, 7, first=6_000_000) for ac in ("800", "833", "844", "855", "866", "877", "888")),
    Range("GB", GEO, "20", "207", 7, first=1_000_000),
    Range("GB", GEO, "161", "161", 7, first=2_000_000),
    Range("GB", GEO, "121", "121", 7, first=2_000_000),
    Range("GB", TF, "800", "800", 7, first=1_000_000),
    Range("GB", TF, "808", "808", 7, first=1_000_000),
    Range("FR", TF, "800", "800", 6, first=100_000),
    Range("FR", TF, "805", "805", 6, first=100_000),
    Range("IE", GEO, "1", "1", 7, first=4_000_000),
    Range("IE", GEO, "21", "21", 7, first=4_000_000),
    Range("IE", TF, "1800", "1800", 6, first=200_000),
    # Mobile ranges (2025-06-01's `mobile` type): the operators' blocks. Their locality is the one
    # the real service lists them under (numbering/plan.py's MOBILE_LOCALITIES: Ireland's, Dublin).
    *(Range("IE", MOBILE, ac, ac, 7, first=3_000_000) for ac in ("83", "85", "86", "87", "89")),
    *(Range("GB", MOBILE, ac, ac, 6, first=100_000) for ac in ("7400", "7500", "7700")),
)


def _subscribers(spec: Range) -> Iterator[int]:
    if not spec.per_exchange:
        yield from range(spec.first, 10**spec.subscriber_digits)
        return
    for exchange in _EXCHANGES:
        yield from range(exchange * _LINES + spec.first, exchange * _LINES + spec.first + spec.per_exchange)


def draw(spec: Range, count: int) -> list[Block]:
    """`count` valid numbers from `spec`, grouped by locality."""
    code = phonenumbers.country_code_for_region(spec.country)
    wanted = _EXPECTED_TYPES[spec.number_type]
    blocks: dict[tuple[str | None, str | None, str | None], list[str]] = {}
    found = 0
    skip_exchange = -1
    for subscriber in _subscribers(spec):
        if found >= count:
            break
        if subscriber // _LINES == skip_exchange:
            continue
        number = phonenumbers.parse(f"+{code}{spec.prefix}{subscriber:0{spec.subscriber_digits}d}")
        if not phonenumbers.is_valid_number(number) or phonenumbers.number_type(number) not in wanted:
            continue
        if phonenumbers.region_code_for_number(number) not in (spec.country, "US"):  # +44 7781: Guernsey
            continue
        place: tuple[str | None, str | None, str | None] | None = (None, None, None)
        if spec.number_type is NumberType.MOBILE:
            place = place_of(spec.country, number, PhoneNumberType.MOBILE) or (None, None, None)
        elif spec.number_type is not NumberType.TOLL_FREE:
            place = locality_of(spec.country, number)
            if place is None:
                skip_exchange = subscriber // _LINES if spec.per_exchange else -1
                continue
        blocks.setdefault(place, []).append(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
        found += 1
    return [
        Block(spec.country, spec.number_type, spec.area_code, loc, abbr, name, tuple(numbers))
        for (loc, abbr, name), numbers in blocks.items()
    ]


def demo_blocks(per_area_code: int) -> Iterator[Block]:
    """The whole demo inventory, `per_area_code` numbers in each area code."""
    for spec in RANGES:
        yield from draw(spec, per_area_code)
