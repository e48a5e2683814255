"""Browse: random numbers for sale now, with no hold placed (POST .../countries/{cc}/:browse).

Over the Python SDK at its default api-version and over raw HTTP, on both engines. Every
response body is validated against the official 2025-06-01 schema (the signed raw clients and
the SDK clients carry the validating hooks of tests/support/validation.py; the raw checks
here repeat it explicitly with `spec.check`).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import httpx
import pytest
from azure.core.exceptions import HttpResponseError

from tests.support.acs import MERGE_PATCH, assert_acs_error, cancel, poll, release, start_search, v
from tests.support.schema import ApiSchema
from tests.support.sdk import raw_client, sync_client
from tests.support.server import ServerProcess
from tests.support.validation import NULLABLE

VERSION = "2025-06-01"
BROWSE = "/availablePhoneNumbers/countries/{countryCode}/:browse"
MAX_RESULTS = 30
US_TOLL_FREE_AREA_CODES = ("800", "833", "844", "855", "866", "877", "888")


@pytest.fixture(scope="module")
def spec() -> ApiSchema:
    return ApiSchema(VERSION, nullable=NULLABLE)


def browse(client: httpx.Client, body: dict, country: str = "US", version: str = VERSION) -> httpx.Response:
    return client.post(f"/availablePhoneNumbers/countries/{country}/:browse", params=v(version), json=body)


def browsed(client: httpx.Client, spec: ApiSchema, body: dict, country: str = "US") -> list[dict]:
    response = browse(client, body, country)
    assert response.status_code == 200, response.text
    return spec.check(response, BROWSE)["phoneNumbers"]


def reserve(client: httpx.Client, reservation_id: str, numbers: list[str]) -> httpx.Response:
    body = {"phoneNumbers": {n.lstrip("+"): {} for n in numbers}}
    return client.patch(f"/availablePhoneNumbers/reservations/{reservation_id}", params=v(VERSION), json=body,
                        headers=MERGE_PATCH)


def delete_reservation(client: httpx.Client, reservation_id: str) -> None:
    client.delete(f"/availablePhoneNumbers/reservations/{reservation_id}", params=v(VERSION))


# The SDK ---------------------------------------------------------------------------------


def test_sdk_browses_toll_free_numbers(connection_string: str) -> None:
    with sync_client(connection_string, None) as client:
        result = client.browse_available_phone_numbers(country_code="US", phone_number_type="tollFree")
    numbers = result.phone_numbers
    assert 0 < len(numbers) <= MAX_RESULTS
    assert len({n.phone_number for n in numbers}) == len(numbers)
    for n in numbers:
        assert n.id == n.phone_number.lstrip("+") and n.id.isdigit()
        assert n.phone_number[2:5] in US_TOLL_FREE_AREA_CODES
        assert (n.country_code, n.phone_number_type, n.assignment_type, n.status) == (
            "US", "tollFree", "application", "available")
        assert (n.capabilities.calling, n.capabilities.sms) == ("inbound+outbound", "inbound+outbound")
        assert (n.cost.amount, n.cost.currency_code, n.cost.billing_frequency) == (2.0, "USD", "monthly")
        assert n.is_agreement_to_not_resell_required is None  # no key when false, as recorded 2025-06-18


def test_sdk_browse_filters(connection_string: str) -> None:
    with sync_client(connection_string, None) as client:
        result = client.browse_available_phone_numbers(
            country_code="US", phone_number_type="geographic", assignment_type="person",
            calling_capability="outbound", phone_number_prefixes=["1425", "1206"],
        )
        numbers = result.phone_numbers
        assert numbers
        assert {n.phone_number[:5] for n in numbers} <= {"+1425", "+1206"}
        assert all(n.assignment_type == "person" and n.capabilities.calling == "inbound+outbound" for n in numbers)

        with pytest.raises(HttpResponseError) as caught:  # as the recording: js_error_invalid_browse_country.json
            client.browse_available_phone_numbers(
                country_code="INVALID", phone_number_type="tollFree", assignment_type="application",
                calling_capability="none", sms_capability="inbound+outbound",
            )
    error = caught.value
    assert error.status_code == 400
    assert (error.error.code, error.error.message, error.error.target) == (
        "InvalidInput", "Unable to parse country code.", "countrycode")


def test_do_not_resell_country_says_so(connection_string: str) -> None:
    with sync_client(connection_string, None) as client:
        numbers = client.browse_available_phone_numbers(country_code="FR", phone_number_type="tollFree").phone_numbers
    assert numbers and all(n.is_agreement_to_not_resell_required is True for n in numbers)


# Raw HTTP ----------------------------------------------------------------------------------


def test_prefixes_capabilities_and_assignment(http: httpx.Client, spec: ApiSchema) -> None:
    numbers = browsed(http, spec, {
        "phoneNumberType": "tollFree", "assignmentType": "application",
        "capabilities": {"calling": "inbound", "sms": "outbound"}, "phoneNumberPrefixes": ["1888", "+18552"],
    })
    assert numbers
    assert all(n["phoneNumber"].startswith(("+1888", "+18552")) for n in numbers)
    assert {n["phoneNumber"][:5] for n in numbers} == {"+1888", "+1855"}  # spread over both prefixes
    for n in numbers:
        assert n["status"] == "available"
        assert n["capabilities"] == {"calling": "inbound+outbound", "sms": "inbound+outbound"}  # the offering's
        assert n["id"] == n["phoneNumber"][1:]

    # a prefix no number starts with: none, and no error
    assert browsed(http, spec, {"phoneNumberType": "tollFree", "phoneNumberPrefixes": ["1999"]}) == []
    # the country code belongs in the prefix: "425" alone matches no US number
    assert browsed(http, spec, {"phoneNumberType": "geographic", "phoneNumberPrefixes": ["425"]}) == []


def test_no_offering_fits(http: httpx.Client, spec: ApiSchema) -> None:
    # US toll-free numbers are sold to applications only: as a search for them would, a 400
    response = browse(http, {"phoneNumberType": "tollFree", "assignmentType": "person"})
    spec.check(response, BROWSE)
    error = assert_acs_error(response, 400, "InternalError")
    assert error["innererror"] == {
        "code": "BadRequest", "message": "We are unable to find phone plans to match your requested capabilities."}
    # France sells no geographic numbers here
    assert_acs_error(browse(http, {"phoneNumberType": "geographic"}, "FR"), 400, "InternalError")


@pytest.mark.parametrize("body, target", [
    ({}, "phoneNumberType"),
    ({"phoneNumberType": "landline"}, "phoneNumberType"),
    ({"phoneNumberType": "tollFree", "assignmentType": "robot"}, "assignmentType"),
    ({"phoneNumberType": "tollFree", "capabilities": "all"}, "capabilities"),
    ({"phoneNumberType": "tollFree", "capabilities": {"sms": "loud"}}, "capabilities.sms"),
    ({"phoneNumberType": "tollFree", "phoneNumberPrefixes": "1800"}, "phoneNumberPrefixes"),
    ({"phoneNumberType": "tollFree", "phoneNumberPrefixes": ["18x"]}, "phoneNumberPrefixes"),
    ({"phoneNumberType": "tollFree", "phoneNumberPrefixes": [1800]}, "phoneNumberPrefixes"),
])
def test_invalid_requests(http: httpx.Client, spec: ApiSchema, body: dict, target: str) -> None:
    response = browse(http, body)
    spec.check(response, BROWSE)
    assert assert_acs_error(response, 400, "BadRequest")["target"] == target


def test_invalid_country(http: httpx.Client, spec: ApiSchema) -> None:
    for version in ("2025-04-01", VERSION):
        body = {"phoneNumberType": "tollFree", "capabilities": {"calling": "none", "sms": "inbound+outbound"},
                "assignmentType": "application"}
        response = browse(http, body, "INVALID", version)
        assert response.json() == {
            "error": {"code": "InvalidInput", "message": "Unable to parse country code.", "target": "countrycode"}}
        assert response.status_code == 400


def test_mobile_only_from_2025_06_01(http: httpx.Client) -> None:
    response = browse(http, {"phoneNumberType": "mobile"}, "US", "2025-04-01")
    assert assert_acs_error(response, 400, "BadRequest")["target"] == "phoneNumberType"


@pytest.mark.parametrize("version", ["2022-12-01", "2025-02-11"])
def test_versions_before_reservations_have_no_browse(http: httpx.Client, version: str) -> None:
    assert_acs_error(browse(http, {"phoneNumberType": "tollFree"}, "US", version), 404, "NotFound")


def test_browse_is_random_without_a_seed(http: httpx.Client, spec: ApiSchema) -> None:
    body = {"phoneNumberType": "geographic", "phoneNumberPrefixes": ["1206", "1212", "1415", "1425"]}
    first, second = browsed(http, spec, body), browsed(http, spec, body)
    assert len(first) == len(second) == MAX_RESULTS
    assert [n["id"] for n in first] != [n["id"] for n in second]


def test_browse_places_no_hold(http: httpx.Client, spec: ApiSchema) -> None:
    numbers = [n["phoneNumber"] for n in browsed(http, spec, {"phoneNumberType": "tollFree"})]
    reservation_id = str(uuid.uuid4())
    try:  # every browsed number is still free for anyone: a reservation takes them all
        reserved = reserve(http, reservation_id, numbers)
        assert reserved.status_code == 201, reserved.text
        assert {n["status"] for n in reserved.json()["phoneNumbers"].values()} == {"reserved"}
    finally:
        delete_reservation(http, reservation_id)


# A small private inventory: exactly what is free is what browse can show ----------------------


PREFIX_604 = {"phoneNumberType": "geographic", "phoneNumberPrefixes": ["1604"]}  # Vancouver: 5 numbers


def test_browse_shows_only_free_numbers_and_lapsed_holds(
    make_server: Callable[..., ServerProcess], spec: ApiSchema
) -> None:
    private = make_server("--inventory-size", "5", "--hold-minutes", "0.05")  # holds lapse after 3 s
    with raw_client(private) as client:
        everything = {n["phoneNumber"] for n in browsed(client, spec, PREFIX_604, "CA")}
        assert len(everything) == 5 and all(n.startswith("+1604") for n in everything)

        searched_at = time.monotonic()
        held = poll_search(client)  # a search holds one
        reservation_id = str(uuid.uuid4())
        kept = sorted(everything - set(held))[0]
        assert reserve(client, reservation_id, [kept]).status_code == 201  # a reservation holds another
        bought_id, bought = buy(client, sorted(everything - set(held) - {kept})[0])  # one is sold
        try:
            free = everything - set(held) - {kept, bought}
            for _ in range(3):  # any answer is exactly the free numbers (fewer than one browse returns)
                assert {n["phoneNumber"] for n in browsed(client, spec, PREFIX_604, "CA")} == free

            time.sleep(max(0.0, searched_at + 3.3 - time.monotonic()))
            # the search's hold has lapsed: its number is for sale again, the others are not
            assert {n["phoneNumber"] for n in browsed(client, spec, PREFIX_604, "CA")} == free | set(held)
        finally:
            delete_reservation(client, reservation_id)
            release(client, bought)
            cancel(client, bought_id)


def poll_search(client: httpx.Client) -> list[str]:
    started = start_search(client, VERSION, "CA", 1, {
        "phoneNumberType": "geographic", "assignmentType": "application",
        "capabilities": {"calling": "inbound+outbound", "sms": "none"}, "areaCode": "604"})
    poll(client, started.headers["Operation-Location"], VERSION)
    return client.get(started.headers["Location"]).json()["phoneNumbers"]


def buy(client: httpx.Client, number: str) -> tuple[str, str]:
    """Buy one number through a reservation: (reservation id, number)."""
    reservation_id = str(uuid.uuid4())
    assert reserve(client, reservation_id, [number]).status_code == 201
    started = client.post(f"/availablePhoneNumbers/reservations/{reservation_id}/:purchase", params=v(VERSION), json={})
    assert started.status_code == 202, started.text
    assert poll(client, started.headers["Operation-Location"], VERSION)[-1].json()["status"] == "succeeded"
    return reservation_id, number


def test_seed_makes_browse_reproducible(make_server: Callable[..., ServerProcess], spec: ApiSchema) -> None:
    """The same seed and the same inventory give the same answer, in any process, however often asked."""
    body = {"phoneNumberType": "geographic", "phoneNumberPrefixes": ["1206", "1212", "1415", "1425"]}
    answers = []
    for _ in range(2):
        private = make_server("--inventory-size", "40", "--seed", "42")
        with raw_client(private) as client:
            answers += [browsed(client, spec, body), browsed(client, spec, body)]
    assert len(answers[0]) == MAX_RESULTS
    assert all(answer == answers[0] for answer in answers)
    other = make_server("--inventory-size", "40", "--seed", "43")
    with raw_client(other) as client:
        assert browsed(client, spec, body) != answers[0]


def test_seed_flag_reaches_every_worker() -> None:
    """`--seed` is parsed, validated and survives the JSON that worker processes start from."""
    from numberpool.cli import _config, _parser
    from numberpool.server.config import ServerConfig

    config = _config(_parser().parse_args(["serve", "--seed", "7", "--workers", "2"]))
    assert config.seed == 7 and config.settings().seed == 7
    assert ServerConfig.from_json(config.to_json()).settings().seed == 7
    assert _config(_parser().parse_args(["serve"])).settings().seed is None
