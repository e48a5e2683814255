"""The admin API's numbers, audit events and inventory report over HTTP, on both engines: the same
figures and events the commands print, every answer checked against the OpenAPI document.

The database is seeded before the server starts with offerings that age released numbers, so a
released number is aging and release-aging has something to end.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from numberpool.core.inventory_report import inventory_report
from numberpool.store import Store
from tests.conftest import server_data_dir
from tests.support import postgres
from tests.support.acs import assert_acs_error
from tests.support.admin import ADMIN_TOKEN, admin_client, checked
from tests.support.sdk import TOLL_FREE_CAPS, sync_client
from tests.support.server import ServerProcess
from tests.support.stores import demo_database_with_aging, on_store

from azure.communication.phonenumbers import PhoneNumberAssignmentType, PhoneNumberType

FIRST, SECOND = "+18002000000", "+18002000001"  # the first US toll-free numbers of the demo inventory


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def aged(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
         development_ca: Path) -> Iterator[tuple[ServerProcess, str]]:
    tmp = tmp_path_factory.mktemp(f"admin-numbers-{request.param}")
    database = postgres.create_database() if request.param == "postgres" else str(tmp / "aged.db")

    demo_database_with_aging(database, 30)
    server = ServerProcess(server_data_dir(tmp_path_factory, development_ca, "admin-numbers"),
                           "--database", database, "--admin-token", ADMIN_TOKEN).start()
    with sync_client(server.connection_string, None, server) as client:
        found = client.begin_search_available_phone_numbers(
            "US", PhoneNumberType.TOLL_FREE, PhoneNumberAssignmentType.APPLICATION, TOLL_FREE_CAPS,
            area_code="800", quantity=2, polling_interval=0,
        ).result()
        assert found.phone_numbers == [FIRST, SECOND]
        client.begin_purchase_phone_numbers(found.search_id, polling_interval=0).result()
        client.begin_release_phone_number(FIRST, polling_interval=0).result()
    yield server, database
    server.stop()
    assert not [line for line in server.output if "Traceback" in line], "\n".join(server.output[-100:])
    if request.param == "postgres":
        postgres.drop_database(database)


@pytest.fixture()
def admin(aged: tuple[ServerProcess, str]) -> Iterator[httpx.Client]:
    with admin_client(aged[0]) as client:
        yield client


def test_a_purchased_number_shows_owner_offering_cost_and_history(admin: httpx.Client) -> None:
    body = admin.get(f"/numbers/{SECOND}").json()
    assert body["state"] == "purchased" and body["owner"] == "devresource"
    offering = body["offering"]
    assert (offering["phoneNumberType"], offering["assignmentType"]) == ("tollFree", "application")
    assert set(offering["capabilities"]) == {"calling", "sms"}
    assert body["cost"]["amount"] > 0 and body["cost"]["currencyCode"] == "USD"
    assert "agingUntil" not in body and "purchaseDate" in body
    assert [(e["event"], e["actor"]) for e in body["history"]] == [
        ("held", "devresource"), ("purchased", "devresource")]
    assert admin.get("/numbers/18002000001").json() == body  # the '+' may be left out


def test_release_aging_ends_the_aging_of_the_numbers_that_age(admin: httpx.Client) -> None:
    aging = admin.get(f"/numbers/{FIRST}").json()
    if aging["state"] == "aging":  # the first engine's run of this test is the one that ends it
        assert "agingUntil" in aging and "owner" not in aging
        assert aging["history"][-1]["event"] == "released"
        answer = admin.post("/numbers:releaseAging", json={"phoneNumbers": [FIRST, SECOND, FIRST]})
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"released": [FIRST], "notAging": [SECOND]}
    shown = admin.get(f"/numbers/{FIRST}").json()
    assert shown["state"] == "available" and "agingUntil" not in shown
    last = shown["history"][-1]
    assert (last["event"], last["oldState"], last["newState"], last["actor"]) == (
        "aging ended", "aging", "available", "admin")
    again = admin.post("/numbers:releaseAging", json={"phoneNumbers": [FIRST]}).json()
    assert again == {"released": [], "notAging": [FIRST]}


@pytest.mark.parametrize("body, target", [
    ({"phoneNumbers": []}, "phoneNumbers"),
    ({"phoneNumbers": ["call me"]}, "phoneNumbers.0"),
    ({"phoneNumbers": [FIRST, "+1abc"]}, "phoneNumbers.1"),
    ({"numbers": [FIRST]}, None),
])
def test_release_aging_rejects_bad_input(admin: httpx.Client, body: Any, target: str | None) -> None:
    error = assert_acs_error(admin.post("/numbers:releaseAging", json=body), 400)
    if target is not None:
        assert error.get("target") == target, error


def test_unknown_and_malformed_numbers(admin: httpx.Client) -> None:
    assert_acs_error(admin.get("/numbers/+19995550000"), 404, "NotFound")
    error = assert_acs_error(admin.get("/numbers/not-a-number"), 400, "InvalidInput")
    assert error["target"] == "phoneNumber"


def lines_text(lines: list[str]) -> str:
    return "".join(line + "\n" for line in lines)


def test_audit_events_stream_in_both_formats_as_the_export_writes_them(admin: httpx.Client) -> None:
    lines = admin.get("/audit/events").text.splitlines()
    assert admin.get("/audit/events").headers["content-type"].startswith("application/x-ndjson")
    events = [json.loads(line) for line in lines]
    assert [e["id"] for e in events] == sorted(e["id"] for e in events)
    mine = [e["event"] for e in events if e["phone_number"] == SECOND]
    assert mine == ["held", "purchased"]
    as_csv = admin.get("/audit/events", params={"format": "csv"})
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert [int(r["id"]) for r in rows] == [e["id"] for e in events]
    assert admin.get("/audit/events", params={"until": "2000-01-01T00:00:00Z"}).text == ""
    assert admin.get("/audit/events", params={"since": "2000-01-01T00:00:00", "format": "csv"}).text == as_csv.text
    assert admin.get("/audit/events", params={"since": "2999-01-01T00:00:00Z"}).text == ""
    for rfc3339 in ("2000-01-01t00:00:00z", "1998-12-31T23:59:60Z", "2000-01-01T01:00:00.123456789+01:00"):
        assert admin.get("/audit/events", params={"since": rfc3339}).text == lines_text(lines), rfc3339
    backwards = {"since": "2026-03-02T00:00:00Z", "until": "2026-03-01T00:00:00Z", "format": "csv"}
    assert admin.get("/audit/events", params=backwards).text == as_csv.text.splitlines(keepends=True)[0]


@pytest.mark.parametrize("params, target", [
    ({"since": "yesterday"}, "since"),
    ({"format": "xml"}, "format"),
    ({"limit": "3"}, "limit"),
])
def test_audit_events_reject_bad_parameters(admin: httpx.Client, params: dict[str, str], target: str) -> None:
    assert assert_acs_error(admin.get("/audit/events", params=params), 400)["target"] == target


def test_the_inventory_report_has_the_figures_the_command_prints(
    aged: tuple[ServerProcess, str], admin: httpx.Client
) -> None:
    served = admin.get("/inventory/report").json()

    async def expected(store: Store) -> dict[str, object]:
        return (await inventory_report(store)).as_json()

    assert served == on_store(aged[1], expected)
    assert served["byState"]["purchased"] == 1 and served["total"] == sum(g["count"] for g in served["groups"])


def test_resource_changes_are_audit_events_that_never_hold_a_key(
    aged: tuple[ServerProcess, str], admin: httpx.Client
) -> None:
    created = admin.post("/resources", json={"id": "audited"}).json()
    rotated = admin.post("/resources/audited/rotateKey", json={"key": "secondary"}).json()
    with sync_client(f"endpoint={aged[0].endpoint}/;accesskey={created['primaryKey']}", None, aged[0]) as client:
        found = client.begin_search_available_phone_numbers(
            "US", PhoneNumberType.TOLL_FREE, PhoneNumberAssignmentType.APPLICATION, TOLL_FREE_CAPS,
            quantity=1, polling_interval=0,
        ).result()
        client.begin_purchase_phone_numbers(found.search_id, polling_interval=0).result()
    assert_acs_error(admin.delete("/resources/audited"), 409)
    assert admin.delete("/resources/audited", params={"releaseNumbers": "true"}).json()["releasedNumbers"] == 1
    text = admin.get("/audit/events").text
    for key in (created["primaryKey"], created["secondaryKey"], rotated["secondaryKey"], ADMIN_TOKEN):
        assert key not in text
    mine = [e for e in map(json.loads, text.splitlines()) if e["resource"] == "audited"]
    assert [(e["event"], e["actor"], e["detail"]) for e in mine if e["phone_number"] is None] == [
        ("resource created", "admin", None), ("key rotated", "admin", "key=secondary"),
        ("resource deleted", "admin", "released=1")]
    (number,) = found.phone_numbers
    history = admin.get(f"/numbers/{number}").json()
    assert history["state"] == "aging" and "owner" not in history  # released through the inventory's release
    released = history["history"][-1]
    assert (released["event"], released["actor"], released["resource"]) == ("released", "admin", "audited")


def test_answers_were_checked_against_the_document() -> None:
    """The checking hook really ran on success and error answers of these operations (runs after the tests above)."""
    if not checked:
        pytest.skip("run with the other tests of this module")
    seen = {(operation, status) for operation, _, status in checked}
    for operation in ("Numbers_Get", "Numbers_ReleaseAging", "AuditEvents_Export"):
        assert any(op == operation and status < 300 for op, status in seen), operation
        assert any(op == operation and status >= 400 for op, status in seen), operation
    assert ("Inventory_Report", 200) in seen
