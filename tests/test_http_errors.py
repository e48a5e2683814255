"""Client errors over raw HTTP: the right status, the ACS error shape, never a 5xx.

Every error body is `{"error": {"code", "message", ...}}` and is also validated against the official
spec's `default` response (CommunicationErrorResponse) where the route exists in the spec.
"""

from __future__ import annotations

import json
import socket
import ssl
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import signed_client
from tests.support.acs import (
    MERGE_PATCH,
    NEWEST,
    US_TOLL_FREE,
    assert_acs_error,
    bought,
    cancel,
    poll,
    purchase,
    release,
    search,
    start_search,
    v,
)
from tests.support.schema import api_schema
from tests.support.server import ServerProcess

OLD = "2022-12-01"
SEARCH = "/availablePhoneNumbers/countries/US/:search"
JSON = {"Content-Type": "application/json"}


def acs_error(response: httpx.Response, status: int, code: str | None = None, version: str = NEWEST) -> dict[str, Any]:
    """The ACS error shape, and the spec's `default` response for the route when the spec has the route."""
    error = assert_acs_error(response, status, code)
    spec = api_schema(version)
    try:
        template = spec.template_for(response.request.url.path)
        spec.operation(template, response.request.method)
    except AssertionError:
        # Unknown routes and methods are not in the spec: the shape above is all there is to check.
        return error
    spec.check(response, template)
    return error


@pytest.fixture(scope="module")
def client(server: ServerProcess) -> Iterator[httpx.Client]:
    with signed_client(server) as c:
        yield c


@pytest.fixture(scope="module")
def owned(client: httpx.Client) -> Iterator[str]:
    """One number the development resource owns for this module, released at the end."""
    with bought(client, 1) as numbers:
        yield numbers[0]


# ---------------------------------------------------------------- api-version, routes, methods


def test_unsupported_api_version_is_the_services_invalid_api_version(http: httpx.Client) -> None:
    r = http.get("/availablePhoneNumbers/countries", params={"api-version": "2099-01-01"})
    error = assert_acs_error(r, 400, "InvalidApiVersion")  # no version, so no spec: ASP.NET's own shape
    assert error["message"] == (f"The HTTP resource that matches the request URI '{r.request.url.copy_with(query=None)}' "
                                "does not support the API version '2099-01-01'.")
    assert "target" not in error and error["innerError"] is None


@pytest.mark.parametrize("query", [{}, {"api-version": ""}])
def test_missing_api_version(http: httpx.Client, query: dict[str, str]) -> None:
    r = http.get("/availablePhoneNumbers/countries", params=query)
    error = acs_error(r, 400)
    assert "api-version" in error["message"]


@pytest.mark.parametrize("path", ["/nope", "/availablePhoneNumbers", "/availablePhoneNumbers/countries/US/nothing",
                                  "/phoneNumbers/%2B14255550100/nothing", "/"])
def test_unknown_route(http: httpx.Client, path: str) -> None:
    acs_error(http.get(path, params=v(NEWEST)), 404)


def test_unknown_route_without_credentials(server: ServerProcess) -> None:
    context = ssl.create_default_context(cafile=str(server.ca))
    with httpx.Client(base_url=server.endpoint, verify=context) as anonymous:
        acs_error(anonymous.get("/nope", params=v(NEWEST)), 404)


@pytest.mark.parametrize(("method", "path"), [
    ("PUT", "/availablePhoneNumbers/countries"),
    ("DELETE", "/availablePhoneNumbers/countries"),
    ("POST", "/phoneNumbers"),
    ("GET", SEARCH),
    ("PUT", "/phoneNumbers/%2B14255550100"),
    ("GET", "/phoneNumbers/%2B14255550100/capabilities"),
    ("PATCH", "/phoneNumbers/operations/search_x"),
    ("OPTIONS", "/availablePhoneNumbers/countries"),
])
def test_wrong_method(http: httpx.Client, method: str, path: str) -> None:
    r = http.request(method, path, params=v(NEWEST))
    acs_error(r, 405, "MethodNotAllowed")
    assert r.headers.get("Allow"), "a 405 names the allowed methods"


