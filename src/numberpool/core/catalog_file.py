"""Catalog files: countries and offerings in TOML, with the field names and values of the ACS wire.

    [[countries]]
    countryCode = "NL"
    localizedName = "Netherlands"   # optional: the numbering plan's name for the country
    doNotResell = false             # optional
    agingDays = 0                   # optional: its offerings' default rest after a release

    [[offerings]]
    countryCode = "NL"
    phoneNumberType = "geographic"  # geographic | tollFree | mobile
    assignmentType = "application"  # application | person
    availableCapabilities = { calling = "inbound+outbound", sms = "none" }
    cost = { amount = 1.25, currencyCode = "EUR", billingFrequency = "monthly" }
    agingDays = 90                  # optional: days a released number rests before it is sold again

`read_catalog` checks a file whole and raises `CatalogFileError` with a one-line message that
names the file, the line and the field; `dump_catalog` writes the same format back.
"""

from __future__ import annotations

import json
import math
import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import phonenumbers
from phonenumbers import geocoder

from numberpool.core.model import AssignmentType, Capabilities, Cost, Country, Direction, NumberType, Offering
from numberpool.numbering.e164 import is_region

DEMO_CATALOG = "demo.toml"
_CURRENCY = re.compile(r"[A-Z]{3}")
_BILLING_FREQUENCIES = ("monthly",)  # the only value the ACS wire knows


class CatalogFileError(ValueError):
    """A catalog file that cannot be used; the message names the file, line and field."""


@dataclass(frozen=True)
class Catalog:
    countries: tuple[Country, ...]
    offerings: tuple[Offering, ...]


def offering_key(offering: Offering) -> tuple[str, str, str, str, str]:
    """What identifies an offering: country, type, assignment and capabilities (its price can change)."""
    caps = offering.capabilities
    return offering.country, offering.number_type.value, offering.assignment.value, caps.calling.value, caps.sms.value


def describe_offering(offering: Offering) -> str:
    caps = offering.capabilities
    return (
        f"{offering.country} {offering.number_type.value} {offering.assignment.value}"
        f" (calling {caps.calling.value}, sms {caps.sms.value})"
    )


def country_name(code: str) -> str:
    """The English name of a country, from the numbering plan data of `phonenumbers`."""
    example = phonenumbers.example_number(code)
    name = geocoder.country_name_for_number(example, "en") if example is not None else ""
    return name or code


def read_catalog(path: Path) -> Catalog:
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise CatalogFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise CatalogFileError(f"{path}: is a directory, not a catalog file") from None
    except UnicodeDecodeError as exc:
        raise CatalogFileError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise CatalogFileError(f"{path}: cannot be read ({exc.strerror})") from None
    return parse_catalog(text, str(path))


def demo_catalog() -> Catalog:
    """The demo catalog that ships in the package."""
    text = resources.files("numberpool.catalogs").joinpath(DEMO_CATALOG).read_text(encoding="utf-8")
    return parse_catalog(text, DEMO_CATALOG)


def parse_catalog(text: str, source: str) -> Catalog:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message ends "(at line L, column C)"; say it the way compilers do.
        message = str(exc)
        found = re.search(r"\(at line (\d+), column (\d+)\)$", message)
        if found:
            message = message[: found.start()].strip()
            raise CatalogFileError(f"{source}:{found[1]}: not valid TOML: {message} (column {found[2]})") from None
        raise CatalogFileError(f"{source}: not valid TOML: {message}") from None
    return _Reader(text, source).catalog(data)


