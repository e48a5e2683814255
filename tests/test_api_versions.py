"""Every served api-version, over raw HTTP: the common operations, in that version's shapes.

Responses to 2022-12-01 and 2025-06-01 (whose official OpenAPI files are in the reference set)
are validated against their schema by the suite-wide hook (tests/support/validation.py). For the
other versions the fields that differ between versions are checked here one by one, against
`numberpool.api.versions.FEATURES`, which encodes what each version's spec file defines.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from numberpool.api.versions import AGREE, ALIASES, CONSENT, FEATURES, NEWEST, SUPPORTED, Features
from tests.support.acs import MERGE_PATCH, US_TOLL_FREE, assert_acs_error, cancel, poll, release, start_search, v
from tests.support.schema import ApiSchema

LOCAL_SPECS = ("2022-12-01", "2025-06-01")
COUNTRIES = "/availablePhoneNumbers/countries"
OPERATOR_INFORMATION = "/operatorInformation/:search"
FR_TOLL_FREE = {"phoneNumberType": "tollFree", "assignmentType": "application",
                "capabilities": {"calling": "outbound", "sms": "none"}}
IE_MOBILE = {"phoneNumberType": "mobile", "assignmentType": "application",
             "capabilities": {"calling": "inbound+outbound", "sms": "inbound+outbound"}}


@pytest.fixture(params=SUPPORTED)
def version(request: pytest.FixtureRequest) -> str:
    return request.param


def features(version: str) -> Features:
    return FEATURES[version]


def searched(http: httpx.Client, version: str, country: str = "US", plan: dict[str, Any] | None = None,
             quantity: int = 1) -> dict[str, Any]:
    started = start_search(http, version, country, quantity, plan)
    poll(http, started.headers["Operation-Location"], version)
    result = http.get(started.headers["Location"])
    assert result.status_code == 200, result.text
    return result.json()


def buy(http: httpx.Client, version: str, search_id: str, **body: Any) -> dict[str, Any]:
    """Purchase and wait; the final operation."""
    bought = http.post("/availablePhoneNumbers/:purchase", params=v(version), json={"searchId": search_id, **body})
    assert bought.status_code == 202, bought.text
    return poll(http, bought.headers["Operation-Location"], version)[-1].json()


# ---------------------------------------------------------------- the table itself


def test_the_table_lists_every_published_version_and_the_sdk_ones() -> None:
    from azure.communication.phonenumbers._api_versions import ApiVersion as SdkVersions

    assert {member.value for member in SdkVersions} <= set(SUPPORTED)
    assert SUPPORTED[0] == "2021-03-07" and NEWEST == "2025-06-01"
    assert list(SUPPORTED) == sorted(SUPPORTED, key=lambda s: (s[:10], "preview" not in s))


@pytest.mark.parametrize("version", LOCAL_SPECS)
def test_the_table_agrees_with_the_local_spec_files(version: str) -> None:
    doc = ApiSchema(version).doc
    defs, paths, f = doc["definitions"], doc["paths"], features(version)
    assert ("/availablePhoneNumbers/countries" in paths) is f.catalog
    assert ("mobile" in defs["PhoneNumberSearchRequest"]["properties"]["phoneNumberType"]["enum"]) is f.mobile
    result = defs["PhoneNumberSearchResult"]["properties"]
    assert ("error" in result and "errorCode" in result) is f.search_errors
    assert ("isAgreementToNotResellRequired" in result) is f.agreement_flag
    purchase = set(defs["PhoneNumberPurchaseRequest"]["properties"]) - {"searchId"}
    assert purchase == ({f.consent_field} if f.consent_field else set())
    assert ("operatorId" in defs["PurchasedPhoneNumber"]["properties"]) is f.operator_fields
    assert (OPERATOR_INFORMATION in paths) is (f.operator_information is not None)
    if f.operator_information:
        has_formats = "nationalFormat" in defs["OperatorInformation"]["properties"]
        assert has_formats is (f.operator_information == "formats")
    assert ("/availablePhoneNumbers/reservations" in paths) is f.reservations


# ---------------------------------------------------------------- every version


def test_unknown_versions_are_refused_as_the_service_does(http: httpx.Client) -> None:
    """400 InvalidApiVersion, naming the request URI (without its query) and the version, no target,
    `innerError: null` (.NET ReleaseUnauthorizedNumber.json, azure-sdk-assets, 2024-01-16)."""
    for raw in ("2020-01-01", "2022-12-01-preview", "2025-06-01 ", "latest"):
        response = http.get("/phoneNumbers", params=v(raw))
        error = assert_acs_error(response, 400, "InvalidApiVersion")
        assert error == {
            "code": "InvalidApiVersion",
            "message": f"The HTTP resource that matches the request URI '{response.request.url.copy_with(query=None)}' "
                       f"does not support the API version '{raw}'.",
            "innerError": None,
        }


@pytest.mark.parametrize("alias", sorted(ALIASES))
def test_versions_without_an_openapi_file_are_served_with_the_nearest_shapes(http: httpx.Client, alias: str) -> None:
    """Versions the service accepts (SDK builds send them) answer as their published neighbour."""
    shape = FEATURES[ALIASES[alias]]
    response = http.get("/phoneNumbers", params=v(alias))
    assert response.status_code == 200, response.text
    assert alias in response.headers["api-supported-versions"].split(", ")
    reservations = http.get("/availablePhoneNumbers/reservations", params=v(alias))
    assert (reservations.status_code == 200) is shape.reservations, reservations.text


def test_catalog_where_the_version_has_one(http: httpx.Client, version: str) -> None:
    routes = (COUNTRIES, f"{COUNTRIES}/US/offerings", f"{COUNTRIES}/US/localities",
              f"{COUNTRIES}/US/areaCodes?phoneNumberType=tollFree")
    for route in routes:
        path, _, query = route.partition("?")
        params = v(version, **dict([query.split("=")])) if query else v(version)
        response = http.get(path, params=params)
        if features(version).catalog:
            assert response.status_code == 200, response.text
        else:
            error = assert_acs_error(response, 404, "NotFound")
            assert version in error["message"] and "2022-12-01" in error["message"]
    if features(version).catalog:
        offerings = http.get(f"{COUNTRIES}/IE/offerings", params=v(version)).json()["phoneNumberOfferings"]
        types = {o["phoneNumberType"] for o in offerings}
        assert types == ({"geographic", "tollFree", "mobile"} if features(version).mobile else {"geographic", "tollFree"})


def test_search_purchase_get_list_update_release(http: httpx.Client, version: str) -> None:
    f = features(version)
    result = searched(http, version, quantity=2)
    numbers = result["phoneNumbers"]
    try:
        assert len(numbers) == 2
        assert ("isAgreementToNotResellRequired" in result) is f.agreement_flag
        assert ("error" in result) is f.search_errors
        assert "errorCode" not in result

        final = buy(http, version, result["searchId"])
        assert (final["operationType"], final["status"]) == ("purchase", "succeeded")

        number = numbers[0]
        owned = http.get(f"/phoneNumbers/{number}", params=v(version))
        assert owned.status_code == 200, owned.text
        body = owned.json()
        assert (body["phoneNumber"], body["phoneNumberType"], body["assignmentType"]) == (number, "tollFree", "application")
        if f.operator_fields:
            assert (body["operatorId"], body["operatorName"], body["phoneNumberSource"]) == (
                "numberpool", "numberpool", "cloud")
        else:
            assert not {"operatorId", "operatorName", "phoneNumberSource"} & set(body)

        listed = http.get("/phoneNumbers", params=v(version, top=1000)).json()["phoneNumbers"]
        assert set(numbers) <= {n["phoneNumber"] for n in listed}
        assert all(("operatorId" in n) is f.operator_fields for n in listed)

        patched = http.patch(f"/phoneNumbers/{number}/capabilities", params=v(version),
                             json={"sms": "inbound+outbound"}, headers=MERGE_PATCH)
        assert patched.status_code == 202, patched.text
        assert poll(http, patched.headers["Operation-Location"], version)[-1].json()["status"] == "succeeded"
        updated = http.get(patched.headers["Location"]).json()
        assert updated["capabilities"] == {"calling": "inbound+outbound", "sms": "inbound+outbound"}

        for n in numbers:
            released = http.delete(f"/phoneNumbers/{n}", params=v(version))
            assert released.status_code == 202, released.text
            assert poll(http, released.headers["Operation-Location"], version)[-1].json()["status"] == "succeeded"
            assert_acs_error(http.get(f"/phoneNumbers/{n}", params=v(version)), 404)
    finally:
        for n in numbers:
            release(http, n)
        cancel(http, result["searchId"])


def test_out_of_stock_reports_the_error_only_where_the_version_has_it(http: httpx.Client, version: str) -> None:
    result = searched(http, version, plan={**US_TOLL_FREE, "areaCode": "899"})
    try:
        assert result["phoneNumbers"] == []
        if features(version).search_errors:
            assert (result["error"], result["errorCode"]) == ("OutOfStock", 1000)
        else:
            assert not {"error", "errorCode"} & set(result)
    finally:
        cancel(http, result["searchId"])


def test_the_do_not_resell_agreement_under_the_versions_field_name(http: httpx.Client, version: str) -> None:
    field = features(version).consent_field
    result = searched(http, version, "FR", FR_TOLL_FREE)
    numbers = result["phoneNumbers"]
    try:
        if field is not None:  # the other name means nothing at this version
            other = CONSENT if field == AGREE else AGREE
            refused = http.post("/availablePhoneNumbers/:purchase", params=v(version),
                                json={"searchId": result["searchId"], other: True})
            assert_acs_error(refused, 400, "BadRequest")
        final = buy(http, version, result["searchId"], **{field or AGREE: True})
        assert final["status"] == "succeeded"
    finally:
        for n in numbers:
            release(http, n)
        cancel(http, result["searchId"])


def test_mobile_only_where_the_version_has_it(http: httpx.Client, version: str) -> None:
    started = http.post(f"{COUNTRIES}/IE/:search", params=v(version), json={**IE_MOBILE, "quantity": 1})
    if not features(version).mobile:
        assert assert_acs_error(started, 400, "BadRequest").get("target") == "phoneNumberType"
        if features(version).catalog:
            r = http.get(f"{COUNTRIES}/IE/areaCodes", params=v(version, phoneNumberType="mobile"))
            assert_acs_error(r, 400)
        return
    assert started.status_code == 202, started.text
    search_id = started.headers["search-id"]
    try:
        poll(http, started.headers["Operation-Location"], version)
        result = http.get(started.headers["Location"]).json()
        assert result["phoneNumberType"] == "mobile" and result["phoneNumbers"][0].startswith("+3538")
        area_codes = http.get(f"{COUNTRIES}/IE/areaCodes", params=v(version, phoneNumberType="mobile")).json()
        assert {a["areaCode"] for a in area_codes["areaCodes"]} == {"83", "85", "86", "87", "89"}
    finally:
        cancel(http, search_id)


def test_a_mobile_number_is_hidden_from_versions_without_mobile(http: httpx.Client) -> None:
    result = searched(http, NEWEST, "IE", IE_MOBILE)
    number = result["phoneNumbers"][0]
    try:
        assert buy(http, NEWEST, result["searchId"])["status"] == "succeeded"
        for version in SUPPORTED:
            owned = http.get(f"/phoneNumbers/{number}", params=v(version))
            listed = {n["phoneNumber"] for n in http.get("/phoneNumbers", params=v(version, top=1000)).json()["phoneNumbers"]}
            found = http.get(f"/availablePhoneNumbers/searchResults/{result['searchId']}", params=v(version))
            if features(version).mobile:
                assert owned.status_code == 200 and owned.json()["phoneNumberType"] == "mobile"
                assert number in listed and found.status_code == 200
            else:
                assert_acs_error(owned, 404)
                assert number not in listed
                assert_acs_error(found, 404)
    finally:
        release(http, number)


def test_paging_skips_hidden_mobile_numbers(http: httpx.Client) -> None:
    """At a version without mobile, `top` and `skip` count only the numbers that version can show."""
    mobile = searched(http, NEWEST, "IE", IE_MOBILE, quantity=2)
    toll_free = searched(http, NEWEST, quantity=2)
    mine = mobile["phoneNumbers"] + toll_free["phoneNumbers"]
    try:
        for result in (mobile, toll_free):
            assert buy(http, NEWEST, result["searchId"])["status"] == "succeeded"
        old = "2022-12-01"
        seen: list[str] = []
        link: str | None = f"/phoneNumbers?api-version={old}&top=1"
        while link:
            page = http.get(link).json()
            assert len(page["phoneNumbers"]) == 1, page
            seen.append(page["phoneNumbers"][0]["phoneNumber"])
            link = page.get("nextLink")
            assert len(seen) < 1000
        assert set(toll_free["phoneNumbers"]) <= set(seen)
        assert not set(mobile["phoneNumbers"]) & set(seen)
        assert len(seen) == len(set(seen))
    finally:
        for n in mine:
            release(http, n)


# ---------------------------------------------------------------- operator information


def test_operator_information_where_the_version_has_it(http: httpx.Client, version: str) -> None:
    kind = features(version).operator_information
    body = {"phoneNumbers": ["+353861234567"], "options": {"includeAdditionalOperatorDetails": True}}
    response = http.post(OPERATOR_INFORMATION, params=v(version), json=body)
    if kind is None:
        assert_acs_error(response, 404, "NotFound")
        return
    assert response.status_code == 200, response.text
    (info,) = response.json()["values"]
    expected: dict[str, Any] = {"phoneNumber": "+353861234567", "numberType": "mobile", "isoCountryCode": "IE",
                                "operatorDetails": {"name": "O2", "mobileNetworkCode": None, "mobileCountryCode": None}}
    if kind == "formats":  # the 2023 previews had no formats (recorded 2023-05 and 2023-07)
        expected.update(nationalFormat="086 123 4567", internationalFormat="+353 86 123 4567")
    assert info == expected


# ---------------------------------------------------------------- the Python SDK at each of its versions


def _sdk_versions() -> list[str]:
    from azure.communication.phonenumbers._api_versions import ApiVersion as SdkVersions

    return [member.value for member in SdkVersions]


@pytest.mark.parametrize("sdk_version", _sdk_versions())
def test_python_sdk_at_each_of_its_api_versions(connection_string: str, sdk_version: str) -> None:
    from azure.communication.phonenumbers import PhoneNumberCapabilities
    from azure.core.exceptions import ResourceNotFoundError

    from tests.support.sdk import release_quietly, sync_client

    with sync_client(connection_string, sdk_version) as client:
        if features(sdk_version).catalog:
            assert {c.country_code for c in client.list_available_countries()} >= {"US", "IE"}
        else:
            with pytest.raises(ResourceNotFoundError):
                list(client.list_available_countries())
        caps = PhoneNumberCapabilities(calling="inbound+outbound", sms="none")
        search = client.begin_search_available_phone_numbers(
            "US", "tollFree", "application", caps, polling_interval=0).result()
        bought = list(search.phone_numbers)
        try:
            client.begin_purchase_phone_numbers(search.search_id, polling_interval=0).result()
            number = client.get_purchased_phone_number(bought[0])
            assert number.phone_number == bought[0]
            assert bought[0] in {n.phone_number for n in client.list_purchased_phone_numbers()}
            client.begin_release_phone_number(bought[0], polling_interval=0).result()
            with pytest.raises(ResourceNotFoundError):
                client.get_purchased_phone_number(bought[0])
        finally:
            release_quietly(client, bought)


# ---------------------------------------------------------------- browse and reservations


def test_browse_and_reservations_only_where_the_version_has_them(http: httpx.Client, version: str) -> None:
    browse = http.post(f"{COUNTRIES}/US/:browse", params=v(version), json={"phoneNumberType": "tollFree"})
    listed = http.get("/availablePhoneNumbers/reservations", params=v(version))
    if not features(version).reservations:
        assert_acs_error(browse, 404, "NotFound")
        assert_acs_error(listed, 404, "NotFound")
        return
    assert browse.status_code == 200, browse.text
    assert listed.status_code == 200, listed.text
    numbers = browse.json()["phoneNumbers"]
    assert numbers and all(n["phoneNumberType"] == "tollFree" for n in numbers)
    assert all("isAgreementToNotResellRequired" not in n for n in numbers)  # only sent when true (US: never)


def test_browse_mobile_only_where_the_version_has_it(http: httpx.Client, version: str) -> None:
    if not features(version).reservations:
        return
    browse = http.post(f"{COUNTRIES}/IE/:browse", params=v(version), json={"phoneNumberType": "mobile"})
    if not features(version).mobile:
        assert assert_acs_error(browse, 400, "BadRequest").get("target") == "phoneNumberType"
        return
    assert browse.status_code == 200, browse.text
    numbers = browse.json()["phoneNumbers"]
    assert numbers and all(n["phoneNumberType"] == "mobile" and n["phoneNumber"].startswith("+3538") for n in numbers)


def test_skip_api_version_check_serves_unknown_versions_with_the_newest_shapes(make_server: Any) -> None:
    from tests.support.sdk import raw_client

    loose = make_server("--skip-api-version-check", "--inventory-size", "5")
    with raw_client(loose) as http:
        assert http.get(COUNTRIES, params=v("2099-01-01")).status_code == 200
        offerings = http.get(f"{COUNTRIES}/IE/offerings", params=v("2099-01-01")).json()["phoneNumberOfferings"]
        assert "mobile" in {o["phoneNumberType"] for o in offerings}
        result = searched(http, "2099-01-01")
        try:
            assert "isAgreementToNotResellRequired" in result and result["error"] == "NoError"
        finally:
            cancel(http, result["searchId"])
        assert_acs_error(http.get(COUNTRIES), 400, "MissingApiVersionParameter")
