"""HMAC-SHA256 access-key authentication, attacked over raw HTTP: every failure is a 401 in the ACS shape.

The SDKs sign `METHOD\\nPATH_AND_QUERY\\nx-ms-date;host;x-ms-content-sha256` with the resource's
access key; each test below breaks one part of that and expects the request to be refused.
"""

from __future__ import annotations

import base64
import os
import ssl
import time
from collections.abc import Iterator
from email.utils import formatdate
from typing import Any

import httpx
import pytest

from numberpool.core.resources import DEV_ACCESS_KEY
from tests.conftest import OTHER_KEY, OTHER_SECONDARY_KEY, signed_client
from tests.support.acs import MERGE_PATCH, NEWEST, assert_acs_error, bought, cancel, poll, start_search, v
from tests.support.hmac_auth import sign_headers
from tests.support.schema import api_schema
from tests.support.server import ServerProcess

COUNTRIES = f"/availablePhoneNumbers/countries?api-version={NEWEST}"
SEARCH = f"/availablePhoneNumbers/countries/US/:search?api-version={NEWEST}"
SEARCH_BODY = (
    b'{"phoneNumberType": "tollFree", "assignmentType": "application",'
    b' "capabilities": {"calling": "inbound+outbound", "sms": "none"}}'
)
UNCONFIGURED_KEY = base64.b64encode(b"not-a-key-of-any-resource-" + b"0" * 38).decode()


class Raw:
    """Requests sent exactly as given, with hand-made (and hand-broken) signatures."""

    def __init__(self, server: ServerProcess) -> None:
        self.host = f"127.0.0.1:{server.port}"
        self.client = httpx.Client(
            base_url=server.endpoint, verify=ssl.create_default_context(cafile=str(server.ca)), timeout=30
        )

    def send(
        self,
        method: str,
        target: str,
        body: bytes = b"",
        *,
        key: str = DEV_ACCESS_KEY,
        sign_method: str | None = None,
        sign_target: str | None = None,
        sign_host: str | None = None,
        sign_body: bytes | None = None,
        date: str | None = None,
        headers: dict[str, str] | None = None,
        drop: tuple[str, ...] = (),
    ) -> httpx.Response:
        """Sign (sign_method, sign_target, sign_host, sign_body), or what is sent where not given."""
        signed = sign_headers(
            sign_method or method,
            sign_target or target,
            sign_host or self.host,
            body if sign_body is None else sign_body,
            key,
            date,
        )
        all_headers = {**signed, **(headers or {})}
        if body:
            all_headers.setdefault("Content-Type", "application/json")
        for name in drop:
            all_headers.pop(name, None)
        response = self.client.request(method, target, content=body, headers=all_headers)
        assert response.request.url.raw_path.decode() == target, "the target went out as signed"
        return response


@pytest.fixture(scope="module")
def raw(server: ServerProcess) -> Iterator[Raw]:
    r = Raw(server)
    yield r
    r.client.close()


def denied(response: httpx.Response) -> dict[str, Any]:
    error = assert_acs_error(response, 401)
    api_schema(NEWEST).check(response)  # the spec's `default` response: CommunicationErrorResponse
    return error


# ---------------------------------------------------------------- controls


def test_a_correct_hand_made_signature_works(raw: Raw, http: httpx.Client) -> None:
    assert raw.send("GET", COUNTRIES).status_code == 200
    started = raw.send("POST", SEARCH, SEARCH_BODY)
    assert started.status_code == 202, started.text
    cancel(http, started.headers["search-id"])


# ---------------------------------------------------------------- missing or foreign credentials


def test_no_authorization_header(raw: Raw) -> None:
    denied(raw.send("GET", COUNTRIES, drop=("Authorization",)))
    denied(raw.send("POST", SEARCH, SEARCH_BODY, drop=("Authorization",)))


def test_no_headers_at_all(server: ServerProcess) -> None:
    with httpx.Client(base_url=server.endpoint, verify=ssl.create_default_context(cafile=str(server.ca))) as anonymous:
        denied(anonymous.get(COUNTRIES))
        denied(anonymous.delete(f"/phoneNumbers/%2B14255550100?api-version={NEWEST}"))


def test_wrong_key(raw: Raw) -> None:
    denied(raw.send("GET", COUNTRIES, key=UNCONFIGURED_KEY))
    denied(raw.send("POST", SEARCH, SEARCH_BODY, key=base64.b64encode(os.urandom(64)).decode()))


