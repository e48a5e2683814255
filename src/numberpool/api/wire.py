"""The JSON shapes of ACS Phone Numbers, per api-version."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from numberpool.api.versions import ApiVersion
from numberpool.core.catalog import Town
from numberpool.core.model import Capabilities, Cost, Country, Offering, Operation, OperationStatus, PhoneNumber, Search

# Numeric codes the service reports beside a search error name.
_SEARCH_ERROR_CODES = {"OutOfStock": 1000, "ReservationExpired": 1002}


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
    body: dict[str, Any] = {"localizedName": town.name}
    if town.division is not None:
        body["administrativeDivision"] = {
            "localizedName": town.division.name,
            "abbreviatedName": town.division.abbreviated,
        }
    return body


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
    if version.has_agreement_flag:
        body["isAgreementToNotResellRequired"] = s.agreement_required
    if s.error != "NoError":
        body["errorCode"] = _SEARCH_ERROR_CODES.get(s.error, 1)
    body["error"] = s.error
    return body


def purchased_number(n: PhoneNumber) -> dict[str, Any]:
    assert n.capabilities is not None and n.assignment is not None and n.purchased_at and n.cost
    return {
        "id": n.id,
        "phoneNumber": n.phone_number,
        "countryCode": n.country,
        "phoneNumberType": n.number_type.value,
        "capabilities": capabilities(n.capabilities),
        "assignmentType": n.assignment.value,
        "purchaseDate": timestamp(n.purchased_at),
        "cost": cost(n.cost),
    }


def operation(op: Operation, now: datetime, version: ApiVersion) -> dict[str, Any]:
    status = op.status_at(now)
    body: dict[str, Any] = {
        "operationType": op.operation_type.value,
        "status": status.value,
        "resourceLocation": with_version(op.resource_location, version) if op.resource_location else None,
        "createdDateTime": timestamp(op.created_at),
        "id": op.id,
        "lastActionDateTime": timestamp(op.last_action_at(now)),
    }
    if status is OperationStatus.FAILED and op.error_code:
        body["error"] = {"code": op.error_code, "message": op.error_message or op.error_code}
    return body
