"""The admin console and the admin routes it added, over HTTP without a browser, on both engines:
the paged numbers search and the 24-hour activity (checked against the OpenAPI document and the
database), and the console's security: its policy headers, cookie flags, CSRF refusals, and 404
without an admin token. The browser tests are tests/test_console_browser.py.
"""

from __future__ import annotations

import asyncio
import html
import re
import sqlite3
import ssl
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import asyncpg
import httpx
import pytest

from azure.communication.phonenumbers import PhoneNumberAssignmentType, PhoneNumberType
from azure.core.exceptions import HttpResponseError
from numberpool.api.console.app import PAGE_SIZE
from numberpool.core.storage import NumberFilter
from numberpool.store.admin_queries import numbers_page_sql
from tests.conftest import server_data_dir
from tests.support.acs import assert_acs_error
from tests.support.admin import ADMIN_TOKEN, admin_client
from tests.support.sdk import TOLL_FREE_CAPS, sync_client
from tests.support.server import ServerProcess
from tests.support.stores import fetch

CONSOLE = "/_numberpool/admin"


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
           development_ca: Path) -> Iterator[tuple[ServerProcess, list[str]]]:
    """A server with an admin token (testing mode) and the numbers one SDK purchase bought."""
    server = ServerProcess(server_data_dir(tmp_path_factory, development_ca, f"console-{request.param}"),
                           "--testing", "--admin-token", ADMIN_TOKEN, "--inventory-size", "20",
                           engine=request.param).start()
    with sync_client(server.connection_string, None, server) as client:
        found = client.begin_search_available_phone_numbers(
            "US", PhoneNumberType.TOLL_FREE, PhoneNumberAssignmentType.APPLICATION, TOLL_FREE_CAPS,
            area_code="800", quantity=2, polling_interval=0).result()
        client.begin_purchase_phone_numbers(found.search_id, polling_interval=0).result()
    yield server, found.phone_numbers
    server.stop()
    assert not [line for line in server.output if "Traceback" in line], "\n".join(server.output[-100:])


@pytest.fixture()
def admin(served: tuple[ServerProcess, list[str]]) -> Iterator[httpx.Client]:
    with admin_client(served[0]) as client:
        yield client


def database(server: ServerProcess) -> str:
    args = list(server.args)
    return args[args.index("--database") + 1] if "--database" in args else (
        server._own_database or str(server.data_dir / "numberpool.db"))


def query(server: ServerProcess, sql: str) -> list[tuple]:
    return asyncio.run(fetch(database(server), sql))


# --- GET /numbers ---------------------------------------------------------------------------

def walk(admin: httpx.Client, **params: str) -> list[dict]:
    """Every page of a numbers search, following the continuation."""
    found: list[dict] = []
    while True:
        answer = admin.get("/numbers", params=params)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        found += body["value"]
        if "continuation" not in body:
            return found
        assert len(body["value"]) == int(params.get("pageSize", 50))
        params = {**params, "continuation": body["continuation"]}


def test_the_numbers_search_pages_through_exactly_what_the_database_holds(
        admin: httpx.Client, served: tuple[ServerProcess, list[str]]) -> None:
    server, _ = served
    expected = [row[0] for row in query(server, "SELECT phone_number FROM numbers WHERE phone_number LIKE '+1800%'"
                                                " ORDER BY phone_number")]
    assert len(expected) > 7
    assert [n["phoneNumber"] for n in walk(admin, prefix="1800", pageSize="7")] == expected
    everything = walk(admin, pageSize="1000")
    assert len(everything) == query(server, "SELECT COUNT(*) FROM numbers")[0][0]


def test_the_numbers_search_filters_by_state_country_and_resource(
        admin: httpx.Client, served: tuple[ServerProcess, list[str]]) -> None:
    server, bought = served
    assert [n["phoneNumber"] for n in walk(admin, state="purchased", resource="devresource")] == sorted(bought)
    purchased = walk(admin, state="purchased")
    assert {n["phoneNumber"] for n in purchased} >= set(bought)
    assert all(n["owner"] and n["state"] == "purchased" for n in purchased)
    gb = walk(admin, country="GB", pageSize="5")
    assert gb and all(n["countryCode"] == "GB" and n["phoneNumber"].startswith("+44") for n in gb)
    assert len(gb) == query(server, "SELECT COUNT(*) FROM numbers WHERE country = 'GB'")[0][0]
    assert walk(admin, prefix="+1800", country="GB") == []
    assert walk(admin, resource="tenant-nobody") == []


