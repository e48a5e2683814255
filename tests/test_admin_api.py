"""The admin API over HTTP, on both engines: resources and keys, authentication attacks,
input errors, and every answer checked against the OpenAPI document the code generates."""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from numberpool.core.resources import DEV_ACCESS_KEY
from tests.conftest import OTHER_KEY, server_data_dir, signed_client
from tests.support.acs import NEWEST, assert_acs_error, poll, purchase, search, v
from tests.support.admin import ADMIN_TOKEN, API, DOCUMENT, admin_client, checked, running_admin_server
from tests.support.server import ServerProcess

SEEN_WITHIN = 5.0  # seconds: a change reaches every process

@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def admin_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, development_ca: Any
) -> Iterator[ServerProcess]:
    data_dir = server_data_dir(tmp_path_factory, development_ca, f"numberpool-admin-{request.param}")
    with running_admin_server(request.param, data_dir, inventory_size=20) as process:
        yield process


@pytest.fixture()
def admin(admin_server: ServerProcess) -> Iterator[httpx.Client]:
    with admin_client(admin_server) as client:
        yield client


def acs_status(server: ServerProcess, key: str) -> int:
    with signed_client(server, key) as client:
        return client.get("/phoneNumbers", params=v(NEWEST)).status_code


# --- authentication -----------------------------------------------------------------------


ADMIN_PATHS = [("GET", "/resources"), ("POST", "/resources"), ("GET", "/resources/devresource"),
               ("POST", "/resources/devresource/rotateKey"), ("DELETE", "/resources/devresource"),
               ("GET", "/openapi.json"), ("GET", "/numbers/+18002000000"), ("POST", "/numbers:releaseAging"),
               ("GET", "/audit/events"), ("GET", "/inventory/report"), ("POST", "/inventory/imports"),
               ("GET", "/inventory/imports"), ("GET", "/inventory/imports/00000000-0000-4000-8000-000000000000"),
               ("GET", "/inventory/imports/00000000-0000-4000-8000-000000000000/rejects"),
               ("POST", "/inventory:addRange"), ("GET", "/inventory/export"), ("POST", "/inventory:withdraw"),
               ("GET", "/catalog"), ("PUT", "/catalog"), ("GET", "/operations"), ("GET", "/numbers"),
               ("GET", "/activity")]


@pytest.mark.parametrize(("method", "path"), ADMIN_PATHS)
def test_without_a_configured_token_every_admin_path_is_404(server: ServerProcess, method: str, path: str) -> None:
    """The session server runs without --admin-token: the admin API does not exist, whatever is sent."""
    for token in (ADMIN_TOKEN, None):
        with admin_client(server, token) as client:
            assert_acs_error(client.request(method, path, json={"id": "x"}), 404, "NotFound")


@pytest.mark.parametrize(("method", "path"), ADMIN_PATHS)
@pytest.mark.parametrize("token", [None, "wrong-token", ADMIN_TOKEN[:-1], ADMIN_TOKEN + "x", DEV_ACCESS_KEY, OTHER_KEY])
def test_a_missing_or_wrong_token_is_401(admin_server: ServerProcess, method: str, path: str, token: str | None) -> None:
    """Including a resource's access key given as the bearer token."""
    with admin_client(admin_server, token) as client:
        error = assert_acs_error(client.request(method, path, json={"id": "x"}), 401, "Unauthorized")
    assert ADMIN_TOKEN not in error["message"]


def test_a_request_signed_with_a_resource_key_does_not_open_the_admin_api(admin_server: ServerProcess) -> None:
    with signed_client(admin_server) as client:  # HMAC-SHA256 with the development key
        assert_acs_error(client.get(API + "/resources"), 401, "Unauthorized")
        assert_acs_error(client.post(API + "/resources", json={"id": "sneaky"}), 401, "Unauthorized")
    with admin_client(admin_server) as admin:
        assert admin.get("/resources/sneaky").status_code == 404