@pytest.mark.parametrize("scheme", [
    "Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln",
    "Basic ZGV2OmRldg==",
    "SharedKey devresource:c2ln",
    "hmac-sha256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=c2ln",
])
def test_non_hmac_scheme(raw: Raw, scheme: str) -> None:
    denied(raw.send("GET", COUNTRIES, headers={"Authorization": scheme}))


@pytest.mark.parametrize("garbage", [
    "garbage",
    "HMAC-SHA256",
    "HMAC-SHA256 &&&===",
    "HMAC-SHA256 Signature=",
    "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256",
    "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=",
    "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=not base64!!",
    "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=" + "A" * 10_000,
    "HMAC-SHA256 SignedHeaders=;;;&Signature=c2ln",
    "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256;x-not-sent&Signature=c2ln",
    "HMAC-SHA256\tSignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=c2ln",
    "\u00e9\u00e8 HMAC-SHA256".encode("latin-1"),
    b"HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=\xff\xfe",
], ids=repr)
def test_garbage_authorization(raw: Raw, garbage: str | bytes) -> None:
    denied(raw.send("GET", COUNTRIES, headers={"Authorization": garbage}))  # type: ignore[dict-item]


def test_signed_headers_must_cover_date_host_and_content(raw: Raw) -> None:
    good = raw.send("GET", COUNTRIES)
    assert good.status_code == 200
    signature = good.request.headers["Authorization"].split("&Signature=", 1)[1]
    for signed in ("host;x-ms-content-sha256", "x-ms-date;x-ms-content-sha256", "x-ms-date;host"):
        header = f"HMAC-SHA256 SignedHeaders={signed}&Signature={signature}"
        denied(raw.send("GET", COUNTRIES, headers={"Authorization": header}))


@pytest.mark.parametrize("header", ["x-ms-date", "x-ms-content-sha256"])
def test_signed_header_missing(raw: Raw, header: str) -> None:
    denied(raw.send("GET", COUNTRIES, drop=(header,)))


@pytest.mark.parametrize("header", ["x-ms-date", "x-ms-content-sha256"])
@pytest.mark.parametrize("value", [b"\xff\xfe\xfd", "Thu, 01 Jan 2026 00:00:00 GMT\u00e9".encode("latin-1")], ids=repr)
def test_non_ascii_signed_header(raw: Raw, header: str, value: bytes) -> None:
    denied(raw.send("GET", COUNTRIES, headers={header: value}))  # type: ignore[dict-item]


# ---------------------------------------------------------------- a signature for something else


def test_signature_for_another_path(raw: Raw) -> None:
    denied(raw.send("GET", COUNTRIES, sign_target=f"/phoneNumbers?api-version={NEWEST}"))
    denied(raw.send("GET", f"/phoneNumbers?api-version={NEWEST}", sign_target=COUNTRIES))


def test_signature_for_another_query(raw: Raw) -> None:
    denied(raw.send("GET", f"/phoneNumbers?api-version={NEWEST}&top=2", sign_target=f"/phoneNumbers?api-version={NEWEST}&top=1"))
    denied(raw.send("GET", f"/phoneNumbers?api-version={NEWEST}&top=1", sign_target=f"/phoneNumbers?api-version={NEWEST}"))
    denied(raw.send("GET", COUNTRIES, sign_target="/availablePhoneNumbers/countries?api-version=2022-12-01"))


def test_signature_for_another_method(raw: Raw) -> None:
    denied(raw.send("GET", COUNTRIES, sign_method="HEAD"))
    target = f"/phoneNumbers/operations/search_00000000-0000-0000-0000-000000000000?api-version={NEWEST}"
    denied(raw.send("DELETE", target, sign_method="GET"))


def test_body_changed_after_signing(raw: Raw) -> None:
    tampered = SEARCH_BODY.replace(b'"inbound+outbound"', b'"inbound"')
    assert tampered != SEARCH_BODY
    # The content hash header still describes the signed body: it does not match what arrives.
    error = denied(raw.send("POST", SEARCH, tampered, sign_body=SEARCH_BODY))
    assert "x-ms-content-sha256" in error["message"]
    # The attacker rewrites the content hash too: now the signature no longer matches.
    signed = sign_headers("POST", SEARCH, raw.host, SEARCH_BODY, DEV_ACCESS_KEY)
    rehashed = sign_headers("POST", SEARCH, raw.host, tampered, UNCONFIGURED_KEY)["x-ms-content-sha256"]
    denied(raw.send("POST", SEARCH, tampered, headers={**signed, "x-ms-content-sha256": rehashed}))
    # A body sent where an empty one was signed.
    denied(raw.send("POST", SEARCH, SEARCH_BODY, sign_body=b""))