@pytest.mark.parametrize(("path", "allowed"), [
    ("/phoneNumbers/%2B14255550100", "GET, HEAD, DELETE"),
    ("/phoneNumbers/operations/search_x", "GET, HEAD, DELETE"),
    ("/phoneNumbers/%2B14255550100/capabilities", "PATCH"),
])
def test_method_not_allowed_names_every_method_of_the_path(http: httpx.Client, path: str, allowed: str) -> None:
    """Found by schema fuzzing: a path served by one route per method named only the first route's."""
    r = http.request("PUT", path, params=v(NEWEST))
    acs_error(r, 405, "MethodNotAllowed")
    assert r.headers["Allow"] == allowed


# ---------------------------------------------------------------- bodies


@pytest.mark.parametrize("body", [
    b'{"phoneNumberType": "tollFree", "assignmentType": ',  # truncated
    b"{'phoneNumberType': 'tollFree'}",  # not JSON
    b'{"phoneNumberType": "tollFree",}',
    b"\xff\xfe\x00garbage",  # not UTF-8
    b"[" * 100_000,  # nesting deeper than any parser allows
    b'{"quantity": ' + b"9" * 5000 + b"}",  # an integer too long to convert
    b"nul",
])
def test_malformed_json(http: httpx.Client, body: bytes) -> None:
    acs_error(http.post(SEARCH, params=v(NEWEST), content=body, headers=JSON), 400)


@pytest.mark.parametrize(("path", "body"), [
    (SEARCH, b'{"phoneNumberType": "tollFree", "assignmentType": "application", '
             b'"capabilities": {"calling": "inbound+outbound", "sms": "none"}, "areaCode": "\\ud800"}'),
    (SEARCH, b'{"phoneNumberType": "\\udfff"}'),
    (SEARCH, b'{"\\ud800": 1}'),
    ("/availablePhoneNumbers/:purchase", b'{"searchId": "\\ud800"}'),
    ("/availablePhoneNumbers/:purchase", b'{"searchId": "a\\udc00b"}'),
], ids=repr)
def test_unpaired_surrogate_escapes(http: httpx.Client, path: str, body: bytes) -> None:
    """Valid JSON syntax, but no Unicode text: refused up front, not stored or echoed into a 500."""
    assert b"\\ud" in body
    acs_error(http.post(path, params=v(NEWEST), content=body, headers=JSON), 400)


def test_paired_surrogate_escapes_are_text(http: httpx.Client) -> None:
    body = b'{"searchId": "\\ud83d\\ude00"}'  # one emoji, written as a surrogate pair
    acs_error(http.post("/availablePhoneNumbers/:purchase", params=v(NEWEST), content=body, headers=JSON), 404)


def test_deep_but_parseable_nesting(http: httpx.Client) -> None:
    body = json.dumps({**US_TOLL_FREE, "extra": json.loads("[" * 900 + "]" * 900)}).encode()
    r = http.post(SEARCH, params=v(NEWEST), content=body, headers=JSON)
    assert r.status_code in (202, 400), r.text
    if r.status_code == 202:
        cancel(http, r.headers["search-id"])
    else:
        acs_error(r, 400)


@pytest.mark.parametrize("body", [b"", b"   ", b"\n"])
def test_empty_body(http: httpx.Client, body: bytes) -> None:
    acs_error(http.post(SEARCH, params=v(NEWEST), content=body, headers=JSON), 400)


@pytest.mark.parametrize("body", [[US_TOLL_FREE], "tollFree", 3, None, True])
def test_json_that_is_not_an_object(http: httpx.Client, body: Any) -> None:
    acs_error(http.post(SEARCH, params=v(NEWEST), content=json.dumps(body).encode(), headers=JSON), 400)


