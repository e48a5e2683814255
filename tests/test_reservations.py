"""Reservations: create or update, read, list, delete and purchase, on both engines.

Server level: the Python SDK at its default api-version (2025-06-01) through the whole life
of a reservation, and raw HTTP for the exact statuses, headers and error bodies of
py_test_phone_numbers_reservation_management.json and py_test_purchase_reservation.json, every
body validated against the official 2025-06-01 schema. Store level (both engines, a frozen
clock): expiry after 15 minutes without a change and at most 2 hours after creation, lazy
and swept release of expired reservations, the monthly purge, and concurrent reservations
never sharing a number.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from numberpool.core import reservations, search
from numberpool.core.context import Context, Settings
from numberpool.core.errors import AcsError
from numberpool.core.model import AssignmentType, Capabilities, Direction, NumberType
from numberpool.core.reservations import NumberRequest
from numberpool.core.seed import seed_demo
from numberpool.store import Store, open_store
from tests.support.acs import MERGE_PATCH, assert_acs_error, poll, release, start_search, v
from tests.support.schema import ApiSchema
from tests.support.sdk import async_client, raw_client, release_quietly, release_quietly_async, sync_client
from tests.support.server import ServerProcess
from tests.support.validation import NULLABLE
from tests.support.stores import T0, FrozenClock, fetch

VERSION = "2025-06-01"
RESERVATION = "/availablePhoneNumbers/reservations/{reservationId}"
RESERVATIONS = "/availablePhoneNumbers/reservations"
PURCHASE = "/availablePhoneNumbers/reservations/{reservationId}/:purchase"
OPERATION = "/phoneNumbers/operations/{operationId}"
NOT_FOUND = {"error": {"code": "ReservationNotFound",
                       "message": "The reservation was not found and the operation could not be completed."}}
# JS recording_throws_error_when_starting_purchase_without_agreement_to_not_resell_browse_api.json (2025-04-25)
FAILED = {"code": "NumberNotAvailable",
          "message": "The number selected is not available. Please select a different number."}
UNKNOWN_ID = "19999999999"  # no such number in any inventory
TOLL_FREE = {"phoneNumberType": "tollFree"}


@pytest.fixture(scope="module")
def spec() -> ApiSchema:
    return ApiSchema(VERSION, nullable=NULLABLE)  # the service's recorded nulls (resourceLocation, nextLink)


# Raw HTTP helpers ----------------------------------------------------------------------------


def path(reservation_id: str) -> str:
    return f"/availablePhoneNumbers/reservations/{reservation_id}"


def patch(client: httpx.Client, reservation_id: str, numbers: dict[str, Any], version: str = VERSION) -> httpx.Response:
    return client.patch(path(reservation_id), params=v(version), json={"phoneNumbers": numbers}, headers=MERGE_PATCH)


def browse(client: httpx.Client, body: dict[str, Any] = TOLL_FREE, country: str = "US") -> list[dict[str, Any]]:
    response = client.post(f"/availablePhoneNumbers/countries/{country}/:browse", params=v(VERSION), json=body)
    assert response.status_code == 200, response.text
    return response.json()["phoneNumbers"]


def as_request(number: dict[str, Any]) -> dict[str, Any]:
    """What the SDK sends for a browsed number: its writable fields."""
    return {k: number[k] for k in ("countryCode", "capabilities", "phoneNumberType", "assignmentType")}


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


def purchase(client: httpx.Client, reservation_id: str, body: Any = None) -> httpx.Response:
    if body is None:
        return client.post(path(reservation_id) + "/:purchase", params=v(VERSION))
    return client.post(path(reservation_id) + "/:purchase", params=v(VERSION), json=body)


@contextmanager
def cleanup(client: httpx.Client) -> Iterator[list[str]]:
    """Reservation ids to delete and numbers to release on the way out (either may already be gone)."""
    owned: list[str] = []
    try:
        yield owned
    finally:
        for item in owned:
            if item.startswith("+"):
                release(client, item)
            else:
                client.delete(path(item), params=v(VERSION))


# The SDK ----------------------------------------------------------------------------------------


def test_sdk_reservation_lifecycle(connection_string: str) -> None:
    with sync_client(connection_string, None) as client:
        first, second, third = client.browse_available_phone_numbers(
            country_code="US", phone_number_type="tollFree").phone_numbers[:3]
        reservation_id = str(uuid.uuid4())
        bought: list[str] = []
        try:
            created = client.create_or_update_reservation(reservation_id=reservation_id)
            assert (created.id, created.status, created.phone_numbers) == (reservation_id, "active", {})
            now = datetime.now(timezone.utc)
            assert now < created.expires_at <= now + timedelta(minutes=15)

            added = client.create_or_update_reservation(reservation_id=reservation_id, numbers_to_add=[first, second])
            assert set(added.phone_numbers) == {first.id, second.id}
            for number in added.phone_numbers.values():
                assert number.status == "reserved"
                assert (number.country_code, number.phone_number_type, number.assignment_type) == (
                    "US", "tollFree", "application")
            assert added.phone_numbers[first.id].phone_number == first.phone_number
            assert added.expires_at >= created.expires_at  # every change pushes the expiry on

            removed = client.create_or_update_reservation(reservation_id=reservation_id, numbers_to_remove=[second.id])
            assert set(removed.phone_numbers) == {first.id}
            got = client.get_reservation(reservation_id)
            assert (got.id, got.status, set(got.phone_numbers), got.expires_at) == (
                reservation_id, "active", {first.id}, removed.expires_at)

            listed = [r for r in client.list_reservations(max_page_size=5) if r.id == reservation_id]
            assert len(listed) == 1
            assert (listed[0].status, listed[0].phone_numbers) == ("active", None)  # ACS lists them without numbers

            client.delete_reservation(reservation_id)
            with pytest.raises(ResourceNotFoundError) as caught:
                client.get_reservation(reservation_id)
            assert caught.value.status_code == 404
            assert (caught.value.error.code, caught.value.error.message) == (
                NOT_FOUND["error"]["code"], NOT_FOUND["error"]["message"])

            # the deleted reservation's numbers are for sale again: buy all three through another one
            reservation_id = str(uuid.uuid4())
            full = client.create_or_update_reservation(reservation_id=reservation_id,
                                                       numbers_to_add=[first, second, third])
            assert {n.status for n in full.phone_numbers.values()} == {"reserved"} and len(full.phone_numbers) == 3
            client.begin_purchase_reservation(reservation_id, polling_interval=0).result()
            bought = [first.phone_number, second.phone_number, third.phone_number]
            for browsed in (first, second, third):
                owned = client.get_purchased_phone_number(browsed.phone_number)
                assert (owned.phone_number_type, owned.assignment_type, owned.country_code) == (
                    "tollFree", "application", "US")
                assert (owned.capabilities.calling, owned.capabilities.sms) == (
                    browsed.capabilities.calling, browsed.capabilities.sms)
                assert owned.cost.amount == browsed.cost.amount
            done = client.get_reservation(reservation_id)
            assert done.status == "completed"
            assert {n.status for n in done.phone_numbers.values()} == {"purchased"}

            for number in bought:
                client.begin_release_phone_number(number, polling_interval=0).result()
                with pytest.raises(ResourceNotFoundError):
                    client.get_purchased_phone_number(number)
        finally:
            release_quietly(client, bought)
            try:
                client.delete_reservation(reservation_id)
            except HttpResponseError:
                pass


async def test_sdk_async_browse_reserve_purchase(connection_string: str) -> None:
    async with async_client(connection_string, None) as client:
        browsed = (await client.browse_available_phone_numbers(
            country_code="US", phone_number_type="geographic", assignment_type="person",
            phone_number_prefixes=["1212"])).phone_numbers[0]
        reservation_id = str(uuid.uuid4())
        reserved = await client.create_or_update_reservation(reservation_id=reservation_id, numbers_to_add=[browsed])
        assert reserved.phone_numbers[browsed.id].status == "reserved"
        poller = await client.begin_purchase_reservation(reservation_id, polling_interval=0)
        await poller.result()
        try:
            owned = await client.get_purchased_phone_number(browsed.phone_number)
            assert (owned.assignment_type, owned.phone_number_type) == ("person", "geographic")
            assert (await client.get_reservation(reservation_id)).status == "completed"
        finally:
            await release_quietly_async(client, [browsed.phone_number])


def test_sdk_partial_success_and_another_resource(connection_string: str, other_connection_string: str) -> None:
    with sync_client(connection_string, None) as mine, sync_client(other_connection_string, None) as theirs:
        browsed = mine.browse_available_phone_numbers(country_code="US", phone_number_type="tollFree")
        taken, free = browsed.phone_numbers[:2]
        their_id, my_id = str(uuid.uuid4()), str(uuid.uuid4())
        try:
            theirs.create_or_update_reservation(reservation_id=their_id, numbers_to_add=[taken])
            partial = mine.create_or_update_reservation(reservation_id=my_id, numbers_to_add=[taken, free])
            assert partial.status == "active"
            assert partial.phone_numbers[free.id].status == "reserved"
            failed = partial.phone_numbers[taken.id]
            assert failed.status == "error"
            assert (failed.error.code, failed.error.message) == (FAILED["code"], FAILED["message"])
            assert set(mine.get_reservation(my_id).phone_numbers) == {free.id}  # the failure is not kept

            # another resource's reservation does not exist for me, whatever I try
            for attempt in (
                lambda: mine.get_reservation(their_id),
                lambda: mine.delete_reservation(their_id),
                lambda: mine.create_or_update_reservation(reservation_id=their_id),
                lambda: mine.begin_purchase_reservation(their_id, polling_interval=0),
            ):
                with pytest.raises(ResourceNotFoundError) as caught:
                    attempt()
                assert caught.value.error.code == "ReservationNotFound"
            assert their_id not in {r.id for r in mine.list_reservations()}
            assert my_id not in {r.id for r in theirs.list_reservations()}
            assert set(theirs.get_reservation(their_id).phone_numbers) == {taken.id}
        finally:
            theirs.delete_reservation(their_id)
            mine.delete_reservation(my_id)


# Raw HTTP: statuses, headers and bodies ------------------------------------------------------


def test_wire_lifecycle(http: httpx.Client, spec: ApiSchema) -> None:
    reservation_id = str(uuid.uuid4())
    with cleanup(http) as owned:
        owned.append(reservation_id)
        # create: 201, Location without api-version (as recorded)
        created = patch(http, reservation_id, {})
        assert created.status_code == 201, created.text
        assert created.headers["Location"] == f"/availablePhoneNumbers/reservations/{reservation_id}"
        body = spec.check(created, RESERVATION)
        assert list(body) == ["id", "expiresAt", "phoneNumbers", "status"]  # the recorded order
        assert (body["id"], body["phoneNumbers"], body["status"]) == (reservation_id, {}, "active")

        # the same PATCH again: an update, 200, no Location
        again = patch(http, reservation_id, {})
        assert again.status_code == 200 and "Location" not in again.headers
        assert moment(spec.check(again, RESERVATION)["expiresAt"]) >= moment(body["expiresAt"])

        # add two browsed numbers as the SDK sends them, and one only by its id
        first, second, third, fourth = browse(http)[:4]
        added = patch(http, reservation_id, {first["id"]: as_request(first), second["id"]: as_request(second),
                                             third["id"]: {}})
        assert added.status_code == 200, added.text
        numbers = spec.check(added, RESERVATION)["phoneNumbers"]
        assert set(numbers) == {first["id"], second["id"], third["id"]}
        assert numbers[first["id"]] == {**first, "status": "reserved"}
        assert numbers[third["id"]]["status"] == "reserved"

        # unknown, and asked as the wrong type: 207, reported with the example's error, and not kept
        wrong_type = {**as_request(fourth), "phoneNumberType": "geographic"}
        partial = patch(http, reservation_id, {UNKNOWN_ID: {}, second["id"]: None, fourth["id"]: wrong_type,
                                               first["id"]: {**as_request(first), "phoneNumberType": "geographic"}})
        assert partial.status_code == 207, partial.text
        numbers = spec.check(partial, RESERVATION)["phoneNumbers"]
        for failed in (UNKNOWN_ID, fourth["id"]):
            assert numbers[failed]["status"] == "error" and numbers[failed]["error"] == FAILED
            assert numbers[failed]["phoneNumber"] == "+" + failed
        assert numbers[UNKNOWN_ID]["countryCode"] == "US"
        assert numbers[first["id"]]["status"] == "reserved"  # already in: left as it is, whatever was asked
        assert second["id"] not in numbers  # removed
        got = http.get(path(reservation_id), params=v(VERSION))
        assert set(spec.check(got, RESERVATION)["phoneNumbers"]) == {first["id"], third["id"]}

        # an upper-case id is the same reservation
        same = patch(http, reservation_id.upper(), {})
        assert same.status_code == 200 and same.json()["id"] == reservation_id

        # purchase: 202, no body, the recorded headers
        started = purchase(http, reservation_id)  # the body is optional
        assert started.status_code == 202, started.text
        spec.check(started, PURCHASE)
        assert started.content == b""
        operation_id = f"reservationPurchase_{reservation_id}"
        assert started.headers["operation-id"] == operation_id
        assert started.headers["reservation-purchase-id"] == reservation_id
        assert started.headers["Operation-Location"] == f"/phoneNumbers/operations/{operation_id}?api-version={VERSION}"
        assert "Location" not in started.headers
        owned += [first["phoneNumber"], third["phoneNumber"]]
        for response in poll(http, started.headers["Operation-Location"], VERSION):
            operation = spec.check(response, OPERATION)
            assert (operation["operationType"], operation["id"], operation["resourceLocation"]) == (
                "reservationPurchase", operation_id, None)
            assert response.headers["operation-id"] == operation_id
            assert response.headers["reservation-purchase-id"] == reservation_id
            assert response.headers["Operation-Location"] == started.headers["Operation-Location"]
        assert operation["status"] == "succeeded"

        # a repeated purchase answers with the same operation
        assert purchase(http, reservation_id, {"agreeToNotResell": False}).headers["operation-id"] == operation_id

        done = spec.check(http.get(path(reservation_id), params=v(VERSION)), RESERVATION)
        assert done["status"] == "completed"
        assert {n["status"] for n in done["phoneNumbers"].values()} == {"purchased"}
        owned_number = http.get(f"/phoneNumbers/{first['phoneNumber']}", params=v(VERSION)).json()
        assert (owned_number["capabilities"], owned_number["cost"]) == (first["capabilities"], first["cost"])

        # a completed reservation can be neither changed nor deleted
        for refused in (patch(http, reservation_id, {}), http.delete(path(reservation_id), params=v(VERSION))):
            spec.check(refused, RESERVATION)
            assert assert_acs_error(refused, 409, "ReservationNotActive")


def test_delete_and_not_found(http: httpx.Client, spec: ApiSchema) -> None:
    reservation_id = str(uuid.uuid4())
    number = browse(http)[0]
    assert patch(http, reservation_id, {number["id"]: as_request(number)}).status_code == 201
    deleted = http.delete(path(reservation_id), params=v(VERSION))
    assert deleted.status_code == 204 and deleted.content == b""
    spec.check(deleted, RESERVATION)
    for response in (
        http.get(path(reservation_id), params=v(VERSION)),
        http.delete(path(reservation_id), params=v(VERSION)),
        purchase(http, reservation_id, {}),
        http.get(path("not-a-uuid"), params=v(VERSION)),
        purchase(http, "not-a-uuid", {}),
    ):
        assert response.status_code == 404
        assert response.json() == NOT_FOUND  # as recorded: no target
    # its number went back on sale
    again = str(uuid.uuid4())
    with cleanup(http) as owned:
        owned.append(again)
        assert patch(http, again, {number["id"]: {}}).json()["phoneNumbers"][number["id"]]["status"] == "reserved"


def test_list_pages(http: httpx.Client, spec: ApiSchema) -> None:
    ids = [str(uuid.uuid4()) for _ in range(3)]
    with cleanup(http) as owned:
        for reservation_id in ids:
            owned.append(reservation_id)
            assert patch(http, reservation_id, {}).status_code == 201
        first = http.get(RESERVATIONS, params=v(VERSION, maxPageSize=1))
        page = spec.check(first, RESERVATIONS)
        seen = [r["id"] for r in page["reservations"]]
        link = page.get("nextLink")
        while link:
            parts = urlsplit(link)
            assert not parts.scheme and parts.path == RESERVATIONS
            assert dict(parse_qsl(parts.query))["maxPageSize"] == "1"
            page = spec.check(http.get(link), RESERVATIONS)
            assert len(page["reservations"]) == 1
            assert all(set(r) == {"id", "expiresAt", "status"} for r in page["reservations"])
            seen += [r["id"] for r in page["reservations"]]
            link = page.get("nextLink")
            assert len(seen) < 10_000
        assert "nextLink" in page and page["nextLink"] is None  # the last page, as the service ends it
        assert len(seen) == len(set(seen))
        assert [i for i in seen if i in ids] == ids  # oldest first
    assert_acs_error(http.get(RESERVATIONS, params=v(VERSION, maxPageSize=0)), 400, "BadRequest")


def test_purchase_rules(http: httpx.Client, spec: ApiSchema) -> None:
    with cleanup(http) as owned:
        # nothing to buy: refused before the agreement is looked at (recorded 2025-04-25)
        empty = str(uuid.uuid4())
        owned.append(empty)
        patch(http, empty, {})
        for agreed in (True, False):
            response = purchase(http, empty, {"agreeToNotResell": agreed})
            spec.check(response, PURCHASE)
            assert_acs_error(response, 400, "ReservationIsEmpty")
        assert http.get(path(empty), params=v(VERSION)).json()["status"] == "active"

        # France: numbers may not be resold; without the agreement, the 400 a search purchase gets
        french = browse(http, TOLL_FREE, "FR")[0]
        assert french["isAgreementToNotResellRequired"] is True
        reservation_id = str(uuid.uuid4())
        owned.append(reservation_id)
        reserved = patch(http, reservation_id, {french["id"]: as_request(french)})
        assert reserved.json()["phoneNumbers"][french["id"]]["isAgreementToNotResellRequired"] is True
        refused = purchase(http, reservation_id, {"agreeToNotResell": False})
        error = assert_acs_error(refused, 400, "BadRequest")
        assert error["message"] == "Do not resell agreement was not provided and it is required for this purchase."
        assert_acs_error(purchase(http, reservation_id, {"agreeToNotResell": "yes"}), 400, "BadRequest")
        started = purchase(http, reservation_id, {"agreeToNotResell": True})
        assert started.status_code == 202, started.text
        owned.append(french["phoneNumber"])
        assert poll(http, started.headers["Operation-Location"], VERSION)[-1].json()["status"] == "succeeded"
        assert http.get(f"/phoneNumbers/{french['phoneNumber']}", params=v(VERSION)).status_code == 200
        assert_acs_error(patch(http, reservation_id, {}), 409, "ReservationNotActive")


@pytest.mark.parametrize("numbers, target", [
    ([], "phoneNumbers"),
    ({"12345678901": 5}, "phoneNumbers"),
    ({"12-3": {}}, "phoneNumbers"),
    ({"": {}}, "phoneNumbers"),
    ({"18005550100": {"phoneNumber": "+18005550199"}}, "phoneNumber"),
    ({"18005550100": {"phoneNumberType": "landline"}}, "phoneNumberType"),
    ({"18005550100": {"assignmentType": "robot"}}, "assignmentType"),
    ({"18005550100": {"capabilities": {"calling": "loud", "sms": "none"}}}, "capabilities.calling"),
    ({"18005550100": {"countryCode": 1}}, "countryCode"),
])
def test_invalid_requests(http: httpx.Client, spec: ApiSchema, numbers: Any, target: str) -> None:
    reservation_id = str(uuid.uuid4())
    response = patch(http, reservation_id, numbers)
    spec.check(response, RESERVATION)
    assert assert_acs_error(response, 400, "BadRequest")["target"] == target
    assert http.get(path(reservation_id), params=v(VERSION)).status_code == 404  # nothing was created


def test_invalid_reservation_id_and_body(http: httpx.Client) -> None:
    assert assert_acs_error(patch(http, "not-a-uuid", {}), 400, "BadRequest")["target"] == "reservationId"
    response = http.patch(path(str(uuid.uuid4())), params=v(VERSION), content=b"[]", headers=MERGE_PATCH)
    assert_acs_error(response, 400, "BadRequest")
    mobile = patch(http, str(uuid.uuid4()), {"447400123456": {"phoneNumberType": "mobile"}}, "2025-04-01")
    assert assert_acs_error(mobile, 400, "BadRequest")["target"] == "phoneNumberType"


@pytest.mark.parametrize("version", ["2022-12-01", "2025-02-11"])
def test_versions_before_reservations(http: httpx.Client, version: str) -> None:
    reservation_id = str(uuid.uuid4())
    for response in (
        patch(http, reservation_id, {}, version),
        http.get(path(reservation_id), params=v(version)),
        http.get(RESERVATIONS, params=v(version)),
        http.delete(path(reservation_id), params=v(version)),
        http.post(path(reservation_id) + "/:purchase", params=v(version), json={}),
    ):
        assert_acs_error(response, 404, "NotFound")


def test_two_resources_never_share_a_number(http: httpx.Client, other_http: httpx.Client, spec: ApiSchema) -> None:
    mine, theirs = str(uuid.uuid4()), str(uuid.uuid4())
    number = browse(http)[0]
    with cleanup(http) as my_things, cleanup(other_http) as their_things:
        my_things.append(mine)
        their_things.append(theirs)
        assert patch(http, mine, {number["id"]: {}}).status_code == 201
        refused = patch(other_http, theirs, {number["id"]: as_request(number)})
        assert refused.status_code == 207
        assert spec.check(refused, RESERVATION)["phoneNumbers"][number["id"]]["error"] == FAILED
        assert other_http.get(path(mine), params=v(VERSION)).json() == NOT_FOUND
        assert patch(other_http, mine, {}).json() == NOT_FOUND

        http.delete(path(mine), params=v(VERSION))  # released: now theirs for the asking
        taken = patch(other_http, theirs, {number["id"]: {}})
        assert taken.status_code == 200 and taken.json()["phoneNumbers"][number["id"]]["status"] == "reserved"
        assert patch(http, mine, {number["id"]: {}}).status_code == 207


# A small private inventory: reserved numbers are nobody else's --------------------------------


def search_604(client: httpx.Client) -> dict[str, Any]:
    started = start_search(client, VERSION, "CA", 1, {
        "phoneNumberType": "geographic", "assignmentType": "application",
        "capabilities": {"calling": "inbound+outbound", "sms": "none"}, "areaCode": "604"})
    poll(client, started.headers["Operation-Location"], VERSION)
    return client.get(started.headers["Location"]).json()


def test_reserved_numbers_go_to_no_search_browse_or_other_reservation(
    make_server: Callable[..., ServerProcess], spec: ApiSchema
) -> None:
    private = make_server("--inventory-size", "5", "--operation-latency", "1")
    prefix = {"phoneNumberType": "geographic", "phoneNumberPrefixes": ["1604"]}
    with raw_client(private) as client:
        vancouver = browse(client, prefix, "CA")
        assert len(vancouver) == 5
        reservation_id = str(uuid.uuid4())
        everything = {n["id"]: as_request(n) for n in vancouver}
        assert patch(client, reservation_id, everything).status_code == 201

        assert browse(client, prefix, "CA") == []
        found = search_604(client)
        assert (found["phoneNumbers"], found["error"]) == ([], "OutOfStock")
        other = patch(client, str(uuid.uuid4()), {n: {} for n in everything})
        assert other.status_code == 207
        assert {n["status"] for n in spec.check(other, RESERVATION)["phoneNumbers"].values()} == {"error"}

        # one removed: that one, and only that one, is for sale again
        given_back = sorted(everything)[0]
        patch(client, reservation_id, {given_back: None})
        assert [n["id"] for n in browse(client, prefix, "CA")] == [given_back]
        found = search_604(client)
        assert found["phoneNumbers"] == ["+" + given_back]
        client.delete(f"/phoneNumbers/operations/search_{found['searchId']}", params=v(VERSION))

        client.delete(path(reservation_id), params=v(VERSION))
        assert len(browse(client, prefix, "CA")) == 5

        # a purchase in progress: the reservation is `submitted` until its operation finishes
        bought = str(uuid.uuid4())
        patch(client, bought, {given_back: {}})
        started = purchase(client, bought, {})
        assert started.status_code == 202
        submitted = spec.check(client.get(path(bought), params=v(VERSION)), RESERVATION)
        assert submitted["status"] == "submitted"
        assert submitted["phoneNumbers"][given_back]["status"] == "reserved"
        assert_acs_error(client.delete(path(bought), params=v(VERSION)), 409, "ReservationNotActive")
        statuses = [r.json()["status"] for r in poll(client, started.headers["Operation-Location"], VERSION)]
        assert statuses[0] in ("notStarted", "running") and statuses[-1] == "succeeded"
        done = spec.check(client.get(path(bought), params=v(VERSION)), RESERVATION)
        assert done["status"] == "completed" and done["phoneNumbers"][given_back]["status"] == "purchased"
        release(client, "+" + given_back)


# Wire shapes of every reservation status -------------------------------------------------------


def test_every_status_matches_the_schema(spec: ApiSchema) -> None:
    from numberpool.api import wire
    from numberpool.api.versions import ApiVersion
    from numberpool.core.model import AvailableNumber, Cost, Reservation

    created = datetime(2025, 6, 18, 22, 18, 8, tzinfo=timezone.utc)
    number = AvailableNumber("+18002000001", "US", NumberType.TOLL_FREE, AssignmentType.APPLICATION,
                             Capabilities(Direction.BOTH, Direction.BOTH), Cost(2.0), False)
    unknown = reservations.FailedNumber("+19999999999", "US", NumberType.GEOGRAPHIC, AssignmentType.APPLICATION,
                                        Capabilities(Direction.NONE, Direction.NONE), None, None)
    active = Reservation(str(uuid.uuid4()), "res", "active", created, created + timedelta(minutes=15), None, [number])
    bought = Reservation(active.id, "res", "completed", created, active.expires_at, created + timedelta(seconds=2),
                         [number])
    cases = [
        (active, created, "active", "reserved"),
        (active, created + timedelta(minutes=15), "expired", "expired"),
        (bought, created + timedelta(seconds=1), "submitted", "reserved"),
        (bought, created + timedelta(seconds=2), "completed", "purchased"),
    ]
    for version in ("2025-04-01", VERSION):
        for reservation, now, status, number_status in cases:
            body = wire.reservation(reservation, now, ApiVersion(version), [unknown])
            spec.validate(body, RESERVATION, "get", 200)
            assert body["status"] == status
            assert body["phoneNumbers"][number.id]["status"] == number_status
            assert body["phoneNumbers"][unknown.id]["error"] == FAILED
            listed = wire.reservation(reservation, now, ApiVersion(version), with_numbers=False)
            assert list(listed) == ["id", "expiresAt", "status"]
    assert "isAgreementToNotResellRequired" not in wire.available_number(number, "available",
                                                                         ApiVersion("2024-04-30-preview"))


# Store level: expiry, sweep and concurrency on both engines ------------------------------------

CALLING = Capabilities(Direction.BOTH, Direction.NONE)
TEN_MINUTES = 10 * 60


def context(store: Store) -> Context:
    return Context(store, Settings(hold_minutes=10), FrozenClock())


async def free_us_numbers(store: Store, area_code: str, count: int) -> list[str]:
    async with store.read() as tx:
        return await tx.free_numbers("US", NumberType.GEOGRAPHIC, area_code, "+", "~", count, T0)


def adding(numbers: list[str]) -> dict[str, NumberRequest | None]:
    return {n: NumberRequest() for n in numbers}


async def assert_consistent(store: Store) -> None:
    assert await store.violations() == []


@pytest.mark.asyncio(loop_scope="session")
async def test_expiry_is_pushed_on_by_changes_up_to_two_hours(store: Store) -> None:
    await seed_demo(store, 20)
    ctx = context(store)
    numbers = await free_us_numbers(store, "425", 12)
    rid = str(uuid.uuid4())
    created = await reservations.create_or_update(ctx, "res", rid, {})
    assert created.created and created.reservation.expires_at.timestamp() == T0 + 15 * 60
    for step in range(1, 12):  # a change every 10 minutes: 15 minutes after each, but never past 2 hours
        ctx.clock.advance(TEN_MINUTES)
        changed = await reservations.create_or_update(ctx, "res", rid, adding(numbers[step - 1 : step]))
        assert not changed.created and not changed.failed
        expected = min(T0 + step * TEN_MINUTES + 15 * 60, T0 + 2 * 3600)
        assert changed.reservation.expires_at.timestamp() == expected
        # every number of the reservation is held until its new expiry
        rows = await fetch_holds(store, rid)
        assert rows and all(until == expected for until in rows)
    await assert_consistent(store)
    ctx.clock.advance(TEN_MINUTES)  # T0 + 120 min: the 2-hour cap
    expired = await reservations.get_reservation(ctx, "res", rid)
    assert expired.status_at(ctx.clock.now()).value == "expired"


async def fetch_holds(store: Store, holder: str) -> list[float]:
    async with store.transaction() as tx:
        found = await tx.get_reservation(holder)
        assert found is not None
        return [
            number.hold_expires_at.timestamp()
            for number in [await tx.get_number(n.phone_number) for n in found.phone_numbers]
            if number is not None and number.hold_expires_at is not None and number.holder == holder
        ]


@pytest.mark.asyncio(loop_scope="session")
async def test_expired_reservation_releases_its_numbers(engine: str, url: str, store: Store) -> None:
    await seed_demo(store, 6)
    ctx = context(store)
    numbers = await free_us_numbers(store, "206", 6)
    rid = str(uuid.uuid4())
    await reservations.create_or_update(ctx, "res", rid, adding(numbers[:3]))
    other = str(uuid.uuid4())
    await reservations.create_or_update(ctx, "res", other, adding(numbers[3:]))

    # while active, a search finds nothing in 206 (all six are reserved)
    request = search.SearchRequest(NumberType.GEOGRAPHIC, AssignmentType.APPLICATION, CALLING, "206", 6)
    assert (await search.start_search(ctx, "res", "US", request)).phone_numbers == []

    ctx.clock.advance(15 * 60)  # both lapse; nothing has swept them yet
    assert (await reservations.get_reservation(ctx, "res", rid)).status_at(ctx.clock.now()).value == "expired"
    await assert_consistent(store)  # reserved by an expired reservation: allowed until the sweep
    # lazily: a lapsed reservation's numbers are free for anyone at once
    taken = await search.start_search(ctx, "res", "US", search.SearchRequest(
        NumberType.GEOGRAPHIC, AssignmentType.APPLICATION, CALLING, "206", 2))
    assert sorted(taken.phone_numbers) == sorted(numbers)[:2]
    await assert_consistent(store)

    # touching an expired reservation: refused with 409, and its numbers go back for good
    with pytest.raises(AcsError) as caught:
        await reservations.create_or_update(ctx, "res", rid, {})
    assert (caught.value.status, caught.value.code) == (409, "ReservationNotActive")
    with pytest.raises(AcsError) as caught:
        await reservations.purchase_reservation(ctx, "res", rid, True)
    assert caught.value.status == 409
    with pytest.raises(AcsError) as caught:
        await reservations.delete_reservation(ctx, "res", rid)
    assert caught.value.status == 409
    assert await fetch(url, f"SELECT status FROM reservations WHERE id = '{rid}'") == [("expired",)]
    shown = await reservations.get_reservation(ctx, "res", rid)
    assert len(shown.phone_numbers) == 3  # the record of what it held stays

    # the search that ran short returned every lapsed hold of its slice (area code 206), the
    # other reservation's too, as the sweep would have; the sweep still marks that one expired
    assert await store.sweep_expired(ctx.clock.epoch()) == 0
    assert await fetch(url, f"SELECT status FROM reservations WHERE id = '{other}'") == [("expired",)]
    assert await fetch(url, "SELECT count(*) FROM numbers WHERE state = 'reserved'") == [(0,)]
    await assert_consistent(store)

    # a month later the sweep forgets both
    ctx.clock.advance(31 * 24 * 3600)
    await store.sweep_expired(ctx.clock.epoch())
    for gone in (rid, other):
        with pytest.raises(AcsError) as caught:
            await reservations.get_reservation(ctx, "res", gone)
        assert caught.value.code == "ReservationNotFound"
    assert await fetch(url, "SELECT count(*) FROM reservation_numbers") == [(0,)]


@pytest.mark.asyncio(loop_scope="session")
async def test_lapsed_numbers_can_be_reserved_again(store: Store) -> None:
    await seed_demo(store, 4)
    ctx = context(store)
    numbers = await free_us_numbers(store, "212", 4)
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    await reservations.create_or_update(ctx, "res", first, adding(numbers))
    ctx.clock.advance(TEN_MINUTES)
    refused = await reservations.create_or_update(ctx, "other", second, adding(numbers))
    assert [f.phone_number for f in refused.failed] == sorted(numbers)
    assert refused.reservation.phone_numbers == []
    ctx.clock.advance(5 * 60)  # the first lapses; the second (created 5 minutes ago) is active
    retaken = await reservations.create_or_update(ctx, "other", second, adding(numbers))
    assert retaken.failed == [] and len(retaken.reservation.phone_numbers) == 4
    await assert_consistent(store)
    bought = await reservations.purchase_reservation(ctx, "other", second, False)
    assert bought.outcome.value == "succeeded"
    async with store.transaction() as tx:
        owners = {(await tx.get_number(n)).owner for n in numbers}  # type: ignore[union-attr]
    assert owners == {"other"}
    await assert_consistent(store)


@pytest.mark.asyncio(loop_scope="session")
async def test_concurrent_reservations_never_share_a_number(engine: str, url: str) -> None:
    opened = await open_store(url, max_size=12)
    try:
        await seed_demo(opened, 12)
        ctx = context(opened)
        numbers = await free_us_numbers(opened, "415", 12)
        ids = [str(uuid.uuid4()) for _ in range(4)]

        async def reserver(i: int) -> None:
            # overlapping, differently ordered asks; two at a time create or change the same reservation
            wanted = numbers[i % 4 :] if i % 2 else list(reversed(numbers))
            await reservations.create_or_update(ctx, f"res{i % 2}", ids[i % 4], adding(wanted))

        async def searcher() -> None:
            request = search.SearchRequest(NumberType.GEOGRAPHIC, AssignmentType.APPLICATION, CALLING, "415", 3)
            await search.start_search(ctx, "res9", "US", request)

        await asyncio.gather(*(reserver(i) for i in range(8)), searcher(), searcher())
        holders = await fetch(url, "SELECT phone_number, holder FROM numbers WHERE holder IS NOT NULL")
        assert len(holders) == 12  # nothing free is left over, nothing was double-booked
        assert len(Counter(number for number, _ in holders)) == 12
        listed = await fetch(url, "SELECT phone_number, count(*) FROM reservation_numbers GROUP BY phone_number")
        assert all(count == 1 for _, count in listed)
        await assert_consistent(opened)
    finally:
        await opened.close()
