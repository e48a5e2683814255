"""POST /operatorInformation/:search: any valid number, from the numbering plan; one number per request."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from azure.communication.phonenumbers import OperatorInformationOptions
from azure.core.exceptions import HttpResponseError

from numberpool.core import operator_information
from numberpool.core.errors import AcsError
from numberpool.numbering.operator import facts
from tests.support.acs import NEWEST, assert_acs_error, v
from tests.support.sdk import API_VERSIONS, sync_client

ROUTE = "/operatorInformation/:search"


def ask(http: httpx.Client, body: Any, version: str = NEWEST) -> httpx.Response:
    return http.post(ROUTE, params=v(version), json=body)


# ---------------------------------------------------------------- the rules


@pytest.mark.parametrize(
    "number, region, kind, operator",
    [
        ("+353861234567", "IE", "mobile", "O2"),  # Irish mobile range
        ("+447400123456", "GB", "mobile", "Three"),
        ("+442071234567", "GB", "geographic", None),  # London fixed line
        ("+14255550123", "US", "geographic", None),  # North America: fixed line or mobile, no operator on record
        ("+18005551234", "US", "other", None),  # toll-free
        ("+33612345678", "FR", "mobile", None),
        ("+4930123456", "DE", "geographic", None),  # Berlin: not in the demo inventory at all
    ],
)
def test_facts_come_from_the_numbering_plan(number: str, region: str, kind: str, operator: str | None) -> None:
    found = facts(number)
    assert found is not None
    assert (found.e164, found.region, found.number_type) == (number, region, kind)
    if operator is not None:
        assert found.operator == operator


@pytest.mark.parametrize("raw", ["", "+", "14255550123", "+1425555", "+99912345678", "+1 425 555 0123 x",
                                 "not a number", "+11234567899"])
def test_invalid_numbers_have_no_facts(raw: str) -> None:
    assert facts(raw) is None


def test_one_number_per_request() -> None:
    with pytest.raises(AcsError) as caught:
        operator_information.search(["+14255550123", "+14255550124"])
    assert (caught.value.status, caught.value.body()) == (
        400, {"error": {"code": "BadRequest", "message": "Can only accept one phoneNumber"}})


# ---------------------------------------------------------------- the wire


def test_formats_only_unless_details_are_asked_for(http: httpx.Client) -> None:
    for body in ({"phoneNumbers": ["+442071234567"]},
                 {"phoneNumbers": ["+442071234567"], "options": {"includeAdditionalOperatorDetails": False}},
                 {"phoneNumbers": ["+442071234567"], "options": {}}):
        response = ask(http, body)
        assert response.status_code == 200, response.text
        assert response.json() == {"values": [{  # the rest present, null: as recorded (Java, 2024-03-01)
            "phoneNumber": "+442071234567", "nationalFormat": "020 7123 4567", "internationalFormat": "+44 20 7123 4567",
            "isoCountryCode": None, "numberType": None, "operatorDetails": None,
        }]}


def test_details_when_asked(http: httpx.Client) -> None:
    body = {"phoneNumbers": ["+447400123456"], "options": {"includeAdditionalOperatorDetails": True}}
    assert ask(http, body).json() == {"values": [{
        "phoneNumber": "+447400123456", "nationalFormat": "07400 123456", "internationalFormat": "+44 7400 123456",
        "isoCountryCode": "GB", "numberType": "mobile",
        "operatorDetails": {"name": "Three", "mobileNetworkCode": None, "mobileCountryCode": None},
    }]}
    toll_free = ask(http, {"phoneNumbers": ["+18005551234"], "options": {"includeAdditionalOperatorDetails": True}})
    assert toll_free.json()["values"][0] == {
        "phoneNumber": "+18005551234", "nationalFormat": "(800) 555-1234", "internationalFormat": "+1 800-555-1234",
        "isoCountryCode": "US", "numberType": "other", "operatorDetails": None,  # no operator on record
    }


def test_the_2023_previews_answer_number_type_operator_and_country(http: httpx.Client) -> None:
    """Java searchOperatorInformation[1].json (2023-07-26, 2023-05-01-preview): no formats, details always,
    the country included (the .NET recording of 2023-05-30 had none; the latest wins)."""
    for version in ("2023-05-01-preview", "2023-10-01-preview"):
        response = ask(http, {"phoneNumbers": ["+447400123456"]}, version)
        assert response.json() == {"values": [{
            "phoneNumber": "+447400123456", "numberType": "mobile",
            "operatorDetails": {"name": "Three", "mobileNetworkCode": None, "mobileCountryCode": None},
            "isoCountryCode": "GB",
        }]}


def test_more_than_one_number_is_refused_as_recorded(http: httpx.Client) -> None:
    """py_error_operator_info_too_many.json: 400 BadRequest "Can only accept one phoneNumber"."""
    body = {"phoneNumbers": ["+14255550123", "+14255550124"], "options": {"includeAdditionalOperatorDetails": False}}
    response = ask(http, body, "2025-02-11")
    assert response.status_code == 400
    assert response.json() == {"error": {"code": "BadRequest", "message": "Can only accept one phoneNumber"}}


@pytest.mark.parametrize(
    "body, target",
    [
        ({"phoneNumbers": ["+11234567899"]}, "phoneNumbers"),  # not a valid number in any plan
        ({"phoneNumbers": ["14255550123"]}, "phoneNumbers"),  # not E.164
        ({"phoneNumbers": ["hello"]}, "phoneNumbers"),
        ({"phoneNumbers": []}, "phoneNumbers"),
        ({"phoneNumbers": "+14255550123"}, "phoneNumbers"),
        ({"phoneNumbers": [14255550123]}, "phoneNumbers"),
        ({}, "phoneNumbers"),
        ({"phoneNumbers": ["+14255550123"], "options": "yes"}, "options"),
        ({"phoneNumbers": ["+14255550123"], "options": {"includeAdditionalOperatorDetails": "yes"}},
         "includeAdditionalOperatorDetails"),
    ],
    ids=repr,
)
def test_bad_requests_are_clear_400s(http: httpx.Client, body: Any, target: str) -> None:
    error = assert_acs_error(ask(http, body), 400, "BadRequest")
    assert error.get("target") == target, error


def test_invalid_number_message_names_the_number(http: httpx.Client) -> None:
    error = assert_acs_error(ask(http, {"phoneNumbers": ["+11234567899"]}), 400, "BadRequest")
    assert "'+11234567899'" in error["message"] and "E.164" in error["message"]


# ---------------------------------------------------------------- the Python SDK


def test_sdk_operator_information(connection_string: str) -> None:
    with sync_client(connection_string, None) as client:
        plain = client.search_operator_information("+353871234567")
        (info,) = plain.values
        assert (info.phone_number, info.national_format, info.international_format) == (
            "+353871234567", "087 123 4567", "+353 87 123 4567")
        assert info.operator_details is None and info.number_type is None

        detailed = client.search_operator_information(
            ["+353871234567"], options=OperatorInformationOptions(include_additional_operator_details=True))
        (info,) = detailed.values
        assert (info.iso_country_code, info.number_type, info.operator_details.name) == ("IE", "mobile", "Vodafone")

        with pytest.raises(HttpResponseError) as caught:
            client.search_operator_information(["+353871234567", "+353871234568"])
        assert caught.value.status_code == 400
        assert caught.value.error.code == "BadRequest"
        assert "Can only accept one phoneNumber" in caught.value.message


@pytest.mark.parametrize("api_version", [p for p in API_VERSIONS if p.values[0] is not None])
def test_sdk_operator_information_is_not_in_2022_12_01(connection_string: str, api_version: str) -> None:
    with sync_client(connection_string, api_version) as client:
        with pytest.raises(HttpResponseError) as caught:
            client.search_operator_information("+353871234567")
        assert caught.value.status_code == 404