@pytest.mark.parametrize("change", [
    {"quantity": "3"},
    {"quantity": 1.5},
    {"quantity": True},
    {"quantity": [1]},
    {"capabilities": "inbound+outbound"},
    {"capabilities": ["inbound", "none"]},
    {"capabilities": {"calling": ["inbound"], "sms": "none"}},
    {"capabilities": {"calling": "inbound"}},
    {"phoneNumberType": ["tollFree"]},
    {"assignmentType": 1},
    {"areaCode": 800},
], ids=repr)
def test_wrong_types(http: httpx.Client, change: dict[str, Any]) -> None:
    r = http.post(SEARCH, params=v(NEWEST), json={**US_TOLL_FREE, **change})
    acs_error(r, 400)


@pytest.mark.parametrize("change", [
    {"phoneNumberType": "premium"},
    {"assignmentType": "robot"},
    {"capabilities": {"calling": "sideways", "sms": "none"}},
    {"capabilities": {"calling": "inbound", "sms": "both"}},
], ids=repr)
def test_unknown_enum_values(http: httpx.Client, change: dict[str, Any]) -> None:
    error = acs_error(http.post(SEARCH, params=v(NEWEST), json={**US_TOLL_FREE, **change}), 400)
    assert error.get("target") in {"phoneNumberType", "assignmentType", "capabilities.calling", "capabilities.sms"}


@pytest.mark.parametrize("field", ["phoneNumberType", "assignmentType", "capabilities"])
def test_missing_required_field(http: httpx.Client, field: str) -> None:
    body = {k: val for k, val in US_TOLL_FREE.items() if k != field}
    error = acs_error(http.post(SEARCH, params=v(NEWEST), json=body), 400)
    assert error.get("target") == field


@pytest.mark.parametrize("quantity", [0, -1, 2**31, 2**63, -(2**31)])
def test_quantity_out_of_range(http: httpx.Client, quantity: int) -> None:
    error = acs_error(http.post(SEARCH, params=v(NEWEST), json={**US_TOLL_FREE, "quantity": quantity}), 400)
    assert error.get("target") == "quantity"


def test_mobile_is_unknown_at_2022_12_01(http: httpx.Client) -> None:
    body = {**US_TOLL_FREE, "phoneNumberType": "mobile"}
    error = acs_error(http.post(SEARCH, params=v(OLD), json=body), 400, version=OLD)
    assert error.get("target") == "phoneNumberType"
    for route in ("offerings", "areaCodes", "localities"):
        r = http.get(f"/availablePhoneNumbers/countries/US/{route}", params=v(OLD, phoneNumberType="mobile"))
        acs_error(r, 400, version=OLD)
    # The same body at 2025-06-01 is understood (the demo catalog just sells no US mobile plan).
    later = http.post(SEARCH, params=v(NEWEST), json=body)
    assert later.status_code != 500
    if later.status_code == 202:
        cancel(http, later.headers["search-id"])
    else:
        assert acs_error(later, 400).get("target") != "phoneNumberType"


@pytest.mark.parametrize("query", [
    {"maxPageSize": "0"}, {"maxPageSize": "abc"}, {"maxPageSize": "-5"}, {"maxPageSize": str(2**64)},
    {"skip": "-1"}, {"skip": "1e3"}, {"skip": str(2**70)}, {"skip": "9" * 5000},
    # Python's int() would take these; a query integer is ASCII digits only.
    {"maxPageSize": "\uff11"}, {"maxPageSize": "1_0"}, {"maxPageSize": " 1"}, {"skip": "\u0661"}, {"maxPageSize": ""},
], ids=repr)
def test_bad_paging_parameters(http: httpx.Client, query: dict[str, str]) -> None:
    acs_error(http.get("/availablePhoneNumbers/countries", params=v(NEWEST, **query)), 400)


@pytest.mark.parametrize("query", [{"top": "0"}, {"top": "x"}, {"skip": "-1"}, {"top": "\uff12"}, {"top": "2 "}], ids=repr)
def test_bad_purchased_paging_parameters(http: httpx.Client, query: dict[str, str]) -> None:
    acs_error(http.get("/phoneNumbers", params=v(NEWEST, **query)), 400)


