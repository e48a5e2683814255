"""The admin API's inventory, catalog and operations routes over HTTP, on both engines: a CSV
import as a background job (progress, rejects, dry run), add-range, export, withdraw, the catalog
file, and the list of recent operations. Every answer is checked against the OpenAPI document."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from numberpool.core.catalog_file import demo_catalog, dump_catalog
from tests.conftest import server_data_dir, signed_client
from tests.support.acs import NEWEST, assert_acs_error, poll, purchase, search
from tests.support.admin import admin_client, running_admin_server
from tests.support.server import ServerProcess

CSV = "text/csv"
WAIT = 120.0  # seconds an import of a few rows may take on a busy machine before the test gives up


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def admin_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, development_ca: Any
) -> Iterator[ServerProcess]:
    data_dir = server_data_dir(tmp_path_factory, development_ca, f"numberpool-admin-inventory-{request.param}")
    with running_admin_server(request.param, data_dir, inventory_size=5) as process:
        yield process


@pytest.fixture()
def admin(admin_server: ServerProcess) -> Iterator[httpx.Client]:
    with admin_client(admin_server) as client:
        yield client


def database(server: ServerProcess) -> str:
    """What `numberpool ... --database` needs to reach the server's database."""
    own = server._own_database  # noqa: SLF001  (the fixture's PostgreSQL database)
    return own or str(server.data_dir / "numberpool.db")


def upload(admin: httpx.Client, body: str | bytes, **params: str) -> httpx.Response:
    return admin.post("/inventory/imports", content=body.encode() if isinstance(body, str) else body,
                      headers={"Content-Type": CSV}, params=params)


def finished(admin: httpx.Client, location: str) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT
    while True:
        job = admin.get(location.removeprefix("/_numberpool/admin/api/v1")).json()
        if job["state"] != "running":
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.2)


def numbers_file(block: str, count: int, bad: bool = True) -> str:
    """`count` good numbers of one Redmond exchange, then (bad) four rows the CLI rejects."""
    lines = ["phoneNumber,numberType"] + [f"+1425{block}{i:04d},geographic" for i in range(count)]
    if bad:
        lines += ["+1425abc,geographic", f"+1425{block}0000,geographic", "+14255550123", f"+1425{block}9999,pager"]
    return "\n".join(lines) + "\n"


# --- imports ------------------------------------------------------------------------------------


def test_a_csv_import_runs_in_the_background_and_keeps_its_rejects(
    admin_server: ServerProcess, admin: httpx.Client, tmp_path: Path
) -> None:
    body = numbers_file("731", 50)
    started = upload(admin, body, name="redmond.csv")
    assert started.status_code == 202, started.text
    job = started.json()
    assert job["state"] in ("running", "succeeded") and job["name"] == "redmond.csv" and job["dryRun"] is False
    assert job["bytesTotal"] == len(body.encode())
    assert started.headers["Location"].endswith(f"/inventory/imports/{job['id']}")

    done = finished(admin, started.headers["Location"])
    assert done["state"] == "succeeded", done
    assert (done["rowsRead"], done["imported"], done["alreadyPresent"], done["rejected"]) == (54, 50, 0, 4)
    assert done["bytesRead"] == done["bytesTotal"] and "finishedAt" in done and "error" not in done
    assert admin.get("/numbers/+14257310049").json()["state"] == "available"
    assert job["id"] in [j["id"] for j in admin.get("/inventory/imports").json()["value"]]
    events = admin.get("/audit/events").text.splitlines()
    assert any('"event":"imported"' in line and '"actor":"admin"' in line for line in events)

    # The rejects are the file the CLI's --rejects writes for the same input (a dry run now: all present).
    rejects = admin.get(f"/inventory/imports/{job['id']}/rejects")
    assert rejects.status_code == 200 and rejects.headers["content-type"].startswith(CSV)
    source, cli_rejects = tmp_path / "redmond.csv", tmp_path / "rejects.csv"
    source.write_text(body)
    cli = subprocess.run([sys.executable, "-m", "numberpool", "inventory", "import", str(source), "--dry-run",
                          "--rejects", str(cli_rejects), "--database", database(admin_server)],
                         capture_output=True, text=True, timeout=120, env={**os.environ})
    assert cli.returncode == 1 and "rejected 4" in cli.stdout, cli.stderr
    assert rejects.content == cli_rejects.read_bytes()
    rows = list(csv.reader(io.StringIO(rejects.text)))
    assert rows[0] == ["phoneNumber", "numberType", "error"] and len(rows) == 5
    assert "appears earlier in the file" in rows[2][2] and "pager" in rows[4][2]

    again = finished(admin, upload(admin, body).headers["Location"])  # idempotent, as the command is
    assert (again["imported"], again["alreadyPresent"], again["rejected"]) == (0, 50, 4)