@pytest.mark.parametrize("minutes", [-20, 20, -60 * 24, 60 * 24 * 365])
def test_date_outside_the_skew_window(raw: Raw, minutes: int) -> None:
    date = formatdate(time.time() + minutes * 60, usegmt=True)
    error = denied(raw.send("GET", COUNTRIES, date=date))
    assert "x-ms-date" in error["message"]


@pytest.mark.parametrize("minutes", [-5, 5])
def test_date_inside_the_skew_window(raw: Raw, minutes: int) -> None:
    assert raw.send("GET", COUNTRIES, date=formatdate(time.time() + minutes * 60, usegmt=True)).status_code == 200


@pytest.mark.parametrize("date", [
    "yesterday", "Thu, 99 Foo 2024 25:61:61 GMT", "0", "Mon, 01 Jan 10000 00:00:00 GMT", "Thu, 01 Jan 1970 00:00:00 GMT",
    "2024-01-17T03:38:28Z",
])
def test_unparseable_date(raw: Raw, date: str) -> None:
    denied(raw.send("GET", COUNTRIES, date=date))


def test_signature_for_another_host(raw: Raw) -> None:
    denied(raw.send("GET", COUNTRIES, sign_host="evil.example.com"))
    denied(raw.send("GET", COUNTRIES, sign_host="127.0.0.1"))  # the port is part of the signed host


# ---------------------------------------------------------------- keys and resources


def test_tenant2_secondary_key_works(raw: Raw) -> None:
    for key in (OTHER_KEY, OTHER_SECONDARY_KEY):
        r = raw.send("GET", f"/phoneNumbers?api-version={NEWEST}", key=key)
        assert r.status_code == 200, r.text


def test_a_key_that_is_not_configured_does_not_work(raw: Raw) -> None:
    error = denied(raw.send("GET", f"/phoneNumbers?api-version={NEWEST}", key=UNCONFIGURED_KEY))
    assert "access key" in error["message"]


def test_resources_are_isolated(server: ServerProcess, http: httpx.Client, other_http: httpx.Client) -> None:
    with bought(http, 1) as numbers:
        number = numbers[0]
        encoded = "%2B" + number[1:]
        assert http.get(f"/phoneNumbers/{encoded}", params=v(NEWEST)).status_code == 200

        with signed_client(server, OTHER_SECONDARY_KEY) as secondary:
            for client in (other_http, secondary):
                for path in (number, encoded):
                    assert_acs_error(client.get(f"/phoneNumbers/{path}", params=v(NEWEST)), 404, "NotFound")
                listed = client.get("/phoneNumbers", params=v(NEWEST, top=1000)).json()["phoneNumbers"]
                assert number not in {n["phoneNumber"] for n in listed}
                # The same answer as for a number nobody owns (the service's, recorded 2025-06): accepted, then
                # the release fails; nothing tells the number is taken, and nothing is released.
                released = client.delete(f"/phoneNumbers/{number}", params=v(NEWEST))
                assert released.status_code == 202, released.text
                assert poll(client, released.headers["Operation-Location"], NEWEST)[-1].json()["status"] == "failed"
                patched = client.patch(f"/phoneNumbers/{number}/capabilities", params=v(NEWEST),
                                       json={"sms": "none"}, headers=MERGE_PATCH)
                assert_acs_error(patched, 403, "InsufficientPermissions")

        # Still the development resource's, untouched.
        owned = http.get(f"/phoneNumbers/{number}", params=v(NEWEST))
        assert owned.status_code == 200
        assert owned.json()["capabilities"] == {"calling": "inbound+outbound", "sms": "none"}


def test_searches_and_operations_are_isolated(http: httpx.Client, other_http: httpx.Client) -> None:
    started = start_search(http, NEWEST)
    try:
        for link in (started.headers["Location"], started.headers["Operation-Location"]):
            assert_acs_error(other_http.get(link), 404, "NotFound")
        assert_acs_error(other_http.delete(started.headers["Operation-Location"]), 404, "NotFound")
        assert http.get(started.headers["Operation-Location"]).status_code == 200
    finally:
        cancel(http, started.headers["search-id"])