def test_body_over_one_mebibyte(http: httpx.Client) -> None:
    body = json.dumps({**US_TOLL_FREE, "padding": "x" * (1024 * 1024)}).encode()
    acs_error(http.post(SEARCH, params=v(NEWEST), content=body, headers=JSON), 413)


def test_chunked_body_over_one_mebibyte(server: ServerProcess) -> None:
    """No Content-Length to refuse up front: the limit holds while the body streams in (before auth)."""

    def chunks() -> Iterator[bytes]:
        for _ in range(40):
            yield b" " * 65536

    context = ssl.create_default_context(cafile=str(server.ca))
    with httpx.Client(base_url=server.endpoint, verify=context, timeout=30) as anonymous:
        r = anonymous.post(SEARCH, params=v(NEWEST), content=chunks(), headers=JSON)
    assert r.request.headers.get("Transfer-Encoding") == "chunked"
    acs_error(r, 413)


def test_body_of_exactly_one_mebibyte_is_read(http: httpx.Client) -> None:
    prefix = json.dumps(US_TOLL_FREE)[:-1] + ', "padding": "'
    body = (prefix + "x" * (1024 * 1024 - len(prefix) - 2) + '"}').encode()
    assert len(body) == 1024 * 1024
    r = http.post(SEARCH, params=v(NEWEST), content=body, headers=JSON)
    assert r.status_code == 202, r.text
    cancel(http, r.headers["search-id"])


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml", None])
def test_wrong_content_type(http: httpx.Client, content_type: str | None) -> None:
    body = json.dumps(US_TOLL_FREE).encode()
    headers = {"Content-Type": content_type} if content_type else {}
    r = http.post(SEARCH, params=v(NEWEST), content=body, headers=headers)
    if content_type is None:
        assert "content-type" not in r.request.headers
    acs_error(r, 415)


def test_json_content_type_with_charset_is_fine(http: httpx.Client) -> None:
    r = http.post(SEARCH, params=v(NEWEST), content=json.dumps(US_TOLL_FREE).encode(),
                  headers={"Content-Type": "application/json; charset=utf-8"})
    assert r.status_code == 202, r.text
    cancel(http, r.headers["search-id"])


# ---------------------------------------------------------------- phone numbers in paths


@pytest.mark.parametrize("number", [
    "abc", "%2Babc", "1425555O100", "+1425555010O", "12345678901234567890", "%2B12345678901234567890",
    "+", "%2B", "++14255550100", "%2B%2B14255550100", "%2B-1", "%20", "%E2%98%8E", "%EF%BC%91%EF%BC%92%EF%BC%93",
    "%00", "%0A14255550100", "%0914255550100", "%2B14255550100%0A", "%2B14255550100%20", "%20%2014255550100",
    "%2B1425%205550100", "1%00", "%7F", "%C3%A9", "%ED%A0%80", "%FF",
], ids=repr)
def test_invalid_e164_in_paths(http: httpx.Client, number: str) -> None:
    """Letters, too many digits, fullwidth digits, unicode and control characters: 400 on GET and DELETE;
    the capabilities update answers such a number as one not owned (403), as the service did in 2025."""
    for method, suffix, kwargs in (
        ("GET", "", {}),
        ("DELETE", "", {}),
    ):
        r = http.request(method, f"/phoneNumbers/{number}{suffix}", params=v(NEWEST), **kwargs)
        error = acs_error(r, 400)
        assert error["code"] == "InternalError" and error["innererror"]["code"] == "BadRequest", error
    r = http.patch(f"/phoneNumbers/{number}/capabilities", params=v(NEWEST), json={"calling": "inbound"},
                   headers=MERGE_PATCH)
    error = acs_error(r, 403, "InsufficientPermissions")
    assert error["target"] == "phonenumber"


@pytest.mark.parametrize("path", [
    "/availablePhoneNumbers/searchResults/%00", "/availablePhoneNumbers/searchResults/%E2%98%8E%01",
    "/availablePhoneNumbers/searchResults/%ED%A0%80", "/phoneNumbers/operations/%0D%0A",
    "/phoneNumbers/operations/search_%E2%98%8E",
])
def test_unicode_and_control_characters_in_ids(http: httpx.Client, path: str) -> None:
    acs_error(http.get(path, params=v(NEWEST)), 404, "NotFound")


