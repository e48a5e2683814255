"""Operator information: format, country, type and operator of any valid phone number.

Answered from the numbering plan (`numbering.operator`), not from the inventory: like
ACS, it works for numbers this service never sold. ACS takes one number per request
(recorded: 400 BadRequest "Can only accept one phoneNumber").

Where the spec is silent: the formats are `phonenumbers`' NATIONAL and INTERNATIONAL ones;
a number the plan cannot place as fixed or mobile is `other` (toll-free, premium rate, ...);
North American numbers, which the plan calls "fixed line or mobile", are `mobile` when an
operator is on record and `geographic` otherwise; the operator is the one the number's
range was allocated to (ported numbers are not known), and operatorDetails is left out
when the plan records none. Mobile country and network codes are never given.
"""

from __future__ import annotations

from dataclasses import dataclass

from numberpool.core import errors
from numberpool.core.errors import bad_request
from numberpool.numbering.operator import ServiceType, facts

TOO_MANY_MESSAGE = errors.TOO_MANY_OPERATOR_NUMBERS_MESSAGE


@dataclass(frozen=True)
class OperatorInformation:
    phone_number: str
    national_format: str
    international_format: str
    iso_country_code: str
    number_type: ServiceType
    operator_name: str | None


def search(phone_numbers: list[str]) -> list[OperatorInformation]:
    """Information about the one number in `phone_numbers`."""
    if not phone_numbers:
        raise bad_request("'phoneNumbers' must contain one phone number.", target="phoneNumbers")
    if len(phone_numbers) > 1:
        raise errors.too_many_operator_numbers()
    raw = phone_numbers[0]
    found = facts(raw)
    if found is None:
        raise bad_request(
            f"Invalid phone number '{raw}': expected a valid number in E.164 format, e.g. +14255550123.",
            target="phoneNumbers",
        )
    return [
        OperatorInformation(
            phone_number=found.e164,
            national_format=found.national_format,
            international_format=found.international_format,
            iso_country_code=found.region,
            number_type=found.number_type,
            operator_name=found.operator,
        )
    ]
