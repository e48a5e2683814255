"""The demo inventory is real: valid numbers, right types, geocoder localities."""

from __future__ import annotations

from collections import Counter

import phonenumbers
import pytest
from phonenumbers import PhoneNumberType, geocoder

from numberpool.core.catalog_file import demo_catalog
from numberpool.core.model import NumberType
from numberpool.numbering.demo import demo_blocks
from numberpool.numbering.plan import MOBILE_LOCALITIES

COUNTRIES, OFFERINGS = demo_catalog().countries, demo_catalog().offerings
from numberpool.numbering.e164 import normalize

EXPECTED = {
    NumberType.GEOGRAPHIC: {PhoneNumberType.FIXED_LINE, PhoneNumberType.FIXED_LINE_OR_MOBILE},
    NumberType.TOLL_FREE: {PhoneNumberType.TOLL_FREE},
    NumberType.MOBILE: {PhoneNumberType.MOBILE},
}


@pytest.fixture(scope="module")
def blocks():
    return list(demo_blocks(1000))


def test_every_demo_number_is_valid_and_of_its_type(blocks):
    checked = 0
    for block in blocks:
        for e164 in block.numbers:
            number = phonenumbers.parse(e164)
            assert phonenumbers.is_valid_number(number), e164
            assert phonenumbers.number_type(number) in EXPECTED[block.number_type], e164
            assert phonenumbers.region_code_for_number(number) in (block.country, "US")  # +1 toll-free is "US"
            checked += 1
    assert checked >= 39_000


def test_no_number_appears_twice(blocks):
    counts = Counter(n for b in blocks for n in b.numbers)
    assert [n for n, c in counts.items() if c > 1] == []


def test_localities_are_what_the_geocoder_says(blocks):
    for block in blocks:
        if block.number_type is NumberType.TOLL_FREE:
            assert block.locality is None
            continue
        if block.number_type is NumberType.MOBILE and block.locality == MOBILE_LOCALITIES.get(block.country):
            # the geocoder names only the country; the block is where the real service lists it (or nowhere)
            for e164 in block.numbers[:5]:
                number = phonenumbers.parse(e164)
                assert geocoder.description_for_number(number, "en") == geocoder.country_name_for_number(number, "en")
            continue
        for e164 in block.numbers[:5]:
            description = geocoder.description_for_number(phonenumbers.parse(e164), "en")
            expected = f"{block.locality}, {block.division_abbr}" if block.division_abbr else block.locality
            assert description == expected


def test_the_well_known_places_are_there(blocks):
    places = {(b.country, b.area_code, b.locality, b.division_abbr) for b in blocks}
    for place in [("US", "425", "Redmond", "WA"), ("US", "206", "Seattle", "WA"), ("US", "212", "New York", "NY"),
                  ("US", "415", "San Francisco", "CA"), ("GB", "20", "London", None), ("IE", "83", "Dublin", None)]:
        assert place in places
    toll_free = {b.area_code for b in blocks if b.country == "US" and b.number_type is NumberType.TOLL_FREE}
    assert toll_free == {"800", "833", "844", "855", "866", "877", "888"}


def test_at_least_a_thousand_numbers_per_offering(blocks):
    stock = Counter()
    for block in blocks:
        stock[(block.country, block.number_type)] += len(block.numbers)
    for offering in OFFERINGS:
        assert stock[(offering.country, offering.number_type)] >= 1000, offering


def test_mobile_ranges_are_the_operators_blocks(blocks):
    mobile = {(b.country, b.area_code) for b in blocks if b.number_type is NumberType.MOBILE}
    assert mobile == {("IE", "83"), ("IE", "85"), ("IE", "86"), ("IE", "87"), ("IE", "89"),
                      ("GB", "7400"), ("GB", "7500"), ("GB", "7700")}
    for block in blocks:
        if block.number_type is NumberType.MOBILE:
            assert block.numbers[0].startswith(f"+{phonenumbers.country_code_for_region(block.country)}{block.area_code}")
            assert all(phonenumbers.region_code_for_number(phonenumbers.parse(n)) == block.country for n in block.numbers)
    sold = {(o.country, o.number_type) for o in OFFERINGS if o.number_type is NumberType.MOBILE}
    assert sold == {("IE", NumberType.MOBILE), ("GB", NumberType.MOBILE)}


def test_demo_countries_each_have_offerings_and_france_needs_the_agreement():
    sold = {o.country for o in OFFERINGS}
    assert {c.code for c in COUNTRIES} == sold
    assert [c.code for c in COUNTRIES if c.do_not_resell] == ["FR"]


def test_the_same_size_always_draws_the_same_numbers():
    assert [b.numbers for b in demo_blocks(30)] == [b.numbers for b in demo_blocks(30)]


@pytest.mark.parametrize(
    "raw, expected",
    [("+14255550100", "+14255550100"), ("14255550100", "+14255550100"), (" 14255550100", "+14255550100"),
     ("invalid_phone_number", None), ("+1425555010012345678", None), ("+", None), ("+١٢٣٤", None),
     ("+1425\x00", None)],
)
def test_normalize_path_numbers(raw, expected):
    assert normalize(raw) == expected