@pytest.mark.parametrize("target", [
    "/phoneNumbers/\u260e".encode(), b"/phoneNumbers/\x01", b"/phoneNumbers/\x7f", b"/phoneNumbers/\xff",
    b"/phoneNumbers/+1425 5550100",
], ids=repr)
def test_raw_unencoded_bytes_in_the_request_target(server: ServerProcess, target: bytes) -> None:
    """Bytes a client should have percent-encoded: a 400 and a closed connection, never a 5xx.

    The HTTP parser (h11 under uvicorn) refuses these request lines before the application sees
    them, so the body is uvicorn's plain text, not the ACS shape; the percent-encoded forms that
    clients actually send are covered above in the ACS shape."""
    context = ssl.create_default_context(cafile=str(server.ca))
    request = (b"GET " + target + b"?api-version=" + NEWEST.encode() + b" HTTP/1.1\r\n"
               b"Host: 127.0.0.1:" + str(server.port).encode() + b"\r\nConnection: close\r\n\r\n")
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as plain:
        with context.wrap_socket(plain, server_hostname="127.0.0.1") as tls:
            tls.sendall(request)
            answer = b""
            while chunk := tls.recv(65536):
                answer += chunk
    status_line = answer.split(b"\r\n", 1)[0]
    assert status_line.startswith(b"HTTP/1.1 400 "), answer[:300]


@pytest.mark.parametrize("country", ["%E2%98%8E", "U%00", "%0A", "USA", "X", "xx"])
def test_unknown_or_garbled_country(http: httpx.Client, country: str) -> None:
    acs_error(http.get(f"/availablePhoneNumbers/countries/{country}/offerings", params=v(NEWEST)), 400, "InvalidInput")


@pytest.mark.parametrize("form", ["plus", "encoded", "space"])
def test_owned_number_in_every_path_form(http: httpx.Client, owned: str, form: str) -> None:
    # "+" and "%2B" are the two forms the spec names; a leading space is "+" after a form-decoding proxy.
    path = {"plus": owned, "encoded": "%2B" + owned[1:], "space": "%20" + owned[1:]}[form]
    r = http.get(f"/phoneNumbers/{path}", params=v(NEWEST))
    assert r.status_code == 200, r.text
    assert api_schema(NEWEST).check(r, "/phoneNumbers/{phoneNumber}")["phoneNumber"] == owned
    patched = http.patch(f"/phoneNumbers/{path}/capabilities", params=v(NEWEST),
                         json={"calling": "inbound+outbound"}, headers=MERGE_PATCH)
    assert patched.status_code == 202, patched.text
    assert patched.headers["Location"] == f"/phoneNumbers/{owned}?api-version={NEWEST}"


def test_unowned_valid_number(http: httpx.Client) -> None:
    acs_error(http.get("/phoneNumbers/%2B14255550100", params=v(NEWEST)), 404, "NotFound")
    # accepted, as the service has done since 2025 (a 400 before); the release then fails
    released = http.delete("/phoneNumbers/+14255550100", params=v(NEWEST))
    assert released.status_code == 202, released.text
    final = poll(http, released.headers["Operation-Location"], NEWEST)[-1].json()
    assert final["status"] == "failed", final
    assert final["error"]["message"] == "Numbers: [+14255550100] do not belong to the Tenant:devresource.", final
    acs_error(http.patch("/phoneNumbers/+14255550100/capabilities", params=v(NEWEST), json={"sms": "none"},
                         headers=MERGE_PATCH), 403, "InsufficientPermissions")
    # the body is checked before the number: neither field is MissingInput, even for a number not owned
    missing = acs_error(http.patch("/phoneNumbers/+14255550100/capabilities", params=v(NEWEST), json={},
                                   headers=MERGE_PATCH), 400, "MissingInput")
    assert missing["target"] == "phonenumbercapabilitiesrequest"


