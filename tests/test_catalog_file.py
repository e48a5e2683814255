"""Catalog files: what they declare, the one-line errors a bad one gets, and the round trip."""

from __future__ import annotations

from pathlib import Path

import pytest

from numberpool.core.catalog_file import CatalogFileError, demo_catalog, dump_catalog, parse_catalog, read_catalog
from numberpool.core.model import AssignmentType, Capabilities, Cost, Country, Direction, NumberType, Offering

NL = """\
[[countries]]
countryCode = "NL"
doNotResell = true

[[offerings]]
countryCode = "NL"
phoneNumberType = "geographic"
assignmentType = "application"
availableCapabilities = { calling = "inbound+outbound", sms = "none" }
cost = { amount = 1.25, currencyCode = "EUR", billingFrequency = "monthly" }
"""


def test_a_catalog_declares_countries_and_offerings_with_the_wire_names() -> None:
    catalog = parse_catalog(NL, "nl.toml")
    # localizedName absent: the numbering plan data names the country.
    assert catalog.countries == (Country("NL", "Netherlands", do_not_resell=True),)
    assert catalog.offerings == (
        Offering("NL", NumberType.GEOGRAPHIC, AssignmentType.APPLICATION,
                 Capabilities(Direction.BOTH, Direction.NONE), Cost(1.25, "EUR", "monthly")),
    )


def test_the_demo_catalog_ships_in_the_package() -> None:
    catalog = demo_catalog()
    assert [c.code for c in catalog.countries] == ["CA", "FR", "GB", "IE", "US"]
    assert [c.code for c in catalog.countries if c.do_not_resell] == ["FR"]
    assert len(catalog.offerings) == 17
    assert {(o.country, o.number_type.value, o.cost.amount) for o in catalog.offerings} >= {
        ("US", "tollFree", 2.0), ("GB", "tollFree", 18.0), ("IE", "mobile", 3.0)}


@pytest.mark.parametrize("catalog", [demo_catalog(), parse_catalog(NL, "nl.toml")])
def test_dump_then_read_gives_the_same_catalog(catalog) -> None:
    assert parse_catalog(dump_catalog(catalog), "dumped") == catalog


def test_names_with_quotes_survive_the_round_trip() -> None:
    text = NL.replace('doNotResell = true', 'localizedName = "The \\"Low\\" Countries \\u00e9"')
    catalog = parse_catalog(text, "x")
    assert catalog.countries[0].name == 'The "Low" Countries é'
    assert parse_catalog(dump_catalog(catalog), "y") == catalog


BAD = [
    ('countryCode = "NL"\n[[countries]\n', "bad.toml:2: not valid TOML"),
    (NL.replace('phoneNumberType = "geographic"', 'phoneNumberType = "fixed"'),
     "bad.toml:5: [[offerings]] #1: phoneNumberType: 'fixed' is not one of geographic, tollFree, mobile"),
    (NL.replace('countryCode = "NL"\ndoNotResell', 'countryCode = "XX"\ndoNotResell'),
     "bad.toml:1: [[countries]] #1: countryCode: 'XX' is not an ISO 3166 country code"),
    (NL.replace('doNotResell = true', 'doNotResell = "yes"'),
     "bad.toml:1: [[countries]] #1: doNotResell: must be true or false"),
    (NL.replace('amount = 1.25', 'amount = -1'), "bad.toml:5: [[offerings]] #1: cost.amount: must be a number of at least 0"),
    (NL.replace('currencyCode = "EUR"', 'currencyCode = "euro"'), "bad.toml:5: [[offerings]] #1: cost.currencyCode"),
    (NL.replace('billingFrequency = "monthly"', 'billingFrequency = "yearly"'),
     "bad.toml:5: [[offerings]] #1: cost.billingFrequency: 'yearly' is not one of monthly"),
    (NL.replace('sms = "none"', 'sms = "sometimes"'), "bad.toml:5: [[offerings]] #1: availableCapabilities.sms"),
    (NL.replace('calling = "inbound+outbound"', 'calling = "none"'),
     "bad.toml:5: [[offerings]] #1: availableCapabilities: an offering must allow calling or sms"),
    (NL.replace('assignmentType = "application"\n', ''), "bad.toml:5: [[offerings]] #1: assignmentType: missing"),
    (NL.replace('[[offerings]]\ncountryCode = "NL"', '[[offerings]]\ncountryCode = "BE"'),
     "bad.toml:5: [[offerings]] #1: countryCode: 'BE' is not declared in [[countries]]"),
    (NL.replace('doNotResell = true', 'doNotResel = true'), "bad.toml:1: [[countries]] #1: doNotResel: unknown field"),
    (NL + NL.split("\n\n", 1)[1], "bad.toml:11: [[offerings]] #2: NL geographic application"),
    ("prices = 3\n" + NL, "bad.toml: prices: unknown key"),
]


@pytest.mark.parametrize(("text", "expected"), BAD, ids=[e for _, e in BAD])
def test_a_bad_catalog_gets_one_line_naming_file_line_and_field(text: str, expected: str) -> None:
    with pytest.raises(CatalogFileError) as error:
        parse_catalog(text, "bad.toml")
    message = str(error.value)
    assert message.startswith(expected), message
    assert "\n" not in message


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(CatalogFileError, match=r"missing.toml: no such file"):
        read_catalog(tmp_path / "missing.toml")
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(CatalogFileError, match=r"binary.toml: not UTF-8 text"):
        read_catalog(binary)