class _Reader:
    def __init__(self, text: str, source: str) -> None:
        self._source = source
        self._aging_defaults: dict[str, int] = {}  # a country's agingDays, for its offerings that name none
        # Where each [[countries]] / [[offerings]] table starts, so errors can name the line.
        self._lines: dict[str, list[int]] = {"countries": [], "offerings": []}
        for number, line in enumerate(text.splitlines(), start=1):
            found = re.match(r"\s*\[\[\s*(countries|offerings)\s*\]\]", line)
            if found:
                self._lines[found[1]].append(number)

    def _error(self, table: str | None, index: int | None, field: str | None, problem: str) -> CatalogFileError:
        where = self._source
        if table is not None and index is not None:
            lines = self._lines.get(table, [])
            if index < len(lines):
                where += f":{lines[index]}"
            where += f": [[{table}]] #{index + 1}"
        if field:
            where += f": {field}"
        return CatalogFileError(f"{where}: {problem}")

    def catalog(self, data: dict[str, Any]) -> Catalog:
        unknown = sorted(set(data) - {"countries", "offerings"})
        if unknown:
            raise self._error(None, None, unknown[0], "unknown key; a catalog has [[countries]] and [[offerings]]")
        countries = self._tables(data, "countries")
        offerings = self._tables(data, "offerings")
        read_countries: dict[str, Country] = {}
        for index, table in enumerate(countries):
            country = self._country(index, table)
            if country.code in read_countries:
                raise self._error("countries", index, "countryCode", f"{country.code} is declared twice")
            read_countries[country.code] = country
        read_offerings: dict[tuple[str, ...], Offering] = {}
        for index, table in enumerate(offerings):
            offering = self._offering(index, table, read_countries)
            if offering_key(offering) in read_offerings:
                raise self._error("offerings", index, None, f"{describe_offering(offering)} is declared twice")
            read_offerings[offering_key(offering)] = offering
        return Catalog(tuple(read_countries.values()), tuple(read_offerings.values()))

    def _tables(self, data: dict[str, Any], name: str) -> list[dict[str, Any]]:
        tables = data.get(name, [])
        if not isinstance(tables, list):
            raise self._error(None, None, name, f"must be an array of tables ([[{name}]])")
        for index, table in enumerate(tables):
            if not isinstance(table, dict):
                raise self._error(name, index, None, "must be a table")
        return tables

    def _fields(self, table_name: str, index: int, table: dict[str, Any], allowed: tuple[str, ...]) -> None:
        for key in table:
            if key not in allowed:
                raise self._error(table_name, index, key, f"unknown field; expected one of {', '.join(allowed)}")

    def _text(self, table_name: str, index: int, table: dict[str, Any], field: str, *, required: bool = True) -> str | None:
        value = table.get(field)
        if value is None:
            if required:
                raise self._error(table_name, index, field, "missing")
            return None
        if not isinstance(value, str) or not value.strip():
            raise self._error(table_name, index, field, f"must be a non-empty string, not {value!r}")
        return value

    def _choice(self, table_name: str, index: int, field: str, value: Any, kind: type) -> Any:
        allowed = [member.value for member in kind]
        if value not in allowed:
            raise self._error(table_name, index, field, f"{value!r} is not one of {', '.join(allowed)}")
        return kind(value)

    def _country(self, index: int, table: dict[str, Any]) -> Country:
        self._fields("countries", index, table, ("countryCode", "localizedName", "doNotResell", "agingDays"))
        code = self._text("countries", index, table, "countryCode")
        assert code is not None
        if len(code) != 2 or not code.isupper() or not is_region(code):
            raise self._error("countries", index, "countryCode", f"{code!r} is not an ISO 3166 country code with a numbering plan")
        name = self._text("countries", index, table, "localizedName", required=False) or country_name(code)
        do_not_resell = table.get("doNotResell", False)
        if not isinstance(do_not_resell, bool):
            raise self._error("countries", index, "doNotResell", f"must be true or false, not {do_not_resell!r}")
        self._aging_defaults[code] = self._aging_days("countries", index, table, 0)
        return Country(code, name, do_not_resell)

    def _aging_days(self, kind: str, index: int, table: dict[str, Any], default: int) -> int:
        """`agingDays`: how long a released number rests before it is for sale again (0: not at all)."""
        days = table.get("agingDays", default)
        if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= 3650:
            raise self._error(kind, index, "agingDays", f"must be a whole number of days from 0 to 3650, not {days!r}")
        return days

    def _offering(self, index: int, table: dict[str, Any], countries: dict[str, Country]) -> Offering:
        t = "offerings"
        self._fields(t, index, table, ("countryCode", "phoneNumberType", "assignmentType", "availableCapabilities", "cost",
                                       "agingDays"))
        code = self._text(t, index, table, "countryCode")
        if code not in countries:
            raise self._error(t, index, "countryCode", f"{code!r} is not declared in [[countries]]")
        for field in ("phoneNumberType", "assignmentType", "availableCapabilities", "cost"):
            if field not in table:
                raise self._error(t, index, field, "missing")
        number_type = self._choice(t, index, "phoneNumberType", table["phoneNumberType"], NumberType)
        assignment = self._choice(t, index, "assignmentType", table["assignmentType"], AssignmentType)
        caps = table["availableCapabilities"]
        if not isinstance(caps, dict):
            raise self._error(t, index, "availableCapabilities", "must be a table { calling = ..., sms = ... }")
        for key in caps:
            if key not in ("calling", "sms"):
                raise self._error(t, index, f"availableCapabilities.{key}", "unknown field; expected calling, sms")
        for key in ("calling", "sms"):
            if key not in caps:
                raise self._error(t, index, f"availableCapabilities.{key}", "missing")
        calling = self._choice(t, index, "availableCapabilities.calling", caps["calling"], Direction)
        sms = self._choice(t, index, "availableCapabilities.sms", caps["sms"], Direction)
        if calling is Direction.NONE and sms is Direction.NONE:
            raise self._error(t, index, "availableCapabilities", "an offering must allow calling or sms")
        aging_days = self._aging_days(t, index, table, self._aging_defaults.get(code, 0))
        return Offering(code, number_type, assignment, Capabilities(calling, sms), self._cost(index, table["cost"]), aging_days)

    def _cost(self, index: int, cost: Any) -> Cost:
        t = "offerings"
        if not isinstance(cost, dict):
            raise self._error(t, index, "cost", "must be a table { amount = ..., currencyCode = ..., billingFrequency = ... }")
        for key in cost:
            if key not in ("amount", "currencyCode", "billingFrequency"):
                raise self._error(t, index, f"cost.{key}", "unknown field; expected amount, currencyCode, billingFrequency")
        amount = cost.get("amount")
        if isinstance(amount, bool) or not isinstance(amount, (int, float)) or not math.isfinite(amount) or amount < 0:
            raise self._error(t, index, "cost.amount", f"must be a number of at least 0, not {amount!r}")
        currency = cost.get("currencyCode")
        if not isinstance(currency, str) or not _CURRENCY.fullmatch(currency):
            raise self._error(t, index, "cost.currencyCode", f"must be a three-letter ISO 4217 code such as USD, not {currency!r}")
        frequency = cost.get("billingFrequency", "monthly")
        if frequency not in _BILLING_FREQUENCIES:
            raise self._error(t, index, "cost.billingFrequency", f"{frequency!r} is not one of {', '.join(_BILLING_FREQUENCIES)}")
        return Cost(float(amount), currency, frequency)


