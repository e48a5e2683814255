"""The official Python SDK meets every way a request can go wrong.

Each error is checked the way an SDK user sees it (`status_code`, `error.code`,
`error.message`, `error.target`, `error.innererror`), and where a recording of
the real service exists the values are the recorded ones.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from azure.communication.phonenumbers import PhoneNumberCapabilities, PhoneNumberSearchResult, PhoneNumbersClient
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from tests.support.sdk import (
    API_VERSIONS,
    RAW_API_VERSION,
    TOLL_FREE_CAPS,
    async_client,
    cancel_search,
    raw_client,
    release_quietly,
    sync_client,
)
from tests.conftest import OTHER_RESOURCE
from tests.support.server import ServerProcess

pytestmark = pytest.mark.parametrize("api_version", API_VERSIONS)

# A well-formed number that no resource owns.
UNKNOWN_NUMBER = "+14255550100"
API = {"api-version": RAW_API_VERSION}


def check_error(
    error: HttpResponseError,
    status: int,
    code: str,
    message: str,
    *,
    target: str | None = None,
    inner: dict[str, str] | None = None,
) -> None:
    assert error.status_code == status, error
    assert error.error is not None, error
    assert error.error.code == code
    assert error.error.message == message
    assert error.error.target == target
    if inner is not None:
        assert error.error.innererror == inner


# The requests the recordings show failing ----------------------------------------------------


def check_invalid_country(error: HttpResponseError) -> None:  # py_error_invalid_country.json
    check_error(error, 400, "InvalidInput", "Unable to parse country code.", target="countrycode")


def check_person_toll_free(error: HttpResponseError) -> None:  # js_error_invalid_search_person_tollfree.json
    check_error(
        error,
        400,
        "InternalError",
        "The server encountered an internal error.",
        inner={"code": "BadRequest", "message": "We are unable to find phone plans to match your requested capabilities."},
    )


def check_unknown_number(error: HttpResponseError, number: str = UNKNOWN_NUMBER) -> None:  # py_error_get_unknown_number.json
    assert isinstance(error, ResourceNotFoundError)
    check_error(error, 404, "NotFound", f"Input phoneNumber {number} cannot be found.", target="phonenumber")


def check_invalid_number(error: HttpResponseError) -> None:
    """A number that does not parse is one not owned: the 2025 recording (JS, 2025-06-01) replaced the
    400 InternalError of py_error_update_caps_invalid_number.json (2024) with this 403."""
    check_not_owned(error)


def check_release_not_owned(error: HttpResponseError, number: str, tenant: str) -> None:
    """.NET ReleaseUnauthorizedNumber.json (2025-06): the release is accepted, then fails; never a
    ResourceNotFoundError. The failed operation's error is not recorded (the 2023 refusal's words)."""
    assert not isinstance(error, ResourceNotFoundError)
    assert error.error is not None, error
    assert error.error.code == "BadRequest"
    assert error.error.message == f"Numbers: [{number}] do not belong to the Tenant:{tenant}."


def check_not_owned(error: HttpResponseError) -> None:  # py_error_update_caps_not_owned.json
    check_error(error, 403, "InsufficientPermissions", "Phone number not owned by this resource.", target="phonenumber")


def test_search_invalid_country(connection_string: str, api_version: str | None) -> None:
    with sync_client(connection_string, api_version) as client, pytest.raises(HttpResponseError) as caught:
        client.begin_search_available_phone_numbers("XX", "tollFree", "application", TOLL_FREE_CAPS, polling_interval=0)
    check_invalid_country(caught.value)


def test_search_toll_free_for_a_person(connection_string: str, api_version: str | None) -> None:
    caps = PhoneNumberCapabilities(calling="none", sms="inbound+outbound")
    with sync_client(connection_string, api_version) as client, pytest.raises(HttpResponseError) as caught:
        client.begin_search_available_phone_numbers("US", "tollFree", "person", caps, quantity=1, polling_interval=0)
    check_person_toll_free(caught.value)


def test_get_unknown_number(connection_string: str, api_version: str | None) -> None:
    with sync_client(connection_string, api_version) as client, pytest.raises(ResourceNotFoundError) as caught:
        client.get_purchased_phone_number(UNKNOWN_NUMBER)
    check_unknown_number(caught.value)


def test_update_capabilities_of_invalid_number(connection_string: str, api_version: str | None) -> None:
    with sync_client(connection_string, api_version) as client, pytest.raises(HttpResponseError) as caught:
        client.begin_update_phone_number_capabilities(
            "invalid_phone_number", sms="inbound+outbound", calling="inbound", polling_interval=0
        )
    check_invalid_number(caught.value)


def test_update_capabilities_of_number_not_owned(connection_string: str, api_version: str | None) -> None:
    with sync_client(connection_string, api_version) as client, pytest.raises(HttpResponseError) as caught:
        client.begin_update_phone_number_capabilities(
            UNKNOWN_NUMBER, sms="inbound+outbound", calling="inbound", polling_interval=0
        )
    check_not_owned(caught.value)


async def test_request_errors_async(connection_string: str, api_version: str | None) -> None:
    async with async_client(connection_string, api_version) as client:
        with pytest.raises(HttpResponseError) as caught:
            await client.begin_search_available_phone_numbers(
                "XX", "tollFree", "application", TOLL_FREE_CAPS, polling_interval=0
            )
        check_invalid_country(caught.value)

        with pytest.raises(HttpResponseError) as caught:
            await client.begin_search_available_phone_numbers(
                "US", "tollFree", "person", PhoneNumberCapabilities(calling="none", sms="inbound+outbound"),
                polling_interval=0,
            )
        check_person_toll_free(caught.value)

        with pytest.raises(ResourceNotFoundError) as caught:
            await client.get_purchased_phone_number(UNKNOWN_NUMBER)
        check_unknown_number(caught.value)

        with pytest.raises(HttpResponseError) as caught:
            await client.begin_update_phone_number_capabilities(
                "invalid_phone_number", sms="inbound+outbound", calling="inbound", polling_interval=0
            )
        check_invalid_number(caught.value)

        with pytest.raises(HttpResponseError) as caught:
            await client.begin_update_phone_number_capabilities(
                UNKNOWN_NUMBER, sms="inbound+outbound", calling="inbound", polling_interval=0
            )
        check_not_owned(caught.value)


# One resource cannot see or touch another's numbers and searches ------------------------------


@pytest.fixture()
def dev_number(connection_string: str) -> Iterator[str]:
    """A toll-free number the development resource owns for the length of one test."""
    with sync_client(connection_string, None) as client:
        search = client.begin_search_available_phone_numbers(
            "US", "tollFree", "application", TOLL_FREE_CAPS, polling_interval=0
        ).result()
        try:
            client.begin_purchase_phone_numbers(search.search_id, polling_interval=0).result()
            yield search.phone_numbers[0]
        finally:
            release_quietly(client, search.phone_numbers)


def test_other_resource_cannot_touch_purchased_number(
    connection_string: str, other_connection_string: str, dev_number: str, api_version: str | None
) -> None:
    with sync_client(other_connection_string, api_version) as other:
        with pytest.raises(ResourceNotFoundError) as caught:
            other.get_purchased_phone_number(dev_number)
        check_unknown_number(caught.value, dev_number)

        with pytest.raises(HttpResponseError) as caught:
            other.begin_release_phone_number(dev_number, polling_interval=0).result()
        check_release_not_owned(caught.value, dev_number, OTHER_RESOURCE)

        with pytest.raises(HttpResponseError) as caught:
            other.begin_update_phone_number_capabilities(dev_number, sms="none", calling="outbound", polling_interval=0)
        check_not_owned(caught.value)

        assert dev_number not in {n.phone_number for n in other.list_purchased_phone_numbers()}

    # The owner still has it, unchanged.
    with sync_client(connection_string, api_version) as owner:
        number = owner.get_purchased_phone_number(dev_number)
        assert (number.capabilities.calling, number.capabilities.sms) == ("inbound", "inbound+outbound")
        assert dev_number in {n.phone_number for n in owner.list_purchased_phone_numbers()}


async def test_other_resource_cannot_touch_purchased_number_async(
    other_connection_string: str, dev_number: str, api_version: str | None
) -> None:
    async with async_client(other_connection_string, api_version) as other:
        with pytest.raises(ResourceNotFoundError) as caught:
            await other.get_purchased_phone_number(dev_number)
        check_unknown_number(caught.value, dev_number)

        with pytest.raises(HttpResponseError) as caught:
            await (await other.begin_release_phone_number(dev_number, polling_interval=0)).result()
        check_release_not_owned(caught.value, dev_number, OTHER_RESOURCE)

        with pytest.raises(HttpResponseError) as caught:
            await other.begin_update_phone_number_capabilities(
                dev_number, sms="none", calling="outbound", polling_interval=0
            )
        check_not_owned(caught.value)

        assert dev_number not in {n.phone_number async for n in other.list_purchased_phone_numbers()}


def test_other_resource_cannot_use_search(
    connection_string: str, other_connection_string: str, http: httpx.Client, other_http: httpx.Client,
    api_version: str | None,
) -> None:
    with sync_client(connection_string, api_version) as client:
        search = client.begin_search_available_phone_numbers(
            "US", "tollFree", "application", TOLL_FREE_CAPS, polling_interval=0
        ).result()
    try:
        result_path = f"/availablePhoneNumbers/searchResults/{search.search_id}"
        operation_path = f"/phoneNumbers/operations/search_{search.search_id}"

        response = other_http.get(result_path, params=API)
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == "NotFound"
        response = other_http.get(operation_path, params=API)
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == "NotFound"
        assert other_http.delete(operation_path, params=API).status_code == 404

        with sync_client(other_connection_string, api_version) as other, pytest.raises(ResourceNotFoundError) as caught:
            other.begin_purchase_phone_numbers(search.search_id, polling_interval=0)
        assert caught.value.status_code == 404
        assert caught.value.error.code == "NotFound"

        # Nothing the other resource did reached the search: it still holds its numbers.
        response = http.get(result_path, params=API)
        assert response.status_code == 200, response.text
        assert response.json()["phoneNumbers"] == search.phone_numbers
    finally:
        assert cancel_search(http, search.search_id).status_code == 204


# Holds that lapse, stock that runs out, searches that are cancelled ---------------------------


@pytest.fixture(scope="module")
def short_hold(server: ServerProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A private server whose searches hold their numbers for 1.2 s."""
    private = ServerProcess(
        tmp_path_factory.mktemp("short-hold"), "--hold-minutes", "0.02", "--inventory-size", "20", engine=server.engine
    ).start()
    yield private
    private.stop()