def test_the_admin_token_does_not_open_the_acs_api(admin_server: ServerProcess) -> None:
    verify = ssl.create_default_context(cafile=str(admin_server.ca))
    with httpx.Client(base_url=admin_server.endpoint, verify=verify, timeout=30) as client:
        for path in ("/phoneNumbers", "/availablePhoneNumbers/countries"):
            response = client.get(path, params=v(NEWEST), headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
            assert_acs_error(response, 401, "Denied")


# --- resources and keys -------------------------------------------------------------------


def test_a_created_resource_works_with_both_keys_and_its_connection_string(
    admin_server: ServerProcess, admin: httpx.Client
) -> None:
    created = admin.post("/resources", json={"id": "contoso"})
    assert created.status_code == 201, created.text
    body = created.json()
    assert created.headers["location"] == f"{API}/resources/contoso"
    assert body["connectionString"] == f"endpoint={admin_server.endpoint}/;accesskey={body['primaryKey']}"
    assert body["primaryKey"] != body["secondaryKey"]
    for key in (body["primaryKey"], body["secondaryKey"]):  # at once on the process that issued them
        assert acs_status(admin_server, key) == 200
    listed = admin.get("/resources").json()["value"]
    assert [r["id"] for r in listed] == sorted(r["id"] for r in listed)
    contoso = next(r for r in listed if r["id"] == "contoso")
    assert contoso["keys"] == ["primary", "secondary"] and not contoso["declared"] and contoso["ownedNumbers"] == 0
    assert "primaryKey" not in contoso and body["primaryKey"] not in admin.get("/resources/contoso").text
    assert_acs_error(admin.post("/resources", json={"id": "contoso"}), 409, "ResourceExists")
    assert admin.delete("/resources/contoso").status_code == 200


def test_declared_resources_are_listed(admin: httpx.Client) -> None:
    dev = admin.get("/resources/devresource").json()
    assert dev["declared"] and dev["keys"] == ["primary"]


def test_show_counts_owned_numbers_and_last_activity_and_delete_is_refused_while_it_owns_some(
    admin_server: ServerProcess, admin: httpx.Client
) -> None:
    key = admin.post("/resources", json={"id": "fabrikam"}).json()["primaryKey"]
    assert acs_status(admin_server, key) == 200
    before = admin.get("/resources/fabrikam").json()
    assert before["ownedNumbers"] == 0 and "lastActivity" not in before
    with signed_client(admin_server, key) as tenant:
        search_id, numbers = search(tenant, NEWEST, quantity=2)
        assert poll(tenant, purchase(tenant, NEWEST, search_id).headers["Operation-Location"], NEWEST)[-1].json()[
            "status"] == "succeeded"
        shown = admin.get("/resources/fabrikam").json()
        assert shown["ownedNumbers"] == 2 and shown["lastActivity"] >= shown["createdAt"]
        listed = {r["id"]: r for r in admin.get("/resources").json()["value"]}
        assert listed["fabrikam"]["ownedNumbers"] == 2
        error = assert_acs_error(admin.delete("/resources/fabrikam"), 409, "ResourceOwnsNumbers")
        assert "2 phone number" in error["message"]
        deleted = admin.delete("/resources/fabrikam", params={"releaseNumbers": "true"})
        assert deleted.json() == {"id": "fabrikam", "releasedNumbers": 2}
        assert acs_status(admin_server, key) == 401
        with signed_client(admin_server) as dev:  # the numbers are for sale again: nobody owns them
            for number in numbers:
                assert dev.get(f"/phoneNumbers/{number}", params=v(NEWEST)).status_code == 404
    assert_acs_error(admin.get("/resources/fabrikam"), 404, "ResourceNotFound")
    assert_acs_error(admin.delete("/resources/fabrikam"), 404, "ResourceNotFound")


@pytest.mark.parametrize("slot", ["primary", "secondary"])
def test_rotating_a_key_keeps_the_other_one_working(admin_server: ServerProcess, admin: httpx.Client, slot: str) -> None:
    resource = f"rotating-{slot}"
    keys = admin.post("/resources", json={"id": resource}).json()
    old, other = (keys["primaryKey"], keys["secondaryKey"]) if slot == "primary" else (keys["secondaryKey"], keys["primaryKey"])
    assert acs_status(admin_server, old) == 200
    rotated = admin.post(f"/resources/{resource}/rotateKey", json={"key": slot})
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()[f"{slot}Key"]
    assert set(rotated.json()) == {"id", f"{slot}Key", "connectionString"} and new not in (old, other)
    assert acs_status(admin_server, old) == 401
    assert acs_status(admin_server, new) == 200
    assert acs_status(admin_server, other) == 200
    assert admin.delete(f"/resources/{resource}").status_code == 200


# --- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(("body", "target"), [
    ({}, None),
    ({"id": ""}, "id"),
    ({"id": "has space"}, "id"),
    ({"id": "-leading-dash"}, "id"),
    ({"id": "x" * 64}, "id"),
    ({"id": 7}, "id"),
    ({"id": "ok", "extra": 1}, None),
    ([], None),
    ("contoso", None),
])
def test_create_rejects_bad_bodies(admin: httpx.Client, body: Any, target: str | None) -> None:
    error = assert_acs_error(admin.post("/resources", json=body), 400, "InvalidInput")
    assert error.get("target") == target


