"""The official Python SDK, sync and async, through the whole life of a phone number.

Browse the catalog, search, purchase, read, list, change capabilities, release:
each over real HTTPS, at the SDK's default api-version and at 2022-12-01.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from azure.communication.phonenumbers import (
    PhoneNumberCapabilities,
    PhoneNumberCapabilityType,
    PhoneNumberSearchResult,
    PhoneNumbersClient,
    PurchasedPhoneNumber,
)
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from tests.support.sdk import (
    API_VERSIONS,
    TOLL_FREE_CAPS,
    async_client,
    release_quietly,
    release_quietly_async,
    sync_client,
)
from tests.support.server import ServerProcess

each_version = pytest.mark.parametrize("api_version", API_VERSIONS)

DEMO_COUNTRIES = {"US", "CA", "GB", "FR", "IE"}
US_TOLL_FREE_AREA_CODES = {"800", "833", "844", "855", "866", "877", "888"}
DO_NOT_RESELL_MESSAGE = "Do not resell agreement was not provided"


# Checks shared by the sync and async tests ------------------------------------------------


def check_seattle(localities: list) -> None:
    seattle = [loc for loc in localities if loc.localized_name == "Seattle"]
    assert seattle, [loc.localized_name for loc in localities]
    division = seattle[0].administrative_division
    assert division is not None
    assert division.abbreviated_name == "WA"
    assert division.localized_name == "Washington"


def check_offerings(offerings: list) -> None:
    assert offerings
    for offering in offerings:
        assert offering.phone_number_type in ("geographic", "tollFree")
        assert offering.assignment_type in ("person", "application")
        assert offering.available_capabilities is not None
        assert offering.available_capabilities.calling and offering.available_capabilities.sms
        assert offering.cost is not None
        assert offering.cost.amount > 0
        assert offering.cost.currency_code == "USD"
        assert offering.cost.billing_frequency == "monthly"
    assert any(o.phone_number_type == "tollFree" and o.assignment_type == "application" for o in offerings)


def check_toll_free_search(result: PhoneNumberSearchResult, quantity: int = 2) -> None:
    assert result.search_id
    assert len(result.phone_numbers) == quantity
    assert len(set(result.phone_numbers)) == quantity
    assert all(n.startswith("+1") and n[1:].isdigit() for n in result.phone_numbers)
    assert result.phone_number_type == "tollFree"
    assert result.assignment_type == "application"
    assert result.capabilities.calling == "inbound"
    assert result.capabilities.sms == "inbound+outbound"
    assert result.cost.amount > 0 and result.cost.currency_code == "USD"
    now = datetime.now(timezone.utc)
    assert now < result.search_expires_by <= now + timedelta(minutes=15)


def check_purchased(number: PurchasedPhoneNumber, search: PhoneNumberSearchResult) -> None:
    assert number.phone_number in search.phone_numbers
    assert number.id == number.phone_number.lstrip("+")
    assert number.country_code == "US"
    assert number.phone_number_type == search.phone_number_type
    assert number.assignment_type == search.assignment_type
    assert number.capabilities.calling == search.capabilities.calling
    assert number.capabilities.sms == search.capabilities.sms
    assert number.cost.amount == search.cost.amount
    assert number.cost.currency_code == search.cost.currency_code
    assert number.purchase_date is not None


# Catalog ------------------------------------------------------------------------------------


@each_version
def test_catalog_sync(connection_string: str, api_version: str | None) -> None:
    with sync_client(connection_string, api_version) as client:
        assert {c.country_code for c in client.list_available_countries()} >= DEMO_COUNTRIES
        check_seattle(list(client.list_available_localities("US")))
        toll_free = {a.area_code for a in client.list_available_area_codes("US", "tollFree", assignment_type="application")}
        assert toll_free == US_TOLL_FREE_AREA_CODES
        seattle = {a.area_code for a in client.list_available_area_codes("US", "geographic", locality="Seattle")}
        assert seattle == {"206"}
        check_offerings(list(client.list_available_offerings("US")))


@each_version
async def test_catalog_async(connection_string: str, api_version: str | None) -> None:
    async with async_client(connection_string, api_version) as client:
        assert {c.country_code async for c in client.list_available_countries()} >= DEMO_COUNTRIES
        check_seattle([loc async for loc in client.list_available_localities("US")])
        toll_free = {
            a.area_code async for a in client.list_available_area_codes("US", "tollFree", assignment_type="application")
        }
        assert toll_free == US_TOLL_FREE_AREA_CODES
        seattle = {a.area_code async for a in client.list_available_area_codes("US", "geographic", locality="Seattle")}
        assert seattle == {"206"}
        check_offerings([o async for o in client.list_available_offerings("US")])


# Search, purchase, read, list, update, release ----------------------------------------------


@each_version
def test_lifecycle_sync(connection_string: str, api_version: str | None) -> None:
    with sync_client(connection_string, api_version) as client:
        search = client.begin_search_available_phone_numbers(
            "US", "tollFree", "application", TOLL_FREE_CAPS, quantity=2, polling_interval=0
        ).result()
        check_toll_free_search(search)
        bought = list(search.phone_numbers)
        try:
            assert client.begin_purchase_phone_numbers(search.search_id, polling_interval=0).result() is None

            for number in bought:
                check_purchased(client.get_purchased_phone_number(number), search)
            listed = {n.phone_number: n for n in client.list_purchased_phone_numbers()}
            assert set(bought) <= set(listed)
            check_purchased(listed[bought[0]], search)

            first = bought[0]
            updated = client.begin_update_phone_number_capabilities(
                first, sms=PhoneNumberCapabilityType.NONE, calling=PhoneNumberCapabilityType.OUTBOUND, polling_interval=0
            ).result()
            assert updated.phone_number == first
            assert (updated.capabilities.calling, updated.capabilities.sms) == ("outbound", "none")
            again = client.get_purchased_phone_number(first)
            assert (again.capabilities.calling, again.capabilities.sms) == ("outbound", "none")
            # The other number of the purchase keeps what it was bought with.
            other = client.get_purchased_phone_number(bought[1])
            assert (other.capabilities.calling, other.capabilities.sms) == ("inbound", "inbound+outbound")

            for number in bought:
                assert client.begin_release_phone_number(number, polling_interval=0).result() is None
            for number in bought:
                with pytest.raises(ResourceNotFoundError) as caught:
                    client.get_purchased_phone_number(number)
                assert caught.value.status_code == 404
            assert not set(bought) & {n.phone_number for n in client.list_purchased_phone_numbers()}
        finally:
            release_quietly(client, bought)


@each_version
async def test_lifecycle_async(connection_string: str, api_version: str | None) -> None:
    async with async_client(connection_string, api_version) as client:
        poller = await client.begin_search_available_phone_numbers(
            "US", "tollFree", "application", TOLL_FREE_CAPS, quantity=2, polling_interval=0
        )
        search = await poller.result()
        check_toll_free_search(search)
        bought = list(search.phone_numbers)
        try:
            purchase = await client.begin_purchase_phone_numbers(search.search_id, polling_interval=0)
            assert await purchase.result() is None

            for number in bought:
                check_purchased(await client.get_purchased_phone_number(number), search)
            listed = {n.phone_number: n async for n in client.list_purchased_phone_numbers()}
            assert set(bought) <= set(listed)
            check_purchased(listed[bought[1]], search)

            first = bought[0]
            update = await client.begin_update_phone_number_capabilities(
                first, sms="inbound+outbound", calling="none", polling_interval=0
            )
            updated = await update.result()
            assert updated.phone_number == first
            assert (updated.capabilities.calling, updated.capabilities.sms) == ("none", "inbound+outbound")
            again = await client.get_purchased_phone_number(first)
            assert (again.capabilities.calling, again.capabilities.sms) == ("none", "inbound+outbound")

            for number in bought:
                release = await client.begin_release_phone_number(number, polling_interval=0)
                assert await release.result() is None
            for number in bought:
                with pytest.raises(ResourceNotFoundError) as caught:
                    await client.get_purchased_phone_number(number)
                assert caught.value.status_code == 404
            assert not set(bought) & {n.phone_number async for n in client.list_purchased_phone_numbers()}
        finally:
            await release_quietly_async(client, bought)


# A released number goes back on sale --------------------------------------------------------


@pytest.fixture(scope="module")
def one_per_area_code(server: ServerProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A private server holding a single number in each area code (its tests leave it as they found it)."""
    private = ServerProcess(tmp_path_factory.mktemp("one-per-area-code"), "--inventory-size", "1", engine=server.engine).start()
    yield private
    private.stop()


