"""The admin console in a real browser: Debian's Chromium driven by Playwright, one server and one
browser for the module. Every page is checked by axe-core and photographed at 1280 and 390 px
(docs/console/, shown in docs/console.md); no page logs a console error or a CSP violation.

Without /usr/bin/chromium (`make tools` installs it) the module is skipped with that reason,
except under CI=true, where it fails.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    if os.environ.get("CI") == "true":
        raise RuntimeError("CI=true but /usr/bin/chromium is missing: `make tools` installs Debian's chromium")
    pytest.skip("no /usr/bin/chromium: `make tools` (apt-get install chromium) installs it", allow_module_level=True)

from axe_playwright_python.sync_playwright import Axe  # noqa: E402
from azure.communication.phonenumbers import PhoneNumberAssignmentType, PhoneNumberType  # noqa: E402
from azure.core.exceptions import HttpResponseError  # noqa: E402
from playwright.sync_api import Browser, ConsoleMessage, Page, expect, sync_playwright  # noqa: E402

from tests.conftest import server_data_dir  # noqa: E402
from tests.support.admin import ADMIN_TOKEN, admin_client  # noqa: E402
from tests.support.sdk import TOLL_FREE_CAPS, sync_client  # noqa: E402
from tests.support.server import ServerProcess  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "docs" / "console"
CONSOLE = "/_numberpool/admin"
WIDTHS = {"wide": (1280, 860), "narrow": (390, 844)}
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
# Reports every violation of the page's Content-Security-Policy as a console error. Playwright
# injects it through the DevTools protocol, so the policy (no inline script) does not apply to it.
REPORT_CSP = ("document.addEventListener('securitypolicyviolation', e =>"
              " console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));")


@pytest.fixture(scope="module")
def console_server(tmp_path_factory: pytest.TempPathFactory, development_ca: Path) -> Iterator[ServerProcess]:
    process = ServerProcess(server_data_dir(tmp_path_factory, development_ca, "console"),
                            "--testing", "--admin-token", ADMIN_TOKEN, "--inventory-size", "20").start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class Tab:
    """A page of its own browser context, and every console error or CSP violation it logged."""

    def __init__(self, browser: Browser, server: ServerProcess) -> None:
        self.server = server
        self.context = browser.new_context(ignore_https_errors=True, viewport={"width": 1280, "height": 860})
        self.context.add_init_script(REPORT_CSP)
        self.page: Page = self.context.new_page()
        self.errors: list[str] = []
        self.expected_statuses: set[int] = set()
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))

    def _console(self, message: ConsoleMessage) -> None:
        status = re.search(r"responded with a status of (\d+)", message.text)
        if status and int(status.group(1)) in self.expected_statuses:
            return  # Chromium logs every page answered with an error status, a refused form's too
        if message.type in ("error", "warning"):
            self.errors.append(f"{message.type}: {message.text}")

    def expect_refusal(self, status: int) -> None:
        """A form this test sends is to be refused with `status` (its page shows why)."""
        self.expected_statuses.add(status)

    def open(self, path: str) -> Page:
        self.page.goto(self.server.endpoint + CONSOLE + path)
        return self.page

    def sign_in(self) -> Page:
        page = self.open("/login")
        page.get_by_label("Admin token").fill(ADMIN_TOKEN)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
        return page

    def create_resource(self, resource_id: str) -> str:
        """Create a resource from the Resources page; its connection string, shown once."""
        page = self.open("/resources")
        page.get_by_label("Resource id").fill(resource_id)
        page.get_by_role("button", name="Create").click()
        return page.locator("#connection-string").inner_text()


@pytest.fixture()
def tab(chromium: Browser, console_server: ServerProcess) -> Iterator[Tab]:
    opened = Tab(chromium, console_server)
    yield opened
    opened.context.close()
    assert opened.errors == [], "the browser logged errors:\n" + "\n".join(opened.errors)


def buy_toll_free(server: ServerProcess, connection_string: str | None = None) -> str:
    with sync_client(connection_string or server.connection_string, None, server) as client:
        found = client.begin_search_available_phone_numbers(
            "US", PhoneNumberType.TOLL_FREE, PhoneNumberAssignmentType.APPLICATION, TOLL_FREE_CAPS,
            area_code="888", quantity=1, polling_interval=0).result()
        client.begin_purchase_phone_numbers(found.search_id, polling_interval=0).result()
    return found.phone_numbers[0]


def test_a_wrong_token_is_refused_and_the_right_one_signs_in(tab: Tab) -> None:
    tab.expect_refusal(401)
    page = tab.open("/")
    expect(page).to_have_url(re.compile(r"/login$"))  # no session: to the login form
    page.get_by_label("Admin token").fill("not-the-admin-token")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("That admin token is not valid.")
    expect(page.get_by_role("navigation", name="Console")).to_have_count(0)  # nothing else
    assert tab.context.cookies() == []
    tab.sign_in()
    nav = page.get_by_role("navigation", name="Console")
    assert nav.get_by_role("link").all_inner_texts() == ["Overview", "Numbers", "Resources", "Import", "Operations",
                                                          "Faults"]
    (cookie,) = tab.context.cookies()
    assert (cookie["httpOnly"], cookie["sameSite"], cookie["secure"]) == (True, "Strict", True)
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    tab.open("/numbers")
    expect(page.get_by_label("Admin token")).to_be_visible()


def test_the_overview_shows_the_figures_of_the_inventory_report(tab: Tab, console_server: ServerProcess) -> None:
    buy_toll_free(console_server)
    page = tab.sign_in()
    report = json.loads(subprocess.run(
        [sys.executable, "-m", "numberpool", "inventory", "report", "--json", "--data-dir", str(console_server.data_dir)],
        check=True, capture_output=True, text=True).stdout)
    assert report["byState"]["purchased"] >= 1
    shown = {state: int(page.locator(f"#state-counts [data-state='{state}']").inner_text().replace(",", ""))
             for state in [*report["byState"], "total"]}
    assert shown == {**report["byState"], "total": report["total"]}
    stock = page.locator("#stock tbody tr")
    countries = {(row.locator("th").inner_text(), row.locator("td").first.inner_text()) for row in stock.all()}
    assert countries == {(g["countryCode"], g["phoneNumberType"]) for g in report["groups"]}
    purchased_today = re.search(r"(\d+) numbers were purchased", page.locator("main").inner_text())
    assert purchased_today and int(purchased_today.group(1)) >= 1
    for chart in ("activity", "stock"):
        image = page.locator(f"img[src$='/charts/{chart}.svg']")
        assert image.evaluate("img => img.complete && img.naturalWidth > 0"), f"the {chart} chart did not load"


def test_a_number_bought_with_the_sdk_has_its_history(tab: Tab, console_server: ServerProcess) -> None:
    number = buy_toll_free(console_server)
    page = tab.sign_in()
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Numbers").click()
    page.get_by_label("Number starts with").fill(number)
    page.get_by_label("State").select_option("purchased")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name=number).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(number)
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text("purchased")
    expect(facts).to_contain_text("devresource")
    events = page.locator("#history tbody tr").all_inner_texts()
    assert [e.split("\t")[1] for e in events][-2:] == ["held", "purchased"], events


def test_a_resource_created_in_the_console_works_with_the_sdk(tab: Tab, console_server: ServerProcess) -> None:
    page = tab.sign_in()
    connection_string = tab.create_resource("console-made")
    assert connection_string.startswith(f"endpoint={console_server.endpoint}/;accesskey=")
    number = buy_toll_free(console_server, connection_string)
    tab.open("/resources")
    row = page.locator("#resources tbody tr", has=page.get_by_role("rowheader", name="console-made"))
    expect(row.locator("td").first).to_have_text("1")
    # Refused while it owns a number; the API's message is shown.
    tab.expect_refusal(409)
    row.get_by_role("button", name="Delete console-made").click()
    expect(page.get_by_role("alert")).to_contain_text("owns")
    with sync_client(connection_string, None, console_server) as client:
        client.begin_release_phone_number(number, polling_interval=0).result()
    page.locator("#resources tbody tr", has=page.get_by_role("rowheader", name="console-made")) \
        .get_by_role("button", name="Delete console-made").click()
    expect(page.get_by_role("status")).to_have_text("Resource console-made deleted.")


def test_a_rotated_key_refuses_the_old_one(tab: Tab, console_server: ServerProcess) -> None:
    page = tab.sign_in()
    old = tab.create_resource("rotating")
    tab.open("/resources")
    page.get_by_role("link", name="Rotate a key of rotating").click()
    page.get_by_label("Primary key").check()
    page.get_by_role("button", name="Rotate the key").click()
    new = page.locator("#connection-string").inner_text()
    assert new != old and page.locator("#primary-key").inner_text() in new
    with sync_client(old, None, console_server) as client, pytest.raises(HttpResponseError) as refused:
        list(client.list_purchased_phone_numbers())
    assert refused.value.status_code == 401
    with sync_client(new, None, console_server) as client:
        assert list(client.list_purchased_phone_numbers()) == []


def test_a_fault_rule_added_in_the_console_counts_its_hits(tab: Tab, console_server: ServerProcess) -> None:
    page = tab.sign_in()
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Faults").click()
    page.get_by_label("Operation").select_option("ListAvailableCountries")
    page.get_by_label("HTTP status").fill("418")
    page.get_by_label("Error code").fill("Teapot")
    page.get_by_label("Times (empty: no limit)").fill("1")
    page.get_by_role("button", name="Add rule").click()
    rule = page.locator("#rules tbody tr").first
    expect(rule.locator(".hits")).to_have_text("0")
    with sync_client(console_server.connection_string, None, console_server) as client, \
            pytest.raises(HttpResponseError) as failed:
        list(client.list_available_countries())
    assert failed.value.status_code == 418
    expect(rule.locator(".hits")).to_have_text("1", timeout=10_000)  # console.js refreshes it in place
    page.get_by_role("button", name="Clear all rules").click()
    expect(page.locator("#rules tbody")).to_contain_text("No fault rules")


def numbers_csv(first: int, count: int) -> str:
    """`count` good Redmond numbers from +1425{first}, then two rows the import rejects."""
    rows = [f"+1425{first + i:07d},geographic" for i in range(count)]
    return "\n".join(["phoneNumber,numberType", *rows, "+1425abc,geographic", f"+1425{first:07d},geographic"]) + "\n"


def test_a_catalog_uploaded_in_the_console_shows_what_changed_or_why_not(tab: Tab) -> None:
    page = tab.sign_in()
    tab.open("/import")
    with page.expect_download() as downloading:
        page.get_by_role("link", name="Download the current catalog").click()
    original = Path(downloading.value.path()).read_text(encoding="utf-8")
    dearer = original.replace("amount = 2.0,", "amount = 2.5,", 1)
    assert dearer != original

    def upload(text: str, name: str = "catalog.toml") -> None:
        page.get_by_label("Catalog file (TOML)").set_input_files(
            {"name": name, "mimeType": "application/toml", "buffer": text.encode()})
        page.get_by_role("button", name="Upload catalog").click()

    upload(dearer, "dearer.toml")
    result = page.locator("#catalog-result")
    expect(result).to_contain_text("dearer.toml: catalog imported: 1 offerings updated")
    expect(result.locator("dt")).to_have_text(["Offerings updated"])
    assert serious_violations(Axe(), page) == []
    tab.expect_refusal(409)
    upload("\n\n".join(block for block in dearer.split("\n\n")
                        if 'countryCode = "US"' not in block or "[[countries]]" in block))
    expect(page.locator("#catalog-heading ~ .message.error")).to_contain_text("available US geographic numbers")
    expect(page.get_by_text("Tick Force and upload again")).to_be_visible()
    assert serious_violations(Axe(), page) == []
    upload(original, "original.toml")
    expect(result).to_contain_text("original.toml: catalog imported: 1 offerings updated")


def test_the_operations_page_lists_searches_made_with_the_sdk_with_status_and_error(
        tab: Tab, console_server: ServerProcess) -> None:
    failure = {"operation": "SearchAvailablePhoneNumbers", "times": 1,
               "effect": {"operationFailure": {"code": "OutOfStock", "message": "Planned by the browser test."}}}
    with httpx.Client(verify=False, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as faults:
        assert faults.patch(console_server.endpoint + "/_numberpool/faults", json={"rules": [failure]}).is_success
    with sync_client(console_server.connection_string, None, console_server) as client:
        with pytest.raises(HttpResponseError):
            client.begin_search_available_phone_numbers(
                "US", PhoneNumberType.TOLL_FREE, PhoneNumberAssignmentType.APPLICATION, TOLL_FREE_CAPS,
                area_code="888", quantity=1, polling_interval=0).result()
        found = client.begin_search_available_phone_numbers(
            "US", PhoneNumberType.TOLL_FREE, PhoneNumberAssignmentType.APPLICATION, TOLL_FREE_CAPS,
            area_code="888", quantity=1, polling_interval=0).result()
    page = tab.sign_in()
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Operations").click()
    newest, failed = page.locator("#operations tbody tr").all()[:2]
    expect(newest.locator(".op-id")).to_have_text(f"search_{found.search_id}")
    expect(failed.locator("td[data-label='Status']")).to_have_text("failed")
    expect(failed.locator("td[data-label='Error']")).to_have_text("OutOfStock: Planned by the browser test.")
    page.get_by_label("Resource").fill("devresource")
    page.get_by_label("Status").select_option("succeeded")
    page.get_by_role("button", name="Filter").click()
    row = page.locator("#operations tbody tr", has=page.get_by_text(f"search_{found.search_id}", exact=True))
    expect(row.get_by_role("rowheader")).to_have_text(f"search search_{found.search_id}")
    expect(row.locator("td[data-label='Status']")).to_have_text("succeeded")
    expect(row.locator("td[data-label='Resource']")).to_have_text("devresource")
    statuses = page.locator("#operations td[data-label='Status']").all_inner_texts()
    assert statuses and set(statuses) == {"succeeded"}


PAGES = {  # name -> path, with what was made before
    "overview": "/", "numbers": "/numbers", "number": None, "resources": "/resources",
    "rotate": "/resources/devresource/rotate", "import": "/import", "job": None, "operations": "/operations",
    "faults": "/faults",
}


def test_every_page_passes_axe_at_both_widths(tab: Tab, console_server: ServerProcess) -> None:
    number = buy_toll_free(console_server)
    job = finished_import(console_server, numbers_csv(7_600_000, 20), "numbers.csv")
    made = {"number": f"/numbers/{number.replace('+', '%2B')}", "job": f"/import/jobs/{job}"}
    axe = Axe()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = tab.open("/login")
    found: dict[str, list[str]] = {}
    for width, (w, h) in WIDTHS.items():
        page.set_viewport_size({"width": w, "height": h})
        tab.open("/login")
        _check(axe, page, f"login-{width}", found)
    tab.sign_in()
    for width, (w, h) in WIDTHS.items():
        page.set_viewport_size({"width": w, "height": h})
        for name, path in PAGES.items():
            tab.open(path or made[name])
            _check(axe, page, f"{name}-{width}", found)
    assert not any(found.values()), "axe found serious or critical violations:\n" + json.dumps(found, indent=1)


def finished_import(server: ServerProcess, text: str, name: str) -> str:
    """The id of an import of `text` through the admin API, once it has ended."""
    with admin_client(server) as admin:
        job = admin.post("/inventory/imports", params={"name": name}, content=text.encode(),
                         headers={"Content-Type": "text/csv"}).json()
        for _ in range(300):
            if admin.get(f"/inventory/imports/{job['id']}").json()["state"] != "running":
                return job["id"]
            time.sleep(0.1)
    raise AssertionError(f"the import {job['id']} did not end")


def _check(axe: Axe, page: Page, name: str, found: dict[str, list[str]]) -> None:
    page.wait_for_load_state("load")
    found[name] = serious_violations(axe, page)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def serious_violations(axe: Axe, page: Page) -> list[str]:
    results = axe.run(page)
    return [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
            for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


# Last in the module: its 40,000 numbers would dwarf the other stock in the Overview's screenshot.
def test_an_import_with_bad_rows_runs_to_its_summary_and_its_rejects_download(tab: Tab) -> None:
    page = tab.sign_in()
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Import").click()
    count = 40_000  # a second or two of loading: the job page shows it running, then its summary
    page.get_by_label("Numbers file (CSV)").set_input_files(
        {"name": "redmond.csv", "mimeType": "text/csv", "buffer": numbers_csv(7_500_000, count).encode()})
    page.get_by_role("button", name="Upload and import").click()
    expect(page).to_have_url(re.compile(r"/import/jobs/[0-9a-f-]{36}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Import of redmond.csv")
    progress = page.get_by_label("Progress")
    # The progress in words is a live region (role="status") that console.js keeps as the same node
    # while it refreshes the card around it: a screen reader announces changes to a region it knows.
    status = page.locator("#job").get_by_role("status")
    region = status.element_handle()
    seen = [progress.evaluate("p => p.value / p.max")]
    said = [region.text_content()]
    while page.locator("#job[data-refresh]").count():  # console.js refreshes it until the job ends
        page.wait_for_timeout(200)
        seen.append(progress.evaluate("p => p.value / p.max"))
        said.append(region.text_content())
    # The refresh that ends the job swaps the bar and drops data-refresh in one task, which can
    # fall between the loop's last reading and its check: read the bar once more after it.
    seen.append(progress.evaluate("p => p.value / p.max"))
    said.append(region.text_content())
    print(f"progress seen while the import ran: {sorted(set(round(x, 2) for x in seen))}")
    assert seen == sorted(seen) and seen[-1] == 1, page.locator("#job").inner_text()
    assert region.evaluate("node => node.isConnected"), "console.js replaced the live region instead of updating it"
    assert re.fullmatch(r"100%: [\d,]+ of [\d,]+ bytes read; import succeeded\.", said[-1]), said
    if seen[0] < 1:  # shown running first: the region said so, then changed in place
        assert said[0].endswith(", updated every second.") and len(set(said)) > 1, said
    expect(page.locator("#job .badge")).to_have_text("succeeded")
    figures = {key: page.locator(f"#{key}").inner_text() for key in ("rows", "imported", "already-present", "rejected")}
    assert figures == {"rows": f"{count + 2:,}", "imported": f"{count:,}", "already-present": "0", "rejected": "2"}
    with page.expect_download() as downloading:
        page.get_by_role("link", name="Download the rejected rows (CSV)").click()
    download = downloading.value
    assert download.suggested_filename == f"rejects-{page.url.rsplit('/', 1)[-1]}.csv"
    rows = list(csv.reader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    assert rows[0] == ["phoneNumber", "numberType", "error"] and [r[0] for r in rows[1:]] == ["+1425abc", "+14257500000"]
    assert "appears earlier in the file" in rows[2][2]
    page.get_by_role("link", name="Import").first.click()
    job = page.locator("#jobs tbody tr", has=page.get_by_role("rowheader", name="redmond.csv"))
    expect(job.locator("td[data-label='Rejected']")).to_have_text("2")