@pytest.mark.parametrize("params, target", [
    ({"pageSize": "0"}, "pageSize"), ({"pageSize": "1001"}, "pageSize"), ({"prefix": "abc"}, "prefix"),
    ({"state": "sold"}, "state"), ({"country": "usa"}, "country"), ({"continuation": "bm90LWEtbnVtYmVy"}, "continuation"),
    ({"continuation": "!!"}, "continuation"), ({"colour": "red"}, "colour"),
])
def test_the_numbers_search_rejects_bad_parameters(admin: httpx.Client, params: dict, target: str) -> None:
    error = assert_acs_error(admin.get("/numbers", params=params), 400)
    assert error.get("target") == target, error


def test_the_activity_counts_the_last_24_hours_from_the_audit_trail(
        admin: httpx.Client, served: tuple[ServerProcess, list[str]]) -> None:
    server, bought = served
    hours = admin.get("/activity").json()["hours"]
    assert len(hours) == 24
    starts = [h["start"] for h in hours]
    assert starts == sorted(starts) and all(re.search(r"T\d\d:00:00", s) for s in starts)
    (purchases,) = query(server, "SELECT COUNT(*) FROM number_events WHERE event = 'purchased'")[0]
    (searches,) = query(server, "SELECT COUNT(DISTINCT reference) FROM number_events WHERE event = 'held'")[0]
    assert purchases >= len(bought) and searches >= 1
    assert (sum(h["purchases"] for h in hours), sum(h["searches"] for h in hours)) == (purchases, searches)


# --- the console's security -----------------------------------------------------------------

@pytest.fixture()
def browser_like(served: tuple[ServerProcess, list[str]]) -> Iterator[httpx.Client]:
    server = served[0]
    with httpx.Client(base_url=server.endpoint + CONSOLE, verify=ssl.create_default_context(cafile=str(server.ca)),
                      timeout=30) as client:
        yield client


def sign_in(client: httpx.Client) -> str:
    """Signs in; returns the CSRF token the pages carry."""
    answer = client.post("/login", data={"token": ADMIN_TOKEN})
    assert answer.status_code == 303 and answer.headers["location"] == f"{CONSOLE}/"
    page = client.get("/resources").text
    match = re.search(r'name="csrf" value="([^"]+)"', page)
    assert match, page[:500]
    return match.group(1)


def test_every_console_answer_carries_the_strict_policy(browser_like: httpx.Client) -> None:
    paths = ["/login", "/", "/static/console.css", "/static/console.js", "/static/missing.css"]
    answers = [browser_like.get(path) for path in paths]
    sign_in(browser_like)
    answers += [browser_like.get(path) for path in ["/", "/numbers", "/resources", "/faults", "/import", "/operations"]]
    for answer in answers:
        policy = answer.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "default-src 'none'" in policy and "unsafe" not in policy, answer.url
        assert answer.headers["x-content-type-options"] == "nosniff"
    page = answers[-1].text
    assert "<script>" not in page and " style=" not in page and "http://" not in page and "https://" not in page
    chart = browser_like.get("/charts/stock.svg")
    assert chart.headers["content-type"] == "image/svg+xml" and b"<script" not in chart.content
    assert "script-src" not in chart.headers["content-security-policy"]  # default-src 'none': no script at all


def test_the_session_cookie_is_signed_httponly_and_strict(browser_like: httpx.Client) -> None:
    wrong = browser_like.post("/login", data={"token": ADMIN_TOKEN + "x"})
    assert wrong.status_code == 401 and "set-cookie" not in wrong.headers
    assert "That admin token is not valid." in wrong.text
    answer = browser_like.post("/login", data={"token": ADMIN_TOKEN})
    cookie = answer.headers["set-cookie"]
    flags = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "secure", "path", "samesite"} <= flags and "samesite=strict" in cookie.lower()
    assert ADMIN_TOKEN not in cookie
    name, value = cookie.split(";")[0].split("=", 1)
    browser_like.cookies.clear()
    forged = value[:-2] + ("AA" if not value.endswith("AA") else "BB")
    browser_like.cookies.set(name, forged)
    answer = browser_like.get("/")
    assert answer.status_code == 303 and answer.headers["location"].endswith("/login")