def test_bodies_must_be_json(admin: httpx.Client) -> None:
    assert_acs_error(admin.post("/resources", content=b"{not json", headers={"Content-Type": "application/json"}),
                     400, "BadRequest")
    assert_acs_error(admin.post("/resources", content=b"", headers={"Content-Type": "application/json"}),
                     400, "BadRequest")
    assert_acs_error(admin.post("/resources", content=b'{"id": "x"}', headers={"Content-Type": "text/plain"}),
                     415, "UnsupportedMediaType")
    assert_acs_error(admin.post("/resources", content=b"\xff\xfe", headers={"Content-Type": "application/json"}),
                     400, "BadRequest")
    too_big = b'{"id": "' + b"x" * 70_000 + b'"}'
    assert_acs_error(admin.post("/resources", content=too_big, headers={"Content-Type": "application/json"}),
                     413, "RequestEntityTooLarge")


def test_rotate_and_delete_reject_bad_input(admin: httpx.Client) -> None:
    for body in ({"key": "tertiary"}, {"key": None}, {}, {"key": "primary", "also": 1}):
        assert_acs_error(admin.post("/resources/devresource/rotateKey", json=body), 400, "InvalidInput")
    assert_acs_error(admin.post("/resources/nobody/rotateKey", json={"key": "primary"}), 404, "ResourceNotFound")
    assert_acs_error(admin.post("/resources/bad%20id/rotateKey", json={"key": "primary"}), 400, "InvalidInput")
    assert_acs_error(admin.delete("/resources/devresource", params={"releaseNumbers": "yes"}), 400, "InvalidInput")
    assert_acs_error(admin.get("/resources/" + "x" * 64), 400, "InvalidInput")
    error = assert_acs_error(admin.delete("/resources/devresource", params={"release": "true"}), 400, "InvalidInput")
    assert error["target"] == "release"
    assert admin.get("/resources/devresource").status_code == 200  # nothing was deleted


def test_unknown_methods_and_paths(admin: httpx.Client) -> None:
    response = admin.put("/resources", json={})
    assert_acs_error(response, 405, "MethodNotAllowed")
    assert set(response.headers["allow"].replace(" ", "").split(",")) >= {"GET", "POST"}
    assert_acs_error(admin.get("/nothing-here"), 404, "NotFound")


# --- the document -------------------------------------------------------------------------