def test_a_dry_run_counts_and_changes_nothing(admin: httpx.Client) -> None:
    job = finished(admin, upload(admin, numbers_file("732", 20, bad=False), dryRun="true").headers["Location"])
    assert job["state"] == "succeeded" and job["dryRun"] is True
    assert (job["imported"], job["rejected"]) == (20, 0)
    assert_acs_error(admin.get("/numbers/+14257320000"), 404, "NotFound")


def test_a_file_that_turns_out_not_to_be_csv_fails_the_job_with_its_line(admin: httpx.Client) -> None:
    # Past the first block the reader decodes (the header's): found by the job, not by the request;
    # fewer good rows than a load batch on either engine (SQLite's are 2,000 numbers).
    body = numbers_file("733", 1500, bad=False).encode() + b"+1425733\xff\xfe0001\n"
    job = finished(admin, upload(admin, body).headers["Location"])
    assert job["state"] == "failed" and job["error"]["code"] == "InvalidInput"
    assert "not CSV text (not UTF-8 text)" in job["error"]["message"]
    assert job["imported"] == 0  # a batch is loaded once full or at the end, which it did not reach


@pytest.mark.parametrize(("body", "message"), [
    ("", "empty"),
    ("number\n+14255550123\n", "no phoneNumber column"),
    ("phoneNumber,colour\n", "unknown column 'colour'"),
    (b"phoneNumber\n\0\0", "binary data"),
])
def test_an_unusable_file_is_refused_before_any_job(admin: httpx.Client, body: str | bytes, message: str) -> None:
    before = len(admin.get("/inventory/imports", params={"limit": 100}).json()["value"])
    error = assert_acs_error(upload(admin, body), 400, "InvalidInput")
    assert message in error["message"]
    assert len(admin.get("/inventory/imports", params={"limit": 100}).json()["value"]) == before


def test_import_input_errors(admin: httpx.Client) -> None:
    assert_acs_error(admin.post("/inventory/imports", content=b"phoneNumber\n", headers={"Content-Type": "text/plain"}),
                     415, "UnsupportedMediaType")
    assert_acs_error(upload(admin, "phoneNumber\n", dryRun="maybe"), 400, "InvalidInput")
    assert_acs_error(admin.get("/inventory/imports/00000000-0000-4000-8000-000000000000"), 404, "NotFound")
    assert_acs_error(admin.get("/inventory/imports/00000000-0000-4000-8000-000000000000/rejects"), 404, "NotFound")
    assert_acs_error(admin.get("/inventory/imports/not-a-job"), 400, "InvalidInput")
    for limit in ("0", "101", "x", "1.5"):
        assert_acs_error(admin.get("/inventory/imports", params={"limit": limit}), 400, "InvalidInput")


# --- add-range, export, withdraw -------------------------------------------------------------------


def test_add_range_export_and_withdraw(admin: httpx.Client) -> None:
    added = admin.post("/inventory:addRange", json={"first": "+14257340000", "last": "+14257340009"})
    assert added.status_code == 200, added.text
    assert added.json() == {"dryRun": False, "rows": 10, "imported": 10, "alreadyPresent": 0, "rejected": 0,
                            "rejects": []}
    again = admin.post("/inventory:addRange", json={"first": "+14257340005", "last": "+14257340014", "dryRun": True})
    assert (again.json()["imported"], again.json()["alreadyPresent"]) == (5, 5)

    withdrawn = admin.post("/inventory:withdraw", json={"phoneNumbers": ["+14257340000", "+14257340001",
                                                                        "+14257349999"]}).json()
    assert withdrawn["withdrawn"] == ["+14257340000", "+14257340001"] and withdrawn["alreadyWithdrawn"] == []
    assert withdrawn["refused"] == [{"phoneNumber": "+14257349999", "reason": "not in the inventory"}]
    assert admin.post("/inventory:withdraw", json={"phoneNumbers": ["+14257340000"]}).json()["alreadyWithdrawn"] == [
        "+14257340000"]
    history = admin.get("/numbers/+14257340000").json()["history"]
    assert [e["event"] for e in history][-1] == "withdrawn" and history[-1]["actor"] == "admin"

    exported = admin.get("/inventory/export", params={"state": "withdrawn", "country": "us"})
    assert exported.status_code == 200 and exported.headers["content-type"].startswith(CSV)
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [(r["phoneNumber"], r["state"]) for r in rows] == [("+14257340000", "withdrawn"), ("+14257340001", "withdrawn")]
    everything = list(csv.reader(io.StringIO(admin.get("/inventory/export").text)))
    assert everything[0][0] == "phoneNumber" and len(everything) - 1 == admin.get("/inventory/report").json()["total"]