@pytest.mark.parametrize("body", [{}, {"calling": None, "sms": None}, {"calling": "loud"}, {"sms": 1}, []], ids=repr)
def test_bad_capabilities_update(http: httpx.Client, owned: str, body: Any) -> None:
    r = http.patch(f"/phoneNumbers/{owned}/capabilities", params=v(NEWEST), json=body, headers=MERGE_PATCH)
    acs_error(r, 400)


# ---------------------------------------------------------------- searches and operations


@pytest.mark.parametrize("version", [OLD, NEWEST])
def test_unknown_search_and_operation(http: httpx.Client, version: str) -> None:
    missing = "00000000-0000-0000-0000-000000000000"
    acs_error(http.get(f"/availablePhoneNumbers/searchResults/{missing}", params=v(version)), 404, "NotFound", version)
    acs_error(http.get(f"/phoneNumbers/operations/search_{missing}", params=v(version)), 404, "NotFound", version)
    acs_error(http.get("/phoneNumbers/operations/whatever", params=v(version)), 404, "NotFound", version)
    acs_error(http.delete(f"/phoneNumbers/operations/purchase_{missing}", params=v(version)), 404, "NotFound", version)
    r = http.post("/availablePhoneNumbers/:purchase", params=v(version), json={"searchId": missing})
    acs_error(r, 404, "NotFound", version)


@pytest.mark.parametrize("body", [{}, {"searchId": None}, {"searchId": 5}, {"searchId": ["a"]},
                                  {"searchId": "x", "agreeToNotResell": "yes"}], ids=repr)
def test_bad_purchase_body(http: httpx.Client, body: dict[str, Any]) -> None:
    acs_error(http.post("/availablePhoneNumbers/:purchase", params=v(NEWEST), json=body), 400)


def test_purchase_of_another_resources_search(http: httpx.Client, other_http: httpx.Client) -> None:
    started = start_search(http, NEWEST)
    search_id = started.headers["search-id"]
    try:
        r = other_http.post("/availablePhoneNumbers/:purchase", params=v(NEWEST), json={"searchId": search_id})
        acs_error(r, 404, "NotFound")
        acs_error(other_http.get(started.headers["Location"]), 404, "NotFound")
        acs_error(other_http.get(started.headers["Operation-Location"]), 404, "NotFound")
        acs_error(other_http.delete(started.headers["Operation-Location"]), 404, "NotFound")
        # Still the owner's to read.
        assert http.get(started.headers["Location"]).status_code == 200
    finally:
        cancel(http, search_id)


def test_repeated_purchase_answers_with_the_same_operation(http: httpx.Client) -> None:
    search_id, numbers = search(http, NEWEST, quantity=2)
    try:
        first = purchase(http, NEWEST, search_id)
        again = purchase(http, NEWEST, search_id)
        assert again.headers["operation-id"] == first.headers["operation-id"] == f"purchase_{search_id}"
        assert again.headers["Operation-Location"] == first.headers["Operation-Location"]
        assert again.headers["purchase-id"] == search_id
        assert poll(http, again.headers["Operation-Location"], NEWEST)[-1].json()["status"] == "succeeded"
        third = purchase(http, NEWEST, search_id)
        assert third.headers["operation-id"] == first.headers["operation-id"]

        listed = http.get("/phoneNumbers", params=v(NEWEST, top=1000)).json()["phoneNumbers"]
        mine = [n["phoneNumber"] for n in listed if n["phoneNumber"] in numbers]
        assert sorted(mine) == sorted(numbers), "each number owned exactly once"
        for number in numbers:
            assert http.get(f"/phoneNumbers/{number}", params=v(NEWEST)).status_code == 200
    finally:
        for number in numbers:
            release(http, number)
        cancel(http, search_id)


def test_no_5xx_for_any_of_the_above_in_the_server_log(server: ServerProcess) -> None:
    """The error handler logs every unexpected failure; none may have happened so far."""
    assert not [line for line in server.output if "unexpected failure" in line]