def test_a_change_without_the_sessions_csrf_token_is_refused_and_changes_nothing(
        browser_like: httpx.Client, admin: httpx.Client) -> None:
    csrf = sign_in(browser_like)
    for form in ({"id": "csrf-victim"}, {"id": "csrf-victim", "csrf": "guessed"}, {"id": "csrf-victim", "csrf": ""}):
        refused = browser_like.post("/resources", data=form)
        assert refused.status_code == 403, refused.text
    assert "csrf-victim" not in [r["id"] for r in admin.get("/resources").json()["value"]]
    made = browser_like.post("/resources", data={"id": "csrf-victim", "csrf": csrf})
    assert made.status_code == 201 and "connectionString" not in made.text and "accesskey=" in made.text
    stranger = httpx.Client(base_url=str(browser_like.base_url), verify=False)
    with stranger:  # the right token but no session: refused too
        assert stranger.post("/resources/csrf-victim/delete", data={"csrf": csrf}).status_code == 403
    assert browser_like.post("/resources/csrf-victim/delete", data={"csrf": csrf}).status_code == 200
    assert browser_like.post("/logout", data={}).status_code == 403
    assert browser_like.post("/logout", data={"csrf": csrf}).status_code == 303


def test_without_an_admin_token_the_console_does_not_exist(server: ServerProcess) -> None:
    with httpx.Client(base_url=server.endpoint, verify=ssl.create_default_context(cafile=str(server.ca))) as client:
        for path in ["/", "/login", "/static/console.css", "/numbers"]:
            assert_acs_error(client.get(CONSOLE + path), 404, "NotFound")
        assert_acs_error(client.post(CONSOLE + "/login", data={"token": "anything"}), 404)


# --- the numbers search's query plans -------------------------------------------------------

PLAN_CASES = [NumberFilter(prefix="+1800"), NumberFilter(prefix="+", owner="devresource"),
              NumberFilter(prefix="+44", state="available")]


@pytest.mark.parametrize("where", PLAN_CASES, ids=["prefix", "owner", "prefix-and-state"])
def test_a_numbers_page_walks_an_index_in_key_order_without_sorting(
        served: tuple[ServerProcess, list[str]], where: NumberFilter) -> None:
    """Keyset paging stays fast at 10 M numbers only if the engine reads an index in phone_number
    order and stops after a page; a sort of every match would read them all (store/admin_queries.py)."""
    server, _ = served
    url = database(server)
    if url.startswith("postgresql"):
        sql, args = numbers_page_sql("phone_number", where, "+1", 50, lambda n: f"${n}")

        async def explain() -> list[str]:
            db = await asyncpg.connect(url)
            try:
                await db.execute("SET enable_seqscan = off")  # the test table is tiny: plan as for a large one
                return [row[0] for row in await db.fetch("EXPLAIN " + sql, *args)]
            finally:
                await db.close()

        plan = "\n".join(asyncio.run(explain()))
        assert "Sort" not in plan and "Index" in plan, plan
        expected = "numbers_owned" if where.owner else "numbers_pkey"
        assert expected in plan, plan
    else:
        sql, args = numbers_page_sql("phone_number", where, "+1", 50, lambda n: "?")
        with sqlite3.connect(url) as db:
            plan = "\n".join(str(row[-1]) for row in db.execute("EXPLAIN QUERY PLAN " + sql, args))
        assert "TEMP B-TREE" not in plan, plan
        expected = "numbers_owned" if where.owner else "PRIMARY KEY"
        assert expected in plan, plan