@pytest.mark.parametrize(("body", "message"), [
    ({"first": "+14257350009", "last": "+14257350000"}, "comes before FIRST"),
    ({"first": "+14257350000", "last": "+442071234567"}, "different lengths"),
    ({"first": "+14257350000"}, "'last' is a required property"),
    ({"first": "+1", "last": "+1"}, "does not match"),
    ({"first": "+14257350000", "last": "+14257450000"}, "more than 100000 numbers"),
])
def test_add_range_refuses_bad_ranges(admin: httpx.Client, body: dict[str, str], message: str) -> None:
    assert message in assert_acs_error(admin.post("/inventory:addRange", json=body), 400, "InvalidInput")["message"]


def test_export_and_withdraw_input_errors(admin: httpx.Client) -> None:
    assert_acs_error(admin.get("/inventory/export", params={"state": "sold"}), 400, "InvalidInput")
    assert_acs_error(admin.get("/inventory/export", params={"country": "USA"}), 400, "InvalidInput")
    assert_acs_error(admin.post("/inventory:withdraw", json={"phoneNumbers": []}), 400, "InvalidInput")
    assert_acs_error(admin.post("/inventory:withdraw", json={"phoneNumbers": ["12x"]}), 400, "InvalidInput")


# --- catalog --------------------------------------------------------------------------------------


def test_the_catalog_file_round_trips_and_a_stranding_import_is_a_409(admin: httpx.Client) -> None:
    exported = admin.get("/catalog")
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("application/toml")
    assert exported.text == dump_catalog(demo_catalog())
    toml = {"Content-Type": "application/toml"}
    same = admin.put("/catalog", content=exported.content, headers=toml)
    assert same.status_code == 200 and same.json()["changed"] is False and same.json()["summary"] == "catalog unchanged"

    dearer = exported.text.replace("amount = 2.0,", "amount = 2.5,", 1)
    assert dearer != exported.text
    updated = admin.put("/catalog", content=dearer.encode(), headers=toml).json()
    assert updated["changed"] and len(updated["updatedOfferings"]) == 1
    events = [line for line in admin.get("/audit/events").text.splitlines() if '"catalog imported"' in line]
    assert events and '"actor":"admin"' in events[-1]

    without_us = "\n\n".join(block for block in exported.text.split("\n\n") if 'countryCode = "US"' not in block
                             or "[[countries]]" in block)
    error = assert_acs_error(admin.put("/catalog", content=without_us.encode(), headers=toml), 409, "CatalogConflict")
    assert "available US geographic numbers" in error["message"] and "force=true" in error["message"]
    assert admin.get("/catalog").text == dearer  # refused: nothing changed
    admin.put("/catalog", content=exported.content, headers=toml)


def test_catalog_input_errors(admin: httpx.Client) -> None:
    toml = {"Content-Type": "application/toml"}
    error = assert_acs_error(admin.put("/catalog", content=b"[[offerings]]\ncountryCode = 1\n", headers=toml),
                             400, "InvalidInput")
    assert error["message"].startswith("catalog:")
    assert_acs_error(admin.put("/catalog", content=b"\xff", headers=toml), 400, "InvalidInput")
    assert_acs_error(admin.put("/catalog", content=b"x = 1", headers={"Content-Type": "application/json"}), 415)
    assert_acs_error(admin.put("/catalog", content=b"#" * (1024 * 1024 + 1), headers=toml), 413)


# --- operations --------------------------------------------------------------------------------------


def test_recent_operations_are_listed_newest_first_with_status_and_pages(
    admin_server: ServerProcess, admin: httpx.Client
) -> None:
    with signed_client(admin_server) as client:
        search_ids = [search(client, NEWEST)[0] for _ in range(3)]
        poll(client, purchase(client, NEWEST, search_ids[-1]).headers["Operation-Location"], NEWEST)
    listed = admin.get("/operations", params={"resource": "devresource"}).json()["value"]
    ids = [op["id"] for op in listed]
    assert ids[:4] == [ids[0], f"search_{search_ids[2]}", f"search_{search_ids[1]}", f"search_{search_ids[0]}"]
    assert listed[0]["kind"] == "purchase" and listed[0]["status"] == "succeeded"
    assert [op["createdAt"] for op in listed] == sorted((op["createdAt"] for op in listed), reverse=True)

    pages, link = [], "/operations?limit=2&resource=devresource"
    while link and len(pages) < 10:
        page = admin.get(link.split("/_numberpool/admin/api/v1", 1)[-1]).json()
        pages.append([op["id"] for op in page["value"]])
        link = page.get("nextLink")
    assert [i for page in pages for i in page] == ids and all(len(page) <= 2 for page in pages)
    succeeded = admin.get("/operations", params={"status": "succeeded", "limit": 200}).json()["value"]
    assert set(ids) <= {op["id"] for op in succeeded}
    assert not admin.get("/operations", params={"status": "notStarted", "resource": "devresource"}).json()["value"]
    assert_acs_error(admin.get("/operations", params={"after": "yesterday"}), 400, "InvalidInput")
    assert_acs_error(admin.get("/operations", params={"status": "done"}), 400, "InvalidInput")
