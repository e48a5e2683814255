"""The suite-wide schema check (tests/support/validation.py) is installed, and it catches mismatches."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.support import validation
from tests.support.acs import US_TOLL_FREE, cancel, poll, start_search, v
from tests.support.reference import require_reference
from tests.support.schema import SchemaMismatch
from tests.support.sdk import async_client, sync_client

JSON = {"content-type": "application/json; charset=utf-8"}
COUNTRIES = "/availablePhoneNumbers/countries"

require_reference(module=True)  # without the official files the hooks have nothing to check against


def test_raw_http_responses_are_checked(http: httpx.Client, other_http: httpx.Client) -> None:
    before = len(validation.checked)
    http.get(COUNTRIES, params=v("2025-06-01"))
    other_http.get("/phoneNumbers/+14255550100", params=v("2022-12-01"))  # a 404: the error shape
    http.get(COUNTRIES, params=v("2024-03-01"))  # no local spec file: not checked
    assert validation.checked[before:] == [
        ("GET", COUNTRIES, 200), ("GET", "/phoneNumbers/{phoneNumber}", 404)]


def test_sdk_responses_are_checked(connection_string: str) -> None:
    before = len(validation.checked)
    with sync_client(connection_string, "2022-12-01") as client:
        list(client.list_available_countries())
    assert ("GET", COUNTRIES, 200) in validation.checked[before:]


async def test_async_sdk_responses_are_checked_including_empty_202s(connection_string: str, http: httpx.Client) -> None:
    before = len(validation.checked)
    async with async_client(connection_string, None) as client:
        poller = await client.begin_search_available_phone_numbers(
            "US", "tollFree", "application", {"calling": "inbound+outbound", "sms": "none"}, polling_interval=0)
        result = await poller.result()
    cancel(http, result.search_id)
    seen = validation.checked[before:]
    assert ("POST", "/availablePhoneNumbers/countries/{countryCode}/:search", 202) in seen
    assert ("GET", "/availablePhoneNumbers/searchResults/{searchId}", 200) in seen


def test_a_mismatch_fails_the_call(http: httpx.Client) -> None:
    url = "https://127.0.0.1/availablePhoneNumbers/countries?api-version=2022-12-01"
    good = {"countries": [{"countryCode": "US", "localizedName": "United States"}]}
    validation.check("GET", url, 200, JSON, json.dumps(good).encode())
    with pytest.raises(SchemaMismatch, match="localizedName"):
        validation.check("GET", url, 200, JSON, json.dumps({"countries": [{"countryCode": "US"}]}).encode())
    with pytest.raises(SchemaMismatch, match="unexpected"):  # a field of another api-version
        validation.check("GET", url, 200, JSON, json.dumps({**good, "extra": 1}).encode())
    with pytest.raises(SchemaMismatch, match="declares no 201"):
        validation.check("GET", url, 201, JSON, b"{}")
    with pytest.raises(SchemaMismatch, match="Content-Type"):
        validation.check("GET", url, 200, {"content-type": "text/plain"}, b"{}")


def test_the_recorded_deviations_are_allowed_and_nothing_else() -> None:
    search = "https://h/availablePhoneNumbers/countries/US/:search?api-version=2025-06-01"
    validation.check("POST", search, 202, {}, b"")
    with pytest.raises(SchemaMismatch, match="no body"):
        validation.check("POST", search, 202, JSON, b"{}")
    caps = "https://h/phoneNumbers/+14255550100/capabilities?api-version=2025-06-01"
    validation.check("PATCH", caps, 202, JSON, b'{"capabilitiesUpdateId": "x"}')
    with pytest.raises(SchemaMismatch, match="capabilitiesUpdateId"):
        validation.check("PATCH", caps, 202, JSON, b'{"id": "x"}')
    operation = "https://h/phoneNumbers/operations/purchase_1?api-version=2025-06-01"
    body = {"operationType": "purchase", "status": "succeeded", "createdDateTime": "2025-01-01T00:00:00+00:00",
            "id": "purchase_1", "resourceLocation": None}
    validation.check("GET", operation, 200, JSON, json.dumps(body).encode())


def test_unknown_routes_methods_and_versions_are_not_checked() -> None:
    for method, url in [("GET", "https://h/nowhere?api-version=2025-06-01"),
                        ("PUT", "https://h/phoneNumbers?api-version=2025-06-01"),
                        ("GET", "https://h/phoneNumbers?api-version=2099-01-01"),
                        ("GET", "https://h/phoneNumbers")]:
        validation.check(method, url, 200, {"content-type": "text/plain"}, b"anything")


def test_the_hook_reads_streamed_bodies(http: httpx.Client) -> None:
    started = start_search(http, "2025-06-01", plan=US_TOLL_FREE)
    try:
        final = poll(http, started.headers["Operation-Location"], "2025-06-01")[-1]
        assert final.json()["status"] == "succeeded"
    finally:
        cancel(http, started.headers["search-id"])