def test_the_served_document_is_the_one_the_code_generates(admin: httpx.Client) -> None:
    served = admin.get("/openapi.json")
    assert served.status_code == 200
    assert served.json() == DOCUMENT
    assert DOCUMENT["openapi"].startswith("3.")
    operations = {op["operationId"] for item in DOCUMENT["paths"].values() for op in item.values()}
    assert operations == {"Resources_List", "Resources_Create", "Resources_Get", "Resources_RotateKey",
                          "Resources_Delete", "Numbers_Get", "Numbers_ReleaseAging", "AuditEvents_Export",
                          "Inventory_Report", "Numbers_List", "Activity_Hourly", "InventoryImports_Start",
                          "InventoryImports_List", "InventoryImports_Get", "InventoryImports_Rejects", "Inventory_AddRange", "Inventory_Export", "Inventory_Withdraw",
                          "Catalog_Export", "Catalog_Import", "Operations_List"}


def test_answers_were_checked_against_the_document() -> None:
    """The checking hook really ran: success and error answers of every operation (runs after the tests above)."""
    if not checked:
        pytest.skip("run with the other tests of this module")
    seen = {(operation, status) for operation, _, status in checked}
    for operation in ("Resources_List", "Resources_Create", "Resources_Get", "Resources_RotateKey", "Resources_Delete"):
        assert any(op == operation and status < 300 for op, status in seen), operation
        assert any(op == operation and status >= 400 for op, status in seen), operation


# --- declared at start ----------------------------------------------------------------------


def test_resources_declared_by_flags_and_config_are_stored_once(
    tmp_path_factory: pytest.TempPathFactory, development_ca: Any
) -> None:
    data_dir = server_data_dir(tmp_path_factory, development_ca, "declared")
    config = data_dir / "numberpool.toml"
    config.write_text(f'[[resources]]\nid = "from-config"\nkeys = ["{OTHER_KEY}", "{DEV_ACCESS_KEY}"]\n')
    args = ("--inventory-size", "5", "--admin-token", ADMIN_TOKEN, "--resource", f"from-flag={OTHER_KEY}",
            "--config", str(config))
    first = ServerProcess(data_dir, *args).start()
    try:
        with admin_client(first) as admin:
            before = {r["id"]: r for r in admin.get("/resources").json()["value"]}
        assert {i: (r["declared"], r["keys"]) for i, r in before.items()} == {
            "devresource": (True, ["primary"]), "from-flag": (True, ["primary"]),
            "from-config": (True, ["primary", "secondary"])}
        assert acs_status(first, OTHER_KEY) == 200
        assert any("declared resources stored: devresource, from-flag, from-config" in line for line in first.output)
    finally:
        first.stop()
    again = ServerProcess(data_dir, *args).start()  # the same declarations: nothing changes
    try:
        with admin_client(again) as admin:
            assert {r["id"]: r for r in admin.get("/resources").json()["value"]} == before
        assert not any("declared resources stored" in line for line in again.output)
    finally:
        again.stop()


def test_workers_share_the_resources(tmp_path_factory: pytest.TempPathFactory, development_ca: Any) -> None:
    """Two worker processes on one port: a key created through one opens requests on both within 5 s."""
    server = ServerProcess(server_data_dir(tmp_path_factory, development_ca, "workers"),
                           "--inventory-size", "5", "--admin-token", ADMIN_TOKEN, "--workers", "2").start()
    try:
        with admin_client(server) as admin:
            # The parent reports ready once the port is bound; the workers listen when they have started.
            deadline = time.monotonic() + 120
            while True:
                try:
                    key = admin.post("/resources", json={"id": "multi"}).json()["primaryKey"]
                    break
                except httpx.ConnectError:
                    assert time.monotonic() < deadline, "the workers did not start"
                    time.sleep(0.5)
        time.sleep(SEEN_WITHIN)
        assert all(acs_status(server, key) == 200 for _ in range(20))  # new connections: both workers answer
    finally:
        server.stop()
