"""The admin console and the admin routes it added, over HTTP without a browser, on both engines:
the paged numbers search and the 24-hour activity (checked against the OpenAPI document and the
database), and the console's security: its policy headers, cookie flags, CSRF refusals, and 404
without an admin token. The browser tests are tests/test_console_browser.py.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import ssl
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from azure.communication.phonenumbers import PhoneNumberAssignmentType, PhoneNumberType
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
    assert {f"{page}-wide" for page in ("login", "overview", "numbers", "number", "resources", "rotate", "faults")} <= shown
    assert "numberpool serve --admin-token" in guide and CONSOLE + "/" in guide