@pytest.fixture(scope="module")
def tiny(server: ServerProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A private server with three numbers in each area code; tests use one area code each and clean up."""
    private = ServerProcess(tmp_path_factory.mktemp("tiny"), "--inventory-size", "3", engine=server.engine).start()
    yield private
    private.stop()


GEO_CAPS = PhoneNumberCapabilities(calling="inbound+outbound", sms="none")


def search_geographic(client: PhoneNumbersClient, area_code: str, quantity: int) -> PhoneNumberSearchResult:
    return client.begin_search_available_phone_numbers(
        "US", "geographic", "application", GEO_CAPS, area_code=area_code, quantity=quantity, polling_interval=0
    ).result()


def test_purchase_after_hold_expired(short_hold: ServerProcess, api_version: str | None) -> None:
    with sync_client(short_hold.connection_string, api_version, short_hold) as client:
        search = client.begin_search_available_phone_numbers(
            "US", "tollFree", "application", TOLL_FREE_CAPS, polling_interval=0
        ).result()
        assert len(search.phone_numbers) == 1
        time.sleep(1.5)
        with pytest.raises(HttpResponseError) as caught:
            client.begin_purchase_phone_numbers(search.search_id, polling_interval=0).result()
        assert caught.value.error.code == "ReservationExpired"
        with pytest.raises(ResourceNotFoundError):
            client.get_purchased_phone_number(search.phone_numbers[0])

    with raw_client(short_hold) as http:
        response = http.get(f"/phoneNumbers/operations/purchase_{search.search_id}", params=API)
    assert response.status_code == 200, response.text
    operation = response.json()
    assert operation["operationType"] == "purchase"
    assert operation["status"] == "failed"
    assert operation["error"]["code"] == "ReservationExpired"


def test_out_of_stock(tiny: ServerProcess, api_version: str | None) -> None:
    with sync_client(tiny.connection_string, api_version, tiny) as client, raw_client(tiny) as http:
        partial = search_geographic(client, "212", quantity=5)
        try:
            # Fewer numbers than asked for: all that the area code has.
            assert len(partial.phone_numbers) == 3
            assert all(n.startswith("+1212") for n in partial.phone_numbers)

            with pytest.raises(HttpResponseError) as caught:
                search_geographic(client, "212", quantity=1)
            assert caught.value.error.code == "OutOfStock"
            operation = caught.value.response.json()  # the failed search operation, as polled
            assert operation["operationType"] == "search"
            assert operation["status"] == "failed"
            assert operation["error"]["code"] == "OutOfStock"
        finally:
            assert cancel_search(http, partial.search_id).status_code == 204


def test_cancel_search_returns_numbers(tiny: ServerProcess, api_version: str | None) -> None:
    with sync_client(tiny.connection_string, api_version, tiny) as client, raw_client(tiny) as http:
        first = search_geographic(client, "415", quantity=3)
        assert len(first.phone_numbers) == 3
        with pytest.raises(HttpResponseError) as caught:  # all of 415 is held
            search_geographic(client, "415", quantity=1)
        assert caught.value.error.code == "OutOfStock"

        operation = f"/phoneNumbers/operations/search_{first.search_id}"
        response = http.get(operation, params=API)
        assert response.status_code == 200 and response.json()["status"] == "succeeded", response.text
        response = cancel_search(http, first.search_id)
        assert response.status_code == 204, response.text
        assert http.get(operation, params=API).status_code == 404
        assert http.get(f"/availablePhoneNumbers/searchResults/{first.search_id}", params=API).status_code == 404

        again = search_geographic(client, "415", quantity=3)
        try:
            assert sorted(again.phone_numbers) == sorted(first.phone_numbers)
        finally:
            assert cancel_search(http, again.search_id).status_code == 204
