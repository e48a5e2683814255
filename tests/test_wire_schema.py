"""Every response body of the lifecycle, validated against its api-version's official OpenAPI file.

Raw HTTP (signed like the SDKs), api-versions 2022-12-01 and 2025-06-01. Headers of the 202s are
compared with what the real service sent (shared/reference/acs-recordings).

Where the official schema disagrees with the recordings, the recordings win; each such exclusion is
listed here:

* PhoneNumberOperation.resourceLocation is `type: string` in the spec, but the service sends
  `"resourceLocation": null` for purchase and release operations (py_test_purchase_phone_numbers.json,
  py_test_purchase_reservation.json). Swagger 2.0 cannot say "nullable", so the tests allow null there.
* POST .../:search declares a 202 body of PhoneNumberSearchResult, but the service answers 202 with no
  body at all (`Content-Length: 0`, py_test_purchase_phone_numbers.json and
  py_test_purchase_phone_numbers_without_agreement_to_not_resell.json); the search result is read
  from the Location header. The tests require the empty body and do not apply that schema.
* PATCH /phoneNumbers/{phoneNumber}/capabilities declares a 202 body of PurchasedPhoneNumber, but the
  service answers `{"capabilitiesUpdateId": "<capabilities-id>"}` (py_test_update_phone_number_capabilities.json).
  The tests require that exact body instead.

Validation is strict: an object may carry no property its schema does not declare, which catches a
field of a newer api-version leaking into an older one (e.g. isAgreementToNotResellRequired at 2022-12-01).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from tests.support import schema as schema_module
from tests.support.acs import MERGE_PATCH, US_TOLL_FREE, cancel, poll, release, start_search, v
from tests.support.schema import ApiSchema, SchemaMismatch
from tests.support.validation import NULLABLE

VERSIONS = ("2022-12-01", "2025-06-01")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

# Spec corrections backed by the recordings (see the module docstring).

_schemas: dict[str, ApiSchema] = {}


@pytest.fixture(params=VERSIONS)
def version(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture()
def spec(version: str) -> ApiSchema:
    if version not in _schemas:
        _schemas[version] = ApiSchema(version, nullable=NULLABLE)
    return _schemas[version]


def _relative(link: str) -> None:
    parts = urlsplit(link)
    assert not parts.scheme and not parts.netloc and link.startswith("/"), f"not a relative link: {link!r}"


def _versioned(link: str, path: str, version: str) -> None:
    """`link` is exactly `path?api-version=version`, relative, as the service sends it."""
    _relative(link)
    assert link == f"{path}?api-version={version}", link


def _empty_202(response: httpx.Response) -> None:
    assert response.status_code == 202, response.text
    assert response.headers["Content-Length"] == "0"
    assert response.content == b""


def _declared_headers_present(spec: ApiSchema, response: httpx.Response, template: str) -> None:
    for name in spec.declared_headers(template, response.request.method, response.status_code):
        assert name in response.headers, f"{name} declared by the spec, missing from {dict(response.headers)}"


# ---------------------------------------------------------------- the helper itself


def test_schema_helper_resolves_external_refs_and_rejects_bad_bodies(spec: ApiSchema) -> None:
    op = "/phoneNumbers/operations/{operationId}"
    good = {"operationType": "search", "status": "failed", "createdDateTime": "2024-01-17T03:38:28.7494799+00:00",
            "id": "search_x", "resourceLocation": None,
            "error": {"code": "OutOfStock", "message": "m", "innererror": {"code": "c", "message": "m"}}}
    spec.validate(good, op, "GET", 200)
    # `error` is a $ref into ../../../Common/stable/2021-03-07/common.json: its fields are checked.
    with pytest.raises(SchemaMismatch, match="error/code"):
        spec.validate({**good, "error": {"code": 7, "message": "m"}}, op, "GET", 200)
    with pytest.raises(SchemaMismatch, match="date-time"):
        spec.validate({**good, "createdDateTime": "yesterday"}, op, "GET", 200)
    with pytest.raises(SchemaMismatch, match="unexpected"):
        spec.validate({**good, "surprise": 1}, op, "GET", 200)
    # Error statuses fall back to the `default` response: the ACS error shape.
    spec.validate({"error": {"code": "NotFound", "message": "gone", "target": "operationId"}}, op, "GET", 404)
    with pytest.raises(SchemaMismatch, match="'message' is a required property"):
        spec.validate({"error": {"code": "NotFound"}}, op, "GET", 404)
    with pytest.raises(SchemaMismatch, match="declares no 201"):
        spec.validate({}, op, "GET", 201)
    assert spec.response_pointer(op, "DELETE", 204) is None
    assert spec.template_for("/phoneNumbers/operations/search_1") == op
    assert spec.template_for("/phoneNumbers/+14255550100") == "/phoneNumbers/{phoneNumber}"


def test_schema_helper_knows_the_versions_apart() -> None:
    old, new = ApiSchema("2022-12-01"), ApiSchema("2025-06-01")
    result = {"searchId": "s", "phoneNumbers": [], "phoneNumberType": "tollFree", "assignmentType": "person",
              "capabilities": {"calling": "none", "sms": "none"},
              "cost": {"amount": 1.0, "currencyCode": "USD", "billingFrequency": "monthly"},
              "searchExpiresBy": "2024-01-17T03:54:30Z", "error": "NoError"}
    template = "/availablePhoneNumbers/searchResults/{searchId}"
    for spec in (old, new):
        spec.validate(result, template, "GET", 200)
    new.validate({**result, "isAgreementToNotResellRequired": True, "phoneNumberType": "mobile"}, template, "GET", 200)
    with pytest.raises(SchemaMismatch, match="isAgreementToNotResellRequired"):
        old.validate({**result, "isAgreementToNotResellRequired": True}, template, "GET", 200)
    with pytest.raises(SchemaMismatch, match="mobile"):
        old.validate({**result, "phoneNumberType": "mobile"}, template, "GET", 200)


def test_schema_helper_skips_without_the_reference_set_and_fails_under_ci(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    monkeypatch.setattr(schema_module, "SPEC_ROOT", tmp_path / "nowhere" / "acs-spec" / "PhoneNumbers")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="reference set is not at .*nowhere"):
        ApiSchema("2025-06-01")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="under CI=true they must run"):
        ApiSchema("2025-06-01")


def test_schema_helper_fails_loudly_when_one_file_of_the_reference_set_is_missing(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    (tmp_path / "stable").mkdir()
    monkeypatch.setattr(schema_module, "SPEC_ROOT", tmp_path)
    with pytest.raises(pytest.fail.Exception, match="(?s)not found.*do not skip"):
        ApiSchema("2025-06-01")


# ---------------------------------------------------------------- catalog


def test_catalog_lists_match_the_schema(http: httpx.Client, version: str, spec: ApiSchema) -> None:
    base = "/availablePhoneNumbers/countries"
    countries = spec.check(http.get(base, params=v(version)), base)["countries"]
    assert {c["countryCode"] for c in countries} >= {"US", "CA"}

    localities = spec.check(http.get(f"{base}/US/localities", params=v(version)), base + "/{countryCode}/localities")
    assert localities["phoneNumberLocalities"]

    town = localities["phoneNumberLocalities"][0]
    area_codes = spec.check(
        http.get(f"{base}/US/areaCodes", params=v(version, phoneNumberType="geographic", assignmentType="person",
                                                   locality=town["localizedName"],
                                                   administrativeDivision=town["administrativeDivision"]["abbreviatedName"])),
        base + "/{countryCode}/areaCodes",
    )
    assert area_codes["areaCodes"]
    toll_free = spec.check(http.get(f"{base}/US/areaCodes", params=v(version, phoneNumberType="tollFree")),
                           base + "/{countryCode}/areaCodes")
    assert {"areaCode": "800"} in toll_free["areaCodes"]

    offerings = spec.check(http.get(f"{base}/US/offerings", params=v(version)), base + "/{countryCode}/offerings")
    assert offerings["phoneNumberOfferings"]
    filtered = spec.check(
        http.get(f"{base}/CA/offerings", params=v(version, phoneNumberType="tollFree", assignmentType="application")),
        base + "/{countryCode}/offerings",
    )
    assert filtered["phoneNumberOfferings"]
    assert all(o["phoneNumberType"] == "tollFree" for o in filtered["phoneNumberOfferings"])

    unknown = http.get(f"{base}/XX/offerings", params=v(version))
    assert unknown.status_code == 400
    assert spec.check(unknown, base + "/{countryCode}/offerings") == {
        "error": {"code": "InvalidInput", "message": "Unable to parse country code.", "target": "countrycode"}
    }


def test_countries_next_link_is_relative_and_returns_the_rest(http: httpx.Client, version: str, spec: ApiSchema) -> None:
    base = "/availablePhoneNumbers/countries"
    everything = spec.check(http.get(base, params=v(version)), base)
    assert "nextLink" in everything and everything["nextLink"] is None  # py test_list_countries: the last page
    assert len(everything["countries"]) > 2

    first = spec.check(http.get(base, params=v(version, maxPageSize=2)), base)
    assert first["countries"] == everything["countries"][:2]
    link = first["nextLink"]
    _relative(link)
    parts = urlsplit(link)
    assert parts.path == base
    assert dict(parse_qsl(parts.query)) == {"skip": "2", "maxPageSize": "2", "api-version": version}

    collected = list(first["countries"])
    pages = 1
    while link:
        page = spec.check(http.get(link), base)  # followed as given, signed over its own path and query
        collected += page["countries"]
        link = page.get("nextLink")
        if link:
            _relative(link)
        pages += 1
        assert pages <= len(everything["countries"])
    assert collected == everything["countries"]


# ---------------------------------------------------------------- the lifecycle


def test_search_purchase_update_release_lifecycle(http: httpx.Client, version: str, spec: ApiSchema) -> None:
    # -- search: 202, no body, the recorded headers
    started = start_search(http, version, "US", quantity=2)
    _empty_202(started)  # spec says PhoneNumberSearchResult; the service sends nothing (module docstring)
    search_tpl = "/availablePhoneNumbers/countries/{countryCode}/:search"
    _declared_headers_present(spec, started, search_tpl)
    search_id = started.headers["search-id"]
    assert UUID.fullmatch(search_id), search_id
    assert started.headers["Access-Control-Expose-Headers"] == "Location,Operation-Location,operation-id,search-id"
    assert started.headers["operation-id"] == f"search_{search_id}"
    _versioned(started.headers["Location"], f"/availablePhoneNumbers/searchResults/{search_id}", version)
    _versioned(started.headers["Operation-Location"], f"/phoneNumbers/operations/search_{search_id}", version)

    numbers: list[str] = []
    try:
        # -- the search operation
        op_tpl = "/phoneNumbers/operations/{operationId}"
        for response in poll(http, started.headers["Operation-Location"], version):
            body = spec.check(response, op_tpl)
            assert body["operationType"] == "search"
            assert body["id"] == f"search_{search_id}"
            assert body["resourceLocation"] == started.headers["Location"]
            assert response.headers["Location"] == started.headers["Location"]
            assert response.headers["Access-Control-Expose-Headers"] == "Location"
        assert body["status"] == "succeeded"

        # -- the search result
        result = spec.check(http.get(started.headers["Location"]), "/availablePhoneNumbers/searchResults/{searchId}")
        assert result["searchId"] == search_id
        assert result["error"] == "NoError"
        assert (result["phoneNumberType"], result["assignmentType"]) == ("tollFree", "application")
        assert result["capabilities"] == US_TOLL_FREE["capabilities"]
        assert len(result["phoneNumbers"]) == 2
        assert ("isAgreementToNotResellRequired" in result) is (version >= "2025-02-11")
        numbers = result["phoneNumbers"]

        # -- purchase: 202, no body
        bought = http.post("/availablePhoneNumbers/:purchase", params=v(version), json={"searchId": search_id})
        assert bought.status_code == 202, bought.text
        spec.check(bought, "/availablePhoneNumbers/:purchase")
        _empty_202(bought)
        _declared_headers_present(spec, bought, "/availablePhoneNumbers/:purchase")
        assert bought.headers["Access-Control-Expose-Headers"] == "Operation-Location,operation-id,purchase-id"
        assert bought.headers["operation-id"] == f"purchase_{search_id}"
        assert bought.headers["purchase-id"] == search_id
        assert "Location" not in bought.headers
        _versioned(bought.headers["Operation-Location"], f"/phoneNumbers/operations/purchase_{search_id}", version)
        for response in poll(http, bought.headers["Operation-Location"], version):
            body = spec.check(response, op_tpl)
            assert (body["operationType"], body["id"], body["resourceLocation"]) == (
                "purchase", f"purchase_{search_id}", None)
            assert "Location" not in response.headers
        assert body["status"] == "succeeded"

        # -- the purchased numbers, read one by one and listed
        number_tpl = "/phoneNumbers/{phoneNumber}"
        for number in numbers:
            owned = spec.check(http.get(f"/phoneNumbers/{number}", params=v(version)), number_tpl)
            assert owned["phoneNumber"] == number
            assert owned["id"] == number.lstrip("+")
            assert (owned["countryCode"], owned["phoneNumberType"], owned["assignmentType"]) == (
                "US", "tollFree", "application")
            assert owned["capabilities"] == US_TOLL_FREE["capabilities"]
        listed = spec.check(http.get("/phoneNumbers", params=v(version)), "/phoneNumbers")
        assert set(numbers) <= {n["phoneNumber"] for n in listed["phoneNumbers"]}

        _check_purchased_paging(http, version, spec, numbers)

        # -- update capabilities: 202 with {"capabilitiesUpdateId"} (not the spec's PurchasedPhoneNumber)
        number = numbers[0]
        caps_tpl = "/phoneNumbers/{phoneNumber}/capabilities"
        patched = http.patch(f"/phoneNumbers/{number}/capabilities", params=v(version),
                             json={"sms": "inbound+outbound"}, headers=MERGE_PATCH)
        assert patched.status_code == 202, patched.text
        _declared_headers_present(spec, patched, caps_tpl)
        update_id = patched.headers["capabilities-id"]
        assert UUID.fullmatch(update_id), update_id
        assert patched.json() == {"capabilitiesUpdateId": update_id}
        assert patched.headers["Content-Type"] == "application/json; charset=utf-8"
        assert patched.headers["Content-Length"] == str(len(patched.content))
        assert patched.headers["Access-Control-Expose-Headers"] == (
            "Operation-Location,Location,operation-id,capabilities-id")
        assert patched.headers["operation-id"] == f"capabilities_{update_id}"
        _versioned(patched.headers["Location"], f"/phoneNumbers/{number}", version)
        _versioned(patched.headers["Operation-Location"], f"/phoneNumbers/operations/capabilities_{update_id}", version)
        for response in poll(http, patched.headers["Operation-Location"], version):
            body = spec.check(response, op_tpl)
            assert (body["operationType"], body["id"]) == ("updatePhoneNumberCapabilities", f"capabilities_{update_id}")
            assert body["resourceLocation"] == patched.headers["Location"]
            assert response.headers["Location"] == patched.headers["Location"]
        assert body["status"] == "succeeded"
        updated = spec.check(http.get(patched.headers["Location"]), number_tpl)  # final-state-via: location
        assert updated["capabilities"] == {"calling": "inbound+outbound", "sms": "inbound+outbound"}

        # -- release: 202, no body
        for number in numbers:
            released = http.delete(f"/phoneNumbers/{number}", params=v(version))
            spec.check(released, number_tpl)
            _empty_202(released)
            _declared_headers_present(spec, released, number_tpl)
            assert released.headers["Access-Control-Expose-Headers"] == "Operation-Location,operation-id,release-id"
            release_id = released.headers["release-id"]
            assert UUID.fullmatch(release_id), release_id
            assert released.headers["operation-id"] == f"release_{release_id}"
            _versioned(released.headers["Operation-Location"], f"/phoneNumbers/operations/release_{release_id}", version)
            for response in poll(http, released.headers["Operation-Location"], version):
                body = spec.check(response, op_tpl)
                assert (body["operationType"], body["id"], body["resourceLocation"]) == (
                    "releasePhoneNumber", f"release_{release_id}", None)
            assert body["status"] == "succeeded"
            gone = http.get(f"/phoneNumbers/{number}", params=v(version))
            assert gone.status_code == 404
            assert spec.check(gone, number_tpl)["error"]["code"] == "NotFound"
    finally:
        for number in numbers:
            release(http, number)
        cancel(http, search_id)


def _check_purchased_paging(http: httpx.Client, version: str, spec: ApiSchema, numbers: list[str]) -> None:
    """top=1 with at least two numbers owned: a relative nextLink with skip=1&top=1 that returns the next."""
    first = spec.check(http.get("/phoneNumbers", params=v(version, top=1)), "/phoneNumbers")
    assert len(first["phoneNumbers"]) == 1
    link = first["nextLink"]
    _relative(link)
    parts = urlsplit(link)
    assert parts.path == "/phoneNumbers"
    assert dict(parse_qsl(parts.query)) == {"skip": "1", "top": "1", "api-version": version}
    assert "skip=1&top=1" in parts.query

    seen = [first["phoneNumbers"][0]["phoneNumber"]]
    while link:
        page = spec.check(http.get(link), "/phoneNumbers")
        assert len(page["phoneNumbers"]) == 1
        seen.append(page["phoneNumbers"][0]["phoneNumber"])
        link = page.get("nextLink")
        assert len(seen) <= 1000
    assert len(seen) == len(set(seen)), seen
    assert set(numbers) <= set(seen)


def test_cancel_search_operation(http: httpx.Client, version: str, spec: ApiSchema) -> None:
    started = start_search(http, version, "CA")
    search_id = started.headers["search-id"]
    op_tpl = "/phoneNumbers/operations/{operationId}"
    try:
        poll(http, started.headers["Operation-Location"], version)
        cancelled = http.delete(started.headers["Operation-Location"])
        assert cancelled.status_code == 204, cancelled.text
        assert spec.check(cancelled, op_tpl) is None
        assert cancelled.content == b""

        after = http.get(started.headers["Operation-Location"])
        assert after.status_code == 404
        assert spec.check(after, op_tpl)["error"]["code"] == "NotFound"
        result = http.get(started.headers["Location"])
        assert result.status_code == 404
        spec.check(result, "/availablePhoneNumbers/searchResults/{searchId}")
        late = http.post("/availablePhoneNumbers/:purchase", params=v(version), json={"searchId": search_id})
        assert late.status_code == 404
        spec.check(late, "/availablePhoneNumbers/:purchase")
        again = http.delete(started.headers["Operation-Location"])
        assert again.status_code == 404
        spec.check(again, op_tpl)
    finally:
        cancel(http, search_id)


def test_out_of_stock_search_fails_in_the_schema(http: httpx.Client, version: str, spec: ApiSchema) -> None:
    """A search that finds nothing: a failed operation with an error, and a search result with errorCode."""
    plan: dict[str, Any] = {**US_TOLL_FREE, "areaCode": "899"}  # toll-free area code with no inventory
    started = start_search(http, version, "US", plan=plan)
    search_id = started.headers["search-id"]
    try:
        responses = poll(http, started.headers["Operation-Location"], version)
        body = spec.check(responses[-1], "/phoneNumbers/operations/{operationId}")
        assert body["status"] == "failed"
        assert body["error"]["code"] == "OutOfStock"
        result = spec.check(http.get(started.headers["Location"]), "/availablePhoneNumbers/searchResults/{searchId}")
        assert (result["phoneNumbers"], result["error"], result["errorCode"]) == ([], "OutOfStock", 1000)
    finally:
        cancel(http, search_id)