def search_206(client: PhoneNumbersClient) -> PhoneNumberSearchResult:
    caps = PhoneNumberCapabilities(calling="inbound+outbound", sms="none")
    return client.begin_search_available_phone_numbers(
        "US", "geographic", "application", caps, area_code="206", polling_interval=0
    ).result()


@each_version
def test_released_number_can_be_found_again(one_per_area_code: ServerProcess, api_version: str | None) -> None:
    with sync_client(one_per_area_code.connection_string, api_version, one_per_area_code) as client:
        first = search_206(client)
        assert len(first.phone_numbers) == 1
        number = first.phone_numbers[0]
        client.begin_purchase_phone_numbers(first.search_id, polling_interval=0).result()
        try:
            assert client.get_purchased_phone_number(number).phone_number == number
            with pytest.raises(HttpResponseError) as caught:  # the only number in 206 is sold
                search_206(client)
            assert caught.value.error.code == "OutOfStock"

            client.begin_release_phone_number(number, polling_interval=0).result()
            again = search_206(client)
            assert again.phone_numbers == [number]
            client.begin_purchase_phone_numbers(again.search_id, polling_interval=0).result()
            assert client.get_purchased_phone_number(number).phone_number == number
        finally:
            release_quietly(client, [number])


# Countries where numbers may not be resold --------------------------------------------------