def _string(value: str) -> str:
    # A JSON string is a valid TOML basic string (same escapes; json.dumps never writes \/).
    return json.dumps(value, ensure_ascii=False)


def dump_catalog(catalog: Catalog) -> str:
    """The catalog as a file `read_catalog` reads back to the same countries and offerings."""
    out: list[str] = []
    for country in catalog.countries:
        out += ["[[countries]]", f"countryCode = {_string(country.code)}", f"localizedName = {_string(country.name)}"]
        if country.do_not_resell:
            out.append("doNotResell = true")
        out.append("")
    for o in catalog.offerings:
        caps = o.capabilities
        out += [
            "[[offerings]]",
            f"countryCode = {_string(o.country)}",
            f"phoneNumberType = {_string(o.number_type.value)}",
            f"assignmentType = {_string(o.assignment.value)}",
            f"availableCapabilities = {{ calling = {_string(caps.calling.value)}, sms = {_string(caps.sms.value)} }}",
            f"cost = {{ amount = {float(o.cost.amount)!r}, currencyCode = {_string(o.cost.currency)},"
            f" billingFrequency = {_string(o.cost.billing_frequency)} }}",
            *([f"agingDays = {o.aging_days}"] if o.aging_days else []),
            "",
        ]
    return "\n".join(out)