def test_the_console_guide_shows_every_screenshot_the_browser_tests_take() -> None:
    from tests.test_console_browser import PAGES, WIDTHS  # noqa: PLC0415 (skips with that module without Chromium)

    guide = (Path(__file__).resolve().parent.parent / "docs" / "console.md").read_text(encoding="utf-8")
    shown = set(re.findall(r"\(console/([a-z]+-[a-z]+)\.png\)", guide))
    taken = {f"{page}-{width}" for page in [*PAGES, "login"] for width in WIDTHS}
    assert shown <= taken, shown - taken
    assert {f"{page}-wide" for page in ("login", "overview", "numbers", "number", "resources", "rotate", "faults",
                                        "import", "job", "operations")} <= shown
    assert {f"{page}-narrow" for page in ("import", "job", "operations")} <= shown
    assert "numberpool serve --admin-token" in guide and CONSOLE + "/" in guide


# --- the Import and Operations pages --------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(32)


def wait_for_job(admin: httpx.Client, job_id: str) -> dict:
    for _ in range(300):
        job = admin.get(f"/inventory/imports/{job_id}").json()
        if job["state"] != "running":
            return job
        time.sleep(0.1)
    raise AssertionError(f"the import {job_id} is still running: {job}")


def shown(page: httpx.Response) -> str:
    """The page's text as the browser shows it (entities decoded)."""
    return html.unescape(page.text)


def test_a_numbers_file_uploaded_in_the_console_is_imported_with_its_summary_and_rejects(
        browser_like: httpx.Client, admin: httpx.Client) -> None:
    csrf = sign_in(browser_like)
    body = ("phoneNumber,numberType\n+14257400000,geographic\n+14257400001,geographic\n+1425abc,geographic\n"
            "+14257400001,geographic\n").encode()
    started = browser_like.post("/import", data={"csrf": csrf}, files={"numbers": ("few.csv", body, "text/csv")})
    assert started.status_code == 303, started.text
    location = started.headers["location"]
    job_id = location.rsplit("/", 1)[-1]
    assert location == f"{CONSOLE}/import/jobs/{job_id}"
    job = wait_for_job(admin, job_id)
    assert (job["state"], job["name"], job["dryRun"], job["bytesTotal"]) == ("succeeded", "few.csv", False, len(body))
    assert (job["rowsRead"], job["imported"], job["alreadyPresent"], job["rejected"]) == (4, 2, 0, 2)

    page = browser_like.get(location.removeprefix(CONSOLE))
    assert page.status_code == 200 and "data-refresh" not in page.text  # finished: console.js stops polling
    figures = dict(re.findall(r'<dd id="([a-z-]+)">([\d,]+)</dd>', page.text))
    assert figures == {"rows": "4", "imported": "2", "already-present": "0", "rejected": "2"}
    assert re.search(r'<progress id="job-progress" max="(\d+)" value="\1"', page.text)

    rejects = browser_like.get(f"/import/jobs/{job_id}/rejects")
    assert rejects.status_code == 200 and rejects.headers["content-type"].startswith("text/csv")
    assert rejects.headers["content-disposition"] == f'attachment; filename="rejects-{job_id}.csv"'
    assert "default-src 'none'" in rejects.headers["content-security-policy"]
    assert rejects.content == admin.get(f"/inventory/imports/{job_id}/rejects").content
    assert len(rejects.text.splitlines()) == 3 and rejects.text.startswith("phoneNumber,numberType,error")

    listed = browser_like.get("/import")
    assert f'href="{CONSOLE}/import/jobs/{job_id}">few.csv</a>' in listed.text
    dry = browser_like.post("/import", data={"csrf": csrf, "dryRun": "true"},
                            files={"numbers": ("again.csv", body, "text/csv")})
    dry_job = wait_for_job(admin, dry.headers["location"].rsplit("/", 1)[-1])
    assert (dry_job["dryRun"], dry_job["imported"], dry_job["alreadyPresent"]) == (True, 0, 2)
    assert browser_like.get(f"/import/jobs/{'0' * 8}-0000-0000-0000-{'0' * 12}").status_code == 404
    assert browser_like.get("/import/jobs/not-a-job/rejects").status_code == 400


