"""What the numbering plan says about a number (numbering/plan.py), and the per-block cache the
import relies on: it must answer for every number exactly what `describe` answers for it alone."""

from __future__ import annotations

import phonenumbers
import pytest
from phonenumbers import PhoneNumberType

from numberpool.core.model import NumberType
from numberpool.numbering.demo import demo_blocks
from numberpool.numbering.plan import Described, PlanCache, describe


def test_describe_derives_what_the_demo_inventory_was_built_with() -> None:
    for block in demo_blocks(30):
        for number in block.numbers:
            plan = describe(number)
            assert isinstance(plan, Described), number
            assert block.number_type in plan.types
            assert plan.area_code == block.area_code
            assert (plan.locality, plan.division_abbr, plan.division_name) == (
                block.locality, block.division_abbr, block.division_name)
            # North American toll-free numbers belong to the whole plan: the library says US.
            assert plan.country == block.country or (plan.country == "US" and block.number_type is NumberType.TOLL_FREE)


@pytest.mark.parametrize(("number", "expected"), [
    ("+31201234567", ("NL", {NumberType.GEOGRAPHIC}, "20", "Amsterdam")),
    ("+447400123456", ("GB", {NumberType.MOBILE}, "7400", None)),
    ("+18002000000", ("US", {NumberType.TOLL_FREE}, "800", None)),
    ("+353833000000", ("IE", {NumberType.MOBILE}, "83", "Dublin")),  # where the real service lists them
    ("+14255550123", ("US", {NumberType.GEOGRAPHIC, NumberType.MOBILE}, "425", None)),  # "Washington State"
])
def test_describe(number: str, expected: tuple) -> None:
    plan = describe(number)
    assert isinstance(plan, Described)
    assert (plan.country, set(plan.types), plan.area_code, plan.locality) == expected


def test_describe_says_why_a_number_is_refused() -> None:
    assert describe("+3120123456") == "not a valid number in its country's numbering plan"
    assert describe("+999123").startswith("not ")


def _samples() -> list[str]:
    """Every 29th number of a block of 1,000 around an example number of each region and type."""
    numbers = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in (PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE, PhoneNumberType.TOLL_FREE):
            example = phonenumbers.example_number_for_type(region, kind)
            if example is not None:
                e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
                numbers += [f"{e164[:-3]}{i:03d}" for i in range(0, 1000, 29)]
    return numbers


def test_the_block_cache_answers_each_number_as_describe_does() -> None:
    """Blocks where the plan changes inside (Liechtenstein's toll-free 800 2x, say) must not leak."""
    cache = PlanCache()
    samples = _samples()
    assert len(samples) > 10_000
    wrong = [n for n in samples if repr(cache.describe(n)) != repr(describe(n))]
    assert wrong == []