def check_do_not_resell_flag(result: PhoneNumberSearchResult, api_version: str | None) -> None:
    if api_version is None:  # 2025-06-01 tells the client that an agreement is needed
        assert result.is_agreement_to_not_resell_required is True
    else:  # 2022-12-01 predates the flag
        assert result.is_agreement_to_not_resell_required is None


FR_CAPS = PhoneNumberCapabilities(calling="outbound", sms="none")


@each_version
def test_do_not_resell_agreement_sync(connection_string: str, api_version: str | None) -> None:
    with sync_client(connection_string, api_version) as client:
        search = client.begin_search_available_phone_numbers(
            "FR", "tollFree", "application", FR_CAPS, polling_interval=0
        ).result()
        assert len(search.phone_numbers) == 1 and search.phone_numbers[0].startswith("+33")
        check_do_not_resell_flag(search, api_version)
        bought = list(search.phone_numbers)
        try:
            with pytest.raises(HttpResponseError) as caught:
                client.begin_purchase_phone_numbers(search.search_id, polling_interval=0).result()
            assert caught.value.status_code == 400
            assert caught.value.error.code == "BadRequest"
            assert DO_NOT_RESELL_MESSAGE in caught.value.message
            with pytest.raises(ResourceNotFoundError):  # nothing was bought
                client.get_purchased_phone_number(bought[0])

            client.begin_purchase_phone_numbers(search.search_id, agree_to_not_resell=True, polling_interval=0).result()
            number = client.get_purchased_phone_number(bought[0])
            assert number.country_code == "FR"
            assert number.phone_number_type == "tollFree"
            assert (number.capabilities.calling, number.capabilities.sms) == ("outbound", "none")
        finally:
            release_quietly(client, bought)


@each_version
async def test_do_not_resell_agreement_async(connection_string: str, api_version: str | None) -> None:
    async with async_client(connection_string, api_version) as client:
        poller = await client.begin_search_available_phone_numbers(
            "FR", "tollFree", "application", FR_CAPS, polling_interval=0
        )
        search = await poller.result()
        check_do_not_resell_flag(search, api_version)
        bought = list(search.phone_numbers)
        try:
            with pytest.raises(HttpResponseError) as caught:
                purchase = await client.begin_purchase_phone_numbers(search.search_id, polling_interval=0)
                await purchase.result()
            assert caught.value.status_code == 400
            assert DO_NOT_RESELL_MESSAGE in caught.value.message

            purchase = await client.begin_purchase_phone_numbers(
                search.search_id, agree_to_not_resell=True, polling_interval=0
            )
            await purchase.result()
            number = await client.get_purchased_phone_number(bought[0])
            assert number.country_code == "FR"
        finally:
            await release_quietly_async(client, bought)


# The server's own end ---------------------------------------------------------------------------


def test_server_stops_while_sdk_holds_idle_connections(
    server: ServerProcess, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """An SDK client pools its TLS connection; a stopping server must not wait on it until it is killed."""
    private = ServerProcess(tmp_path_factory.mktemp("stop"), "--inventory-size", "1", engine=server.engine).start()
    try:
        with sync_client(private.connection_string, None, private) as client:
            assert {c.country_code for c in client.list_available_countries()} >= DEMO_COUNTRIES
            private.stop()  # while the client's keep-alive connection is still open
    finally:
        private.kill()
    assert private.returncode != -signal.SIGKILL, "the server ignored SIGTERM and had to be killed"
