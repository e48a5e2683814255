"""What the numbering plan says about one number: validity, country, ACS type, area code, locality.

Everything here comes from `phonenumbers` (metadata and geocoder). `describe` works on one
number; `PlanCache` answers for a whole file quickly by describing one number per block of
1,000 (the numbers that share all but the last three digits): numbering plans allocate, and
the geocoder names, such blocks as one unit (tests/test_numbering_plan.py checks that the
block's answer is each number's own answer on the demo inventory and on samples of many
countries).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import phonenumbers
from phonenumbers import PhoneNumberType, geocoder

from numberpool.core.model import NumberType
from numberpool.numbering.divisions import DIVISIONS, division_name

_ACS_TYPES: dict[int, frozenset[NumberType]] = {
    PhoneNumberType.FIXED_LINE: frozenset({NumberType.GEOGRAPHIC}),
    PhoneNumberType.FIXED_LINE_OR_MOBILE: frozenset({NumberType.GEOGRAPHIC, NumberType.MOBILE}),
    PhoneNumberType.MOBILE: frozenset({NumberType.MOBILE}),
    PhoneNumberType.TOLL_FREE: frozenset({NumberType.TOLL_FREE}),
}
_PLAN_TYPE_NAMES = {value: name.lower() for name, value in vars(PhoneNumberType).items() if name.isupper()}


@dataclass(frozen=True, slots=True)
class Described:
    """A valid number as the plan sees it."""

    country: str
    types: frozenset[NumberType]
    """The ACS types the plan allows (empty: the plan's type is one ACS does not sell, e.g. VoIP)."""
    plan_type: str
    area_code: str | None
    locality: str | None
    division_abbr: str | None
    division_name: str | None
    signature: tuple[tuple[re.Pattern[str], bool], ...] = ()
    """The plan's patterns for this region and type, and whether the number matched each: another
    number of its block with the same signature has the same validity and type."""
    national_from: int = 0
    """Where the national significant number starts in the E.164 text."""

    def fits(self, e164: str) -> bool:
        national = e164[self.national_from :]
        return all((pattern.fullmatch(national) is not None) is matched for pattern, matched in self.signature)

    @property
    def default_type(self) -> NumberType | None:
        """The type a number gets when the file gives none (geographic where the plan cannot tell it from mobile)."""
        if len(self.types) == 1:
            return next(iter(self.types))
        return NumberType.GEOGRAPHIC if NumberType.GEOGRAPHIC in self.types else None


_COUNTRY_NAMES: dict[str, str] = {}


def locality_of(country: str, number: phonenumbers.PhoneNumber) -> tuple[str, str | None, str | None] | None:
    """(locality, division abbreviation, division name) from the geocoder, or None if it knows no town."""
    description = geocoder.description_for_number(number, "en")
    if not description:
        return None
    name = _COUNTRY_NAMES.get(country)
    if name is None:  # the same for every number of the country: asked once
        name = _COUNTRY_NAMES[country] = geocoder.country_name_for_number(number, "en")
    if description == name:
        return None
    if ", " in description:
        city, abbr = description.rsplit(", ", 1)
        return city, abbr, division_name(country, abbr)
    if country in DIVISIONS:  # "Washington State": a division, not a town
        return None
    return description, None, None


MOBILE_LOCALITIES: dict[str, str] = {"IE": "Dublin"}
"""Where the real service lists a country's mobile numbers, which the geocoder places nowhere:
Ireland's under Dublin, with no administrative division (recorded by the Python SDK's
test_list_mobile_area_codes, 2025-06-01). Great Britain's are not recorded."""


def place_of(country: str, number: phonenumbers.PhoneNumber, kind: int) -> tuple[str, str | None, str | None] | None:
    """(locality, division abbreviation, division name) of a number of plan type `kind`, or None."""
    if kind == PhoneNumberType.TOLL_FREE:
        return None
    place = locality_of(country, number)
    if place is None and kind == PhoneNumberType.MOBILE and country in MOBILE_LOCALITIES:
        return MOBILE_LOCALITIES[country], None, None
    return place


def describe(e164: str) -> Described | str:
    """What the plan says about `e164`, or why it is not a valid number."""
    try:
        number = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException as exc:
        return f"not a phone number ({exc._msg})"
    country = phonenumbers.region_code_for_number(number)
    if country is None or not phonenumbers.is_valid_number_for_region(number, country):
        return "not a valid number in its country's numbering plan"
    kind = phonenumbers.number_type(number)
    national = phonenumbers.national_significant_number(number)
    ndc = phonenumbers.length_of_national_destination_code(number)
    place = place_of(country, number, kind)
    patterns = _patterns(country, kind)
    return Described(
        country=country,
        types=_ACS_TYPES.get(kind, frozenset()),
        plan_type=_PLAN_TYPE_NAMES.get(kind, str(kind)),
        area_code=national[:ndc] if ndc else None,
        locality=place[0] if place else None,
        division_abbr=place[1] if place else None,
        division_name=place[2] if place else None,
        signature=tuple((p, p.fullmatch(national) is not None) for p in patterns),
        national_from=len(e164) - len(national),
    )


_DESCS = {
    PhoneNumberType.FIXED_LINE: ("fixed_line", "mobile"),
    PhoneNumberType.FIXED_LINE_OR_MOBILE: ("fixed_line", "mobile"),
    PhoneNumberType.MOBILE: ("fixed_line", "mobile"),
    PhoneNumberType.TOLL_FREE: ("toll_free",),
    PhoneNumberType.PREMIUM_RATE: ("premium_rate",),
    PhoneNumberType.SHARED_COST: ("shared_cost",),
    PhoneNumberType.VOIP: ("voip",),
    PhoneNumberType.PERSONAL_NUMBER: ("personal_number",),
    PhoneNumberType.PAGER: ("pager",),
    PhoneNumberType.UAN: ("uan",),
    PhoneNumberType.VOICEMAIL: ("voicemail",),
}


@functools.cache
def _patterns(region: str, kind: int) -> tuple[re.Pattern[str], ...]:
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    found = []
    for name in _DESCS.get(kind, ()):
        desc = getattr(metadata, name, None) if metadata is not None else None
        if desc is not None and desc.national_number_pattern:
            found.append(re.compile(desc.national_number_pattern))
    return tuple(found)


BLOCK_DIGITS = 3


class PlanCache:
    """`describe` for many numbers: in full once per block of 1,000 and for the numbers of a block
    that do not fit its first number's pattern signature; otherwise one regular expression or two."""

    def __init__(self) -> None:
        self._blocks: dict[str, Described | str] = {}
        self._hundreds: dict[str, Described | str] = {}

    def describe(self, e164: str) -> Described | str:
        hundred = e164[:-2]
        found = self._hundreds.get(hundred)
        if found is not None:
            return found
        block = e164[:-BLOCK_DIGITS]
        found = self._blocks.get(block)
        if found is None:
            found = self._blocks[block] = describe(e164)
        elif found.__class__ is str or not found.fits(e164):  # type: ignore[union-attr]
            found = describe(e164)
        self._hundreds[hundred] = found
        return found