@pytest.mark.parametrize("path, field", [("/import", "numbers"), ("/import/catalog", "catalog")])
def test_an_upload_without_the_sessions_csrf_token_is_refused_and_changes_nothing(
        browser_like: httpx.Client, admin: httpx.Client, path: str, field: str) -> None:
    sign_in(browser_like)
    jobs, catalog = admin.get("/inventory/imports").json()["value"], admin.get("/catalog").text
    content = b"phoneNumber\n+14257410000\n" if field == "numbers" else catalog.replace("2.0", "9.0").encode()
    for data in ({}, {"csrf": "guessed"}):
        refused = browser_like.post(path, data=data, files={field: ("file.csv" if field == "numbers" else "c.toml",
                                                                    content, "text/plain")})
        assert refused.status_code == 403 and "Form expired" in refused.text
    assert admin.get("/inventory/imports").json()["value"] == jobs and admin.get("/catalog").text == catalog


@pytest.mark.parametrize("upload, message", [
    (None, "Choose a numbers file (CSV) to upload."),
    (("", b"", "application/octet-stream"), "Choose a numbers file (CSV) to upload."),
    (("photo.png", PNG, "image/png"), "photo.png is not a numbers file (CSV): choose a .csv or .txt file."),
    (("photo.csv", PNG, "text/csv"), "photo.csv:1: not a CSV file (binary data)"),
    (("colours.csv", b"phoneNumber,colour\n+14257420000,red\n", "text/csv"), "unknown column 'colour'"),
], ids=["no-file", "empty-choice", "png-name", "binary-content", "wrong-columns"])
def test_a_numbers_upload_that_cannot_be_imported_gets_a_message_and_no_job(
        browser_like: httpx.Client, admin: httpx.Client, upload: tuple | None, message: str) -> None:
    csrf = sign_in(browser_like)
    jobs = admin.get("/inventory/imports").json()["value"]
    answer = browser_like.post("/import", data={"csrf": csrf}, files={"numbers": upload} if upload else None)
    assert answer.status_code == 400 and message in shown(answer), shown(answer)[-3000:]
    assert 'role="alert"' in answer.text and "<h1>Import</h1>" in answer.text
    assert admin.get("/inventory/imports").json()["value"] == jobs


@pytest.mark.parametrize("upload, status, message", [
    (None, 400, "Choose a catalog file (TOML) to upload."),
    (("catalog.csv", b"x = 1\n", "text/csv"), 400, "catalog.csv is not a catalog file (TOML): choose a .toml file."),
    (("bad.toml", b"[[offerings]]\ncountryCode = 1\n", "application/toml"), 400, "catalog:"),
    (("latin.toml", b"\xff", "application/toml"), 400, "catalog: not UTF-8 text"),
    (("huge.toml", b"#" * (1024 * 1024 + 1), "application/toml"), 413, "The request body exceeds 1048576 bytes."),
    (("bigger.toml", b"#" * (1200 * 1024), "application/toml"), 413, "This form takes at most 1,114,112 bytes."),
], ids=["no-file", "csv-name", "not-a-catalog", "not-utf8", "over-the-api-limit", "over-the-form-limit"])
def test_a_catalog_upload_that_cannot_be_used_gets_a_message_and_changes_nothing(
        browser_like: httpx.Client, admin: httpx.Client, upload: tuple | None, status: int, message: str) -> None:
    csrf = sign_in(browser_like)
    catalog = admin.get("/catalog").text
    answer = browser_like.post("/import/catalog", data={"csrf": csrf}, files={"catalog": upload} if upload else None)
    assert answer.status_code == status and message in shown(answer), shown(answer)[-3000:]
    assert admin.get("/catalog").text == catalog


