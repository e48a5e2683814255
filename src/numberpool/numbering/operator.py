"""What the numbering plan says about any phone number: formats, country, type and operator."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType, carrier


_E164 = re.compile(r"\+[0-9]{2,15}")

ServiceType = Literal["unknown", "other", "geographic", "mobile"]


def service_type(kind: int, operator: str | None) -> ServiceType:
    """The ACS operator-information number type for a `phonenumbers` number type."""
    if kind == PhoneNumberType.MOBILE:
        return "mobile"
    if kind == PhoneNumberType.FIXED_LINE:
        return "geographic"
    if kind == PhoneNumberType.FIXED_LINE_OR_MOBILE:  # all of North America: an operator on record means mobile
        return "mobile" if operator else "geographic"
    if kind == PhoneNumberType.UNKNOWN:
        return "unknown"
    return "other"  # toll-free, premium rate, shared cost, VoIP, personal, pager, UAN, voicemail


@dataclass(frozen=True)
class NumberFacts:
    e164: str
    national_format: str
    international_format: str
    region: str
    """ISO 3166-1 alpha-2 code of the region the number belongs to."""
    number_type: ServiceType
    operator: str | None
    """The operator (carrier) that the number range was allocated to, where the plan records it."""


def facts(text: str) -> NumberFacts | None:
    """The facts about a valid E.164 number, or None if `text` is not one."""
    if not _E164.fullmatch(text):  # phonenumbers would also read "+1 (425) 555-0123 ext. 4"
        return None
    try:
        number = phonenumbers.parse(text)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    operator = carrier.name_for_number(number, "en") or None
    return NumberFacts(
        e164=phonenumbers.format_number(number, PhoneNumberFormat.E164),
        national_format=phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL),
        international_format=phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL),
        region=phonenumbers.region_code_for_number(number) or "",
        number_type=service_type(phonenumbers.number_type(number), operator),
        operator=operator,
    )
