"""The JSON shapes of ACS Phone Numbers, per api-version."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from numberpool.api.versions import ApiVersion
from numberpool.core.catalog import Town
from numberpool.core.model import (
    AvailableNumber,
    Capabilities,
    Cost,
    Country,
    Offering,
    Operation,
    OperationStatus,
    PhoneNumber,
    Reservation,
    ReservationStatus,
    Search,
)
from numberpool.core.operator_information import OperatorInformation
from numberpool.core.reservations import FailedNumber

# Numeric codes the service reports beside a search error name.
_SEARCH_ERROR_CODES = {"OutOfStock": 1000, "ReservationExpired": 1002}

# Operator Connect previews describe who provided a purchased number. Every number sold here
# comes from this service's own inventory (the "cloud" source in ACS terms).
OPERATOR_ID = "numberpool"
OPERATOR_NAME = "numberpool"

# What the service reports as an operation's lastActionDateTime, in every recording from
# 2024-01 to 2025-06 and at every status: .NET's DateTimeOffset.MinValue.
NEVER = "0001-01-01T00:00:00+00:00"


def timestamp(moment: datetime) -> str:
    return moment.isoformat()


def capabilities(caps: Capabilities) -> dict[str, str]:
    return {"calling": caps.calling.value, "sms": caps.sms.value}


def cost(c: Cost) -> dict[str, Any]:
    return {"amount": c.amount, "currencyCode": c.currency, "billingFrequency": c.billing_frequency}


def with_version(location: str, version: ApiVersion) -> str:
    return f"{location}?api-version={version.value}"


def country(c: Country) -> dict[str, str]:
    return {"localizedName": c.name, "countryCode": c.code}


def locality(town: Town) -> dict[str, Any]:
    """A locality without a division says so with null (Java getMobileAreaCodes, 2025-06-18)."""
    division = town.division
    return {
        "localizedName": town.name,
        "administrativeDivision": None if division is None else {
            "localizedName": division.name,
            "abbreviatedName": division.abbreviated,
        },
    }


def offering(o: Offering) -> dict[str, Any]:
    return {
        "phoneNumberType": o.number_type.value,
        "assignmentType": o.assignment.value,
        "availableCapabilities": capabilities(o.capabilities),
        "cost": cost(o.cost),
    }


def search_result(s: Search, version: ApiVersion) -> dict[str, Any]:
    body: dict[str, Any] = {
        "searchId": s.id,
        "phoneNumbers": list(s.phone_numbers),
        "phoneNumberType": s.number_type.value,
        "assignmentType": s.assignment.value,
        "capabilities": capabilities(s.capabilities),
        "cost": cost(s.cost),
        "searchExpiresBy": timestamp(s.expires_at),
    }
    if version.features.agreement_flag:
        body["isAgreementToNotResellRequired"] = s.agreement_required
    if version.features.search_errors:
        if s.error != "NoError":
            body["errorCode"] = _SEARCH_ERROR_CODES.get(s.error, 1)
        body["error"] = s.error
    return body


def purchased_number(n: PhoneNumber, version: ApiVersion | None = None) -> dict[str, Any]:
    assert n.capabilities is not None and n.assignment is not None and n.purchased_at and n.cost
    body: dict[str, Any] = {
        "id": n.id,
        "phoneNumber": n.phone_number,
        "countryCode": n.country,
        "phoneNumberType": n.number_type.value,
        "capabilities": capabilities(n.capabilities),
        "assignmentType": n.assignment.value,
        "purchaseDate": timestamp(n.purchased_at),
        "cost": cost(n.cost),
    }
    if version is not None and version.features.operator_fields:
        body.update(operatorId=OPERATOR_ID, operatorName=OPERATOR_NAME, phoneNumberSource="cloud")
    return body


def operation(op: Operation, now: datetime, version: ApiVersion) -> dict[str, Any]:
    status = op.status_at(now)
    body: dict[str, Any] = {
        "operationType": op.operation_type.value,
        "status": status.value,
        "resourceLocation": with_version(op.resource_location, version) if op.resource_location else None,
        "createdDateTime": timestamp(op.created_at),
        "id": op.id,
        "lastActionDateTime": NEVER,
    }
    if status is OperationStatus.FAILED and op.error_code:
        body["error"] = {"code": op.error_code, "message": op.error_message or op.error_code}
    return body


def operator_information(info: OperatorInformation, version: ApiVersion, include_details: bool) -> dict[str, Any]:
    """One entry of `values`, keyed as the recordings show it.

    "formats" versions (2024-03-01 on; recorded 2024-02, 2024-03, 2025-06): every key always,
    type, country and operator null unless asked for. "basic" versions (the 2023 previews;
    recorded at 2023-05-01-preview): number, type, operator and country, always (the country was
    missing in 2023-05 and present from 2023-07; the latest recording wins). The operator's
    mobile network and country codes are not known here: null, as the service sent them for
    numbers it had none for.
    """
    operator = None
    if info.operator_name:
        operator = {"name": info.operator_name, "mobileNetworkCode": None, "mobileCountryCode": None}
    if version.features.operator_information == "basic":
        return {"phoneNumber": info.phone_number, "numberType": info.number_type, "operatorDetails": operator,
                "isoCountryCode": info.iso_country_code}
    return {
        "phoneNumber": info.phone_number,
        "nationalFormat": info.national_format,
        "internationalFormat": info.international_format,
        "isoCountryCode": info.iso_country_code if include_details else None,
        "numberType": info.number_type if include_details else None,
        "operatorDetails": operator if include_details else None,
    }


# How a reservation's status shows on each of its numbers.
_RESERVED_NUMBER_STATUS = {
    ReservationStatus.ACTIVE: "reserved",
    ReservationStatus.SUBMITTED: "reserved",
    ReservationStatus.COMPLETED: "purchased",
    ReservationStatus.EXPIRED: "expired",
}


def available_number(n: AvailableNumber, status: str, version: ApiVersion) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": n.id,
        "countryCode": n.country,
        "phoneNumber": n.phone_number,
        "capabilities": capabilities(n.capabilities),
        "phoneNumberType": n.number_type.value,
        "assignmentType": n.assignment.value,
        "cost": cost(n.cost),
        "status": status,
    }
    if version.features.agreement_flag and n.agreement_required:
        # Only when true: browsed and reserved US numbers carried `false` in April 2025 and no key
        # at all in June 2025 (py test_purchase_reservation / test_browse_available_numbers).
        body["isAgreementToNotResellRequired"] = True
    return body


def failed_number(f: FailedNumber, version: ApiVersion) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": f.id,
        "countryCode": f.country,
        "phoneNumber": f.phone_number,
        "capabilities": capabilities(f.capabilities),
        "phoneNumberType": f.number_type.value,
        "assignmentType": f.assignment.value,
    }
    if f.cost is not None:
        body["cost"] = cost(f.cost)
    body["status"] = "error"
    body["error"] = {"code": f.code, "message": f.message}
    if f.agreement_required is not None and version.features.agreement_flag:
        body["isAgreementToNotResellRequired"] = f.agreement_required
    return body


def reservation(r: Reservation, now: datetime, version: ApiVersion, failed: list[FailedNumber] | None = None, *,
                with_numbers: bool = True) -> dict[str, Any]:
    """A reservation; listed reservations go without their numbers, as ACS sends them."""
    status = r.status_at(now)
    body: dict[str, Any] = {"id": r.id, "expiresAt": timestamp(r.expires_at)}
    if with_numbers:
        numbers = {n.id: available_number(n, _RESERVED_NUMBER_STATUS[status], version) for n in r.phone_numbers}
        for f in failed or ():
            numbers[f.id] = failed_number(f, version)
        body["phoneNumbers"] = numbers
    body["status"] = status.value
    return body