def test_the_catalog_goes_out_and_back_in_through_the_console_and_a_conflict_is_explained(
        browser_like: httpx.Client, admin: httpx.Client) -> None:
    csrf = sign_in(browser_like)
    exported = browser_like.get("/import/catalog.toml")
    assert exported.status_code == 200 and exported.text == admin.get("/catalog").text
    assert exported.headers["content-type"].startswith("application/toml")

    def send(text: str, **fields: str) -> httpx.Response:
        return browser_like.post("/import/catalog", data={"csrf": csrf, **fields},
                                 files={"catalog": ("catalog.toml", text.encode(), "application/toml")})

    same = send(exported.text)
    assert same.status_code == 200 and "catalog.toml</strong>: catalog unchanged" in same.text
    dearer = exported.text.replace("amount = 2.0,", "amount = 2.5,", 1)
    updated = send(dearer)
    assert updated.status_code == 200 and "<dt>Offerings updated</dt>" in updated.text
    without_us = "\n\n".join(block for block in dearer.split("\n\n") if 'countryCode = "US"' not in block
                             or "[[countries]]" in block)
    conflict = send(without_us)
    assert conflict.status_code == 409 and "available US geographic numbers" in shown(conflict)
    assert "Tick Force and upload again" in conflict.text
    assert admin.get("/catalog").text == dearer  # refused: nothing changed
    assert send(exported.text).status_code == 200 and admin.get("/catalog").text == exported.text


def test_a_malformed_form_gets_a_message_not_a_500(browser_like: httpx.Client) -> None:
    sign_in(browser_like)
    answer = browser_like.post("/import", content=b"--x\r\nnot a part",
                               headers={"content-type": "multipart/form-data; boundary=x"})
    assert answer.status_code == 400 and "Not a form" in answer.text
    assert browser_like.post("/import", content=b"--x\r\n",
                             headers={"content-type": "multipart/form-data"}).status_code == 400  # no boundary


def operation_rows(page: httpx.Response) -> list[tuple[str, str]]:
    """(id, status) of each row of the Operations page."""
    return re.findall(r'<code class="op-id">([^<]+)</code></th>.*?badge status-(\w+)"', page.text, re.S)


def test_the_operations_page_shows_the_operations_with_status_error_filters_and_pages(
        browser_like: httpx.Client, admin: httpx.Client, served: tuple[ServerProcess, list[str]]) -> None:
    server, _ = served
    rule = {"operation": "SearchAvailablePhoneNumbers", "times": int(PAGE_SIZE),
            "effect": {"operationFailure": {"code": "OutOfStock", "message": "Planned by the console test."}}}
    with httpx.Client(verify=ssl.create_default_context(cafile=str(server.ca)),
                      headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as faults:
        assert faults.patch(server.endpoint + "/_numberpool/faults", json={"rules": [rule]}).status_code == 200
    with sync_client(server.connection_string, None, server) as client:
        for _ in range(int(PAGE_SIZE)):  # more than a page with the fixture's, each failing as the rule says
            with pytest.raises(HttpResponseError):
                client.begin_search_available_phone_numbers(
                    "US", PhoneNumberType.TOLL_FREE, PhoneNumberAssignmentType.APPLICATION, TOLL_FREE_CAPS,
                    area_code="800", quantity=1, polling_interval=0).result()
    sign_in(browser_like)
    api = admin.get("/operations", params={"limit": PAGE_SIZE}).json()
    first = browser_like.get("/operations")
    assert operation_rows(first) == [(op["id"], op["status"]) for op in api["value"]]
    assert api["value"][0]["status"] == "failed" and "<strong>OutOfStock</strong>: Planned by the console test.</span>" in first.text
    older = re.search(r'<a rel="next" href="([^"]+)">Older</a>', first.text)
    assert older, "more operations than a page, and no link to the older ones"
    second = browser_like.get(html.unescape(older.group(1)).removeprefix(CONSOLE))
    after = parse_qs(urlsplit(api["nextLink"]).query)["after"][0]
    expected = admin.get("/operations", params={"limit": PAGE_SIZE, "after": after}).json()["value"]
    assert operation_rows(second) == [(op["id"], op["status"]) for op in expected] and expected
    assert ">Newest</a>" in second.text

    succeeded = browser_like.get("/operations", params={"status": "succeeded", "resource": "devresource"})
    rows = operation_rows(succeeded)
    assert rows and {status for _, status in rows} == {"succeeded"}
    assert "No operation matches." in browser_like.get("/operations", params={"resource": "tenant-nobody"}).text
    bad = browser_like.get("/operations", params={"status": "done"})
    assert bad.status_code == 400 and 'role="alert"' in bad.text and "status" in bad.text
