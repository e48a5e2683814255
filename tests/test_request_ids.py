"""Request ids as ACS sends them, on every kind of response: success, error, unmatched path, admin path, health."""

from __future__ import annotations

import os
import re
import ssl
import uuid

import httpx
import pytest

from tests.support.acs import NEWEST, start_search, v
from tests.support.server import ServerProcess

CORRELATION_VECTOR = re.compile(r"[A-Za-z0-9+/]{22}\.0")


@pytest.fixture()
def plain(server: ServerProcess):
    with httpx.Client(base_url=server.endpoint, verify=ssl.create_default_context(cafile=str(server.ca))) as client:
        yield client


def assert_ids(response: httpx.Response, client_request_id: str | None = None) -> None:
    request_id = response.headers["x-ms-request-id"]
    assert str(uuid.UUID(request_id)) == request_id
    assert CORRELATION_VECTOR.fullmatch(response.headers["MS-CV"]), response.headers["MS-CV"]
    assert response.headers.get("x-ms-client-request-id") == client_request_id


def test_a_successful_acs_call_carries_the_ids_and_echoes_the_client_request_id(http):
    sent = str(uuid.uuid4())
    response = http.get("/availablePhoneNumbers/countries", params=v(NEWEST), headers={"x-ms-client-request-id": sent})
    assert response.status_code == 200
    assert_ids(response, sent)
    assert "x-ms-error-code" not in response.headers
    assert_ids(start_search(http, NEWEST))


def test_each_response_has_its_own_request_id(http):
    ids = {http.get("/availablePhoneNumbers/countries", params=v(NEWEST)).headers["x-ms-request-id"] for _ in range(5)}
    assert len(ids) == 5


def test_errors_carry_the_error_code_header(http, plain):
    not_found = http.get("/phoneNumbers/+15550100000", params=v(NEWEST), headers={"x-ms-client-request-id": "mine"})
    assert not_found.status_code == 404
    assert not_found.headers["x-ms-error-code"] == not_found.json()["error"]["code"]
    assert_ids(not_found, "mine")
    unsigned = plain.get("/availablePhoneNumbers/countries", params=v(NEWEST))
    assert unsigned.status_code == 401
    assert unsigned.headers["x-ms-error-code"] == unsigned.json()["error"]["code"]
    assert_ids(unsigned)


@pytest.mark.parametrize("method, path", [
    ("GET", "/no/such/path"),
    ("PUT", "/phoneNumbers"),  # 405: the path exists, the method does not
    ("GET", "/_numberpool/admin/api/v1/resources"),  # the admin surface, closed without a token
    ("GET", "/livez"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
])
def test_every_path_carries_the_ids(plain, method, path):
    response = plain.request(method, path, headers={"x-ms-client-request-id": "probe-1"})
    assert_ids(response, "probe-1")
    if response.status_code >= 400:
        assert response.headers["x-ms-error-code"] == response.json()["error"]["code"]


def test_a_client_correlation_vector_is_extended(plain):
    response = plain.get("/livez", headers={"MS-CV": "AAAAAAAAAAAAAAAAAAAAAA.1"})
    assert response.headers["MS-CV"] == "AAAAAAAAAAAAAAAAAAAAAA.1.0"
    not_a_vector = plain.get("/livez", headers={"MS-CV": "hello world"})
    assert CORRELATION_VECTOR.fullmatch(not_a_vector.headers["MS-CV"])


def test_ids_are_version_4_uuids_and_vectors_unique_in_a_process_and_its_forked_child():
    from numberpool.api.request_ids import request_ids

    made = [request_ids({}) for _ in range(1000)]
    for ids in made[:3]:
        assert uuid.UUID(ids.request_id).version == 4 and str(uuid.UUID(ids.request_id)) == ids.request_id
        assert CORRELATION_VECTOR.fullmatch(ids.correlation_vector)
    assert len({ids.request_id for ids in made}) == len({ids.correlation_vector for ids in made}) == 1000
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # a forked worker draws its own prefixes: never its parent's next ids
        os.write(write, " ".join([request_ids({}).request_id, request_ids({}).correlation_vector]).encode())
        os._exit(0)
    os.close(write)
    child_id, child_vector = os.read(read, 200).decode().split()
    os.close(read)
    os.waitpid(child, 0)
    parent = request_ids({})
    assert child_id[:24] != parent.request_id[:24] and child_vector[:11] != parent.correlation_vector[:11]


def test_stored_ids_share_the_counter_and_stay_version_4_uuids_in_a_forked_child():
    from numberpool.api.request_ids import request_ids
    from numberpool.core.context import new_id

    made = [new_id() for _ in range(1000)] + [request_ids({}).request_id for _ in range(1000)]
    assert all(uuid.UUID(i).version == 4 and uuid.UUID(i).variant == uuid.RFC_4122 for i in made[::97])
    assert len(set(made)) == 2000  # searches, operations and requests never share an id
    read, write = os.pipe()
    child = os.fork()
    if child == 0:
        os.write(write, new_id().encode())
        os._exit(0)
    os.close(write)
    child_id = os.read(read, 100).decode()
    os.close(read)
    os.waitpid(child, 0)
    assert uuid.UUID(child_id).version == 4 and child_id[:24] != new_id()[:24]
