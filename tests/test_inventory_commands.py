"""`numberpool catalog ...` and `numberpool inventory ...` on both engines, run as the operator runs them.

Each command runs in-process through `numberpool.cli.main` (the same code as the console
script); a few run as real processes to prove the exit status and that no traceback shows.
After every command the inventory invariant holds.
"""

from __future__ import annotations

import asyncio
import csv
import io
import subprocess
import sys
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from numberpool.cli import main
from numberpool.core import reservations
from numberpool.core.context import Context
from numberpool.core.model import OperationStatus
from numberpool.store import open_store
from tests.support.stores import FrozenClock, fetch, on_store, violations

NL_CATALOG = """\
[[countries]]
countryCode = "NL"

[[offerings]]
countryCode = "NL"
phoneNumberType = "geographic"
assignmentType = "application"
availableCapabilities = { calling = "inbound+outbound", sms = "none" }
cost = { amount = 1.25, currencyCode = "EUR", billingFrequency = "monthly" }

[[offerings]]
countryCode = "NL"
phoneNumberType = "geographic"
assignmentType = "person"
availableCapabilities = { calling = "inbound+outbound", sms = "none" }
cost = { amount = 1.5, currencyCode = "EUR", billingFrequency = "monthly" }
"""
AMSTERDAM = [f"+3120123{i:04d}" for i in range(20)]


@dataclass
class Ran:
    code: int
    out: str
    err: str


@pytest.fixture()
def np(url: str, capsys: pytest.CaptureFixture[str]):
    """`np("inventory", "report")`: run a command on the test's database; returns status, stdout, stderr."""

    def run(*args: str) -> Ran:
        capsys.readouterr()
        code = main([*args, "--database", url])
        captured = capsys.readouterr()
        assert "Traceback" not in captured.err
        assert_consistent(url)
        return Ran(code, captured.out, captured.err)

    return run


def assert_consistent(url: str) -> None:
    assert violations(url) == []


def rows(url: str, sql: str) -> list[tuple]:
    return asyncio.run(fetch(url, sql))


def buy(url: str, number: str, resource: str) -> None:
    """`resource` buys `number` as a tenant does (reserves it, then purchases the reservation) at the
    frozen clock's T0, so the number has its purchase event as every purchased number must."""

    async def run() -> None:
        store = await open_store(url)
        try:
            ctx = Context(store, clock=FrozenClock())
            rid = str(uuid.uuid4())
            reserved = await reservations.create_or_update(ctx, resource, rid, {number: reservations.NumberRequest()})
            assert not reserved.failed, reserved.failed
            bought = await reservations.purchase_reservation(ctx, resource, rid, False)
            assert bought.outcome is OperationStatus.SUCCEEDED
        finally:
            await store.close()

    asyncio.run(run())


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture()
def nl(np, tmp_path: Path) -> Path:
    """The NL catalog imported."""
    catalog = write(tmp_path / "nl.toml", NL_CATALOG)
    assert np("catalog", "import", str(catalog)).code == 0
    return catalog


# --- catalog -------------------------------------------------------------------------------


def test_catalog_import_is_idempotent_and_export_round_trips(np, url: str, tmp_path: Path) -> None:
    catalog = write(tmp_path / "nl.toml", NL_CATALOG)
    first = np("catalog", "import", str(catalog))
    assert (first.code, first.out.strip()) == (0, "catalog imported: 1 countries added, 2 offerings added")
    assert np("catalog", "import", str(catalog)).out.strip() == "catalog unchanged"
    exported = np("catalog", "export").out
    assert 'localizedName = "Netherlands"' in exported  # from the numbering plan data: the file gave none
    again = write(tmp_path / "exported.toml", exported)
    assert np("catalog", "import", str(again)).out.strip() == "catalog unchanged"
    assert np("catalog", "export").out == exported
    assert rows(url, "SELECT code, name FROM countries") == [("NL", "Netherlands")]


def test_catalog_aging_days_are_stored_exported_and_compared(np, url: str, tmp_path: Path) -> None:
    aged = write(tmp_path / "aged.toml", NL_CATALOG.replace("cost = { amount = 1.25", "agingDays = 30\ncost = { amount = 1.25"))
    assert np("catalog", "import", str(aged)).code == 0
    assert rows(url, "SELECT assignment, aging_days FROM offerings ORDER BY assignment") == [("application", 30), ("person", 0)]
    assert np("catalog", "import", str(aged)).out.strip() == "catalog unchanged"
    exported = np("catalog", "export").out
    assert exported.count("agingDays = 30") == 1
    again = write(tmp_path / "exported.toml", exported)
    assert np("catalog", "import", str(again)).out.strip() == "catalog unchanged"
    fresh = write(tmp_path / "fresh.toml", NL_CATALOG)
    assert np("catalog", "import", str(fresh)).out.strip() == "catalog imported: 1 offerings updated"
    assert rows(url, "SELECT aging_days FROM offerings") == [(0,), (0,)]


def test_catalog_import_updates_prices_and_removes_what_the_file_drops(np, nl: Path, url: str, tmp_path: Path) -> None:
    cheaper = write(tmp_path / "cheaper.toml", NL_CATALOG.replace("amount = 1.25", "amount = 0.99").split(
        "\n[[offerings]]\ncountryCode = \"NL\"\nphoneNumberType = \"geographic\"\nassignmentType = \"person\"")[0])
    ran = np("catalog", "import", str(cheaper))
    assert ran.out.strip() == "catalog imported: 1 offerings updated, 1 offerings removed"
    assert rows(url, "SELECT assignment, cost FROM offerings") == [("application", 0.99)]


def test_removing_the_last_offering_of_available_numbers_is_refused_unless_forced(np, nl, url, tmp_path) -> None:
    numbers = write(tmp_path / "n.csv", "phoneNumber\n" + "\n".join(AMSTERDAM[:3]) + "\n")
    assert np("inventory", "import", str(numbers)).code == 0
    no_offerings = write(tmp_path / "bare.toml", NL_CATALOG.split("\n[[offerings]]")[0])
    before = np("catalog", "export").out
    refused = np("catalog", "import", str(no_offerings))
    assert refused.code == 1
    assert refused.err.count("\n") == 1
    assert "3 available NL geographic numbers" in refused.err and "--force" in refused.err
    assert np("catalog", "export").out == before  # nothing changed
    forced = np("catalog", "import", str(no_offerings), "--force")
    assert forced.code == 0 and "2 offerings removed" in forced.out
    assert rows(url, "SELECT count(*) FROM offerings") == [(0,)]


def test_a_country_left_out_is_removed_unless_numbers_of_it_are_stored(np, nl, url, tmp_path) -> None:
    demo = Path(__file__).parents[1] / "src/numberpool/catalogs/demo.toml"
    ran = np("catalog", "import", str(demo))  # NL's offerings go (no NL numbers), and NL with them
    assert ran.code == 0 and "1 countries removed" in ran.out
    assert "NL" not in {code for (code,) in rows(url, "SELECT code FROM countries")}


def test_a_bad_catalog_file_is_one_line_and_status_2(np, tmp_path) -> None:
    bad = write(tmp_path / "bad.toml", NL_CATALOG.replace('"geographic"', '"landline"', 1))
    ran = np("catalog", "import", str(bad))
    assert ran.code == 2
    assert ran.err.strip() == (
        f"numberpool: error: {bad}:4: [[offerings]] #1: phoneNumberType: 'landline' is not one of"
        " geographic, tollFree, mobile"
    )


# --- inventory import ----------------------------------------------------------------------

BAD_ROWS = """\
phoneNumber,numberType,areaCode,locality,administrativeDivision,countryCode
+31201230000,,,,,
+31201230001,geographic,20,,,
+31201230000,,,,,
+3120123000,,,,,
+31612345678,,,,,
+31201230002,tollFree,,,,
+31201230003,,10,,,
not-a-number,,,,,
+31201230004,landline,,,,
+31201230005,,,,,BE
+31201230006,,,Haarlemmermeer,,
+31201230007,geographic
+31101230000,,,,,
"""

REASONS = {
    4: "phoneNumber: appears earlier in the file",
    5: "phoneNumber: not a valid number in its country's numbering plan",
    6: "no offering in the catalog for NL mobile numbers",
    7: "numberType: tollFree contradicts the numbering plan, which says fixed_line",
    8: "areaCode: 10 contradicts the numbering plan, which gives 20",
    9: "phoneNumber: 'not-a-number' is not an E.164 number (+ then 7 to 15 digits)",
    10: "numberType: 'landline' is not one of geographic, tollFree, mobile",
    11: "countryCode: BE contradicts the numbering plan (+31201230005 is a number of NL)",
    13: "has 2 fields, the header has 6",
}


def test_import_reports_every_rejected_row_with_its_line_and_reason(np, nl, url, tmp_path) -> None:
    source = write(tmp_path / "numbers.csv", BAD_ROWS)
    rejects = tmp_path / "rejects.csv"
    ran = np("inventory", "import", str(source), "--rejects", str(rejects))
    assert ran.code == 1
    assert ran.out.strip() == f"13 rows: added 4, already present 0, rejected {len(REASONS)}"
    lines = ran.err.strip().splitlines()
    assert len(lines) == len(REASONS)
    for line, (number, reason) in zip(lines, REASONS.items()):
        assert line.startswith(f"{source}:{number}: ") and line.endswith(reason), line
    with rejects.open(newline="") as handle:
        written = list(csv.reader(handle))
    assert written[0] == ["phoneNumber", "numberType", "areaCode", "locality", "administrativeDivision", "countryCode",
                          "error"]
    assert [row[-1] for row in written[1:]] == list(REASONS.values())
    assert written[1][:-1] == ["+31201230000", "", "", "", "", ""]
    stored = rows(url, "SELECT n.phone_number, n.area_code, l.name FROM numbers n JOIN localities l"
                       " ON l.id = n.locality_id ORDER BY n.phone_number")
    assert stored == [
        ("+31101230000", "10", "Rotterdam"),
        ("+31201230000", "20", "Amsterdam"),
        ("+31201230001", "20", "Amsterdam"),
        ("+31201230006", "20", "Haarlemmermeer"),  # a given locality is the operator's record: kept
    ]


@pytest.mark.parametrize(("content", "expected"), [
    (None, "no such file"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a CSV file (binary data)"),
    (b"phoneNumber\n+3120123456\xe9\n", "(not UTF-8 text)"),
    (b"phoneNumber\x00\x01\n", "not a CSV file (binary data)"),
    (b"number,type\n+31201230000,geographic\n", "no phoneNumber column in the header"),
    (b"phoneNumber,numbertype\n+31201230000,geographic\n", "unknown column 'numbertype'"),
    (b"", "empty; a numbers file starts with a header row"),
], ids=["missing", "binary", "latin-1", "nul", "no-phoneNumber", "unknown-column", "empty"])
def test_a_file_that_cannot_be_read_is_status_2_and_imports_nothing(np, nl, url, tmp_path, content, expected) -> None:
    source = tmp_path / "numbers.csv"
    if content is not None:
        source.write_bytes(content)
    ran = np("inventory", "import", str(source))
    assert ran.code == 2
    assert ran.err.count("\n") == 1 and expected in ran.err and str(source) in ran.err
    assert rows(url, "SELECT count(*) FROM numbers") == [(0,)]


def test_import_is_idempotent_and_moves_no_number_out_of_its_state(np, nl, url, tmp_path) -> None:
    source = write(tmp_path / "n.csv", "phoneNumber\n" + "\n".join(AMSTERDAM) + "\n")
    dry = np("inventory", "import", str(source), "--dry-run")
    assert (dry.code, dry.out.strip()) == (0, "20 rows: would add 20, already present 0, rejected 0")
    assert rows(url, "SELECT count(*) FROM numbers") == [(0,)]
    assert np("inventory", "import", str(source)).out.strip() == "20 rows: added 20, already present 0, rejected 0"
    # One number sold, one withdrawn: importing them again leaves both as they are.
    buy(url, AMSTERDAM[0], "tenant")
    # A price no offering has, so an import that rewrote the sold number's terms would show.
    rows(url, f"UPDATE numbers SET cost = 9.5 WHERE phone_number = '{AMSTERDAM[0]}'")
    assert np("inventory", "withdraw", AMSTERDAM[1]).code == 0
    again = np("inventory", "import", str(source))
    assert (again.code, again.out.strip()) == (0, "20 rows: added 0, already present 20, rejected 0")
    assert np("inventory", "import", str(source), "--dry-run").out.strip() == (
        "20 rows: would add 0, already present 20, rejected 0")
    states = dict(rows(url, "SELECT state, count(*) FROM numbers GROUP BY state"))
    assert states == {"available": 18, "purchased": 1, "withdrawn": 1}
    assert rows(url, f"SELECT owner, cost FROM numbers WHERE phone_number = '{AMSTERDAM[0]}'") == [("tenant", 9.5)]


def test_add_range_adds_every_valid_number_between_two(np, nl, url) -> None:
    ran = np("inventory", "add-range", "+31201239990", "+31201240009")
    assert (ran.code, ran.out.strip()) == (0, "20 rows: added 20, already present 0, rejected 0")
    assert np("inventory", "add-range", "+31201239990", "+31201240009").out.strip() == (
        "20 rows: added 0, already present 20, rejected 0")
    assert rows(url, "SELECT min(phone_number), max(phone_number), count(*) FROM numbers") == [
        ("+31201239990", "+31201240009", 20)]


@pytest.mark.parametrize(("first", "last", "expected"), [
    ("+31201230000", "+3120123000", "FIRST and LAST have different lengths"),
    ("+31201230009", "+31201230000", "LAST +31201230000 comes before FIRST +31201230009"),
    ("+31201230000", "+32201230000", "not numbers of the same country code"),
    ("31201230000", "+31201230000", "FIRST: '31201230000' is not an E.164 number"),
    ("+31200000000", "+31299999999", "the range holds 100000000 numbers, more than 10000000; pass --force"),
])
def test_add_range_refuses_a_bad_range(np, nl, url, first, last, expected) -> None:
    ran = np("inventory", "add-range", first, last)
    assert ran.code == 2 and expected in ran.err and ran.err.count("\n") == 1
    assert rows(url, "SELECT count(*) FROM numbers") == [(0,)]


def test_add_range_rejects_the_numbers_the_plan_does_not_allow(np, tmp_path, url) -> None:
    demo = Path(__file__).parents[1] / "src/numberpool/catalogs/demo.toml"
    assert np("catalog", "import", str(demo)).code == 0
    # An exchange (the three digits after the area code) never starts with 1.
    ran = np("inventory", "add-range", "+14251999998", "+14252000001")
    assert ran.code == 1
    assert ran.out.strip() == "4 rows: added 2, already present 0, rejected 2"
    assert "+14251999999: phoneNumber: not a valid number" in ran.err


# --- export, withdraw, report ----------------------------------------------------------------


def test_export_streams_csv_with_the_import_columns_and_state(np, nl, url, tmp_path) -> None:
    source = write(tmp_path / "n.csv", "phoneNumber\n" + "\n".join(AMSTERDAM[:4]) + "\n+31101230000\n")
    np("inventory", "import", str(source))
    buy(url, AMSTERDAM[0], "tenant-a")  # at T0, under the cheapest offering (application, 1.25 EUR)
    everything = list(csv.reader(io.StringIO(np("inventory", "export").out)))
    assert everything[0] == ["phoneNumber", "numberType", "areaCode", "locality", "administrativeDivision", "state",
                             "resource", "since", "cost", "currencyCode"]
    assert everything[1] == ["+31101230000", "geographic", "10", "Rotterdam", "", "available", "", "", "", ""]
    assert everything[2] == [AMSTERDAM[0], "geographic", "20", "Amsterdam", "", "purchased", "tenant-a",
                             "2023-11-14T22:13:20Z", "1.25", "EUR"]
    assert len(everything) == 6
    sold = list(csv.reader(io.StringIO(np("inventory", "export", "--state", "purchased").out)))
    assert [r[0] for r in sold[1:]] == [AMSTERDAM[0]]
    owned = list(csv.reader(io.StringIO(np("inventory", "export", "--resource", "tenant-a").out)))
    assert [r[0] for r in owned[1:]] == [AMSTERDAM[0]]
    assert np("inventory", "export", "--country", "us").out.count("\n") == 1  # the header only
    # The import reads its own export: it is a numbers file.
    exported = write(tmp_path / "exported.csv", np("inventory", "export", "--state", "available").out)
    again = np("inventory", "import", str(exported))
    assert again.code == 2 and "unknown column 'state'" in again.err  # export columns beyond the import's


def test_withdraw_takes_available_numbers_out_of_sale_and_refuses_the_rest(np, nl, url, tmp_path) -> None:
    np("inventory", "import", str(write(tmp_path / "n.csv", "phoneNumber\n" + "\n".join(AMSTERDAM[:4]) + "\n")))
    buy(url, AMSTERDAM[1], "tenant-a")
    listed = write(tmp_path / "withdraw.csv", f"phoneNumber\n{AMSTERDAM[2]}\n{AMSTERDAM[3]}\n")
    ran = np("inventory", "withdraw", AMSTERDAM[0], AMSTERDAM[1], "+31209999999", str(listed))
    assert ran.code == 1
    assert ran.out.strip() == "withdrawn 3, already withdrawn 0, refused 2"
    assert ran.err.splitlines() == [
        f"{AMSTERDAM[1]}: refused: purchased by a resource (it must be released first)",
        "+31209999999: refused: not in the inventory",
    ]
    again = np("inventory", "withdraw", AMSTERDAM[0])
    assert (again.code, again.out.strip()) == (0, "withdrawn 0, already withdrawn 1, refused 0")
    withdrawn = list(csv.reader(io.StringIO(np("inventory", "export", "--state", "withdrawn").out)))
    assert [r[0] for r in withdrawn[1:]] == [AMSTERDAM[0], AMSTERDAM[2], AMSTERDAM[3]]
    assert all(r[7].endswith("Z") for r in withdrawn[1:])  # since: when it was withdrawn
    # Withdrawn is for good: an import of the same numbers leaves them withdrawn.
    np("inventory", "import", str(listed))
    assert rows(url, f"SELECT state FROM numbers WHERE phone_number = '{AMSTERDAM[2]}'") == [("withdrawn",)]


def test_report_counts_by_country_type_area_code_and_state(np, nl, url, tmp_path) -> None:
    np("inventory", "import", str(write(tmp_path / "n.csv", "phoneNumber\n" + "\n".join(AMSTERDAM[:5])
                                        + "\n+31101230000\n")))
    np("inventory", "withdraw", AMSTERDAM[0])
    table = np("inventory", "report").out.splitlines()
    assert table[0].split() == ["country", "type", "areaCode", "available", "withdrawn", "total"]
    assert table[1].split() == ["NL", "geographic", "10", "1", "0", "1"]
    assert table[2].split() == ["NL", "geographic", "20", "4", "1", "5"]
    assert table[3].split() == ["all", "5", "1", "6"]
    import json

    data = json.loads(np("inventory", "report", "--json").out)
    assert data["total"] == 6 and data["byState"]["withdrawn"] == 1 and data["byState"]["held"] == 0
    assert {"countryCode": "NL", "phoneNumberType": "geographic", "areaCode": "20", "state": "available",
            "count": 4} in data["groups"]


# --- as a process ----------------------------------------------------------------------------


def test_commands_as_processes_exit_with_the_documented_status_and_no_traceback(url, nl, tmp_path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "numberpool", *args, "--database", url],
                              capture_output=True, text=True, timeout=120)

    good = write(tmp_path / "good.csv", "phoneNumber\n" + "\n".join(AMSTERDAM[:2]) + "\n")
    mixed = write(tmp_path / "mixed.csv", "phoneNumber\n+31201230000\n+3112\n")
    for args, status in [
        (("inventory", "import", str(good)), 0),
        (("inventory", "import", str(mixed)), 1),
        (("inventory", "import", str(tmp_path / "missing.csv")), 2),
        (("catalog", "import", str(tmp_path / "missing.toml")), 2),
    ]:
        done = run(*args)
        assert done.returncode == status, (args, done.stderr)
        assert "Traceback" not in done.stderr
    unreachable = subprocess.run(
        [sys.executable, "-m", "numberpool", "inventory", "report", "--database",
         "postgresql://postgres@127.0.0.1:1/none"], capture_output=True, text=True, timeout=120)
    assert unreachable.returncode != 0 and "Traceback" not in unreachable.stderr
    assert unreachable.stderr.count("\n") == 1 and "cannot open the database" in unreachable.stderr


def test_progress_is_plain_periodic_lines_off_a_terminal(np, url, tmp_path, monkeypatch) -> None:
    from numberpool.commands import progress

    monkeypatch.setattr(progress, "PLAIN_EVERY_SECONDS", 0.0)  # a line at every report, not every 5 s
    demo = Path(__file__).parents[1] / "src/numberpool/catalogs/demo.toml"
    assert np("catalog", "import", str(demo)).code == 0
    source = write(tmp_path / "many.csv", "phoneNumber\n" + "".join(f"+1425{300 + i // 10_000:03d}{i % 10_000:04d}\n"
                                                                    for i in range(45_000)))
    ran = np("inventory", "import", str(source))
    assert ran.code == 0
    lines = ran.err.splitlines()
    assert [line.split(": ", 2)[2].split(" rows")[0] for line in lines] == ["20,480", "40,960", "45,000"]
    assert lines[0].startswith("numberpool: importing many.csv: 20,480 rows (") and lines[0].endswith(" rows/s")
    assert "(100 %)" in lines[-1]


def test_withdraw_stamps_the_services_time_with_the_test_clock_moved(np, nl, url, tmp_path) -> None:
    np("inventory", "import", str(write(tmp_path / "n.csv", f"phoneNumber\n{AMSTERDAM[0]}\n")))

    on_store(url, lambda store: store.advance_clock(30 * 24 * 3600.0))
    assert np("inventory", "withdraw", AMSTERDAM[0]).code == 0
    [row] = list(csv.DictReader(io.StringIO(np("inventory", "export", "--state", "withdrawn").out)))
    since = datetime.fromisoformat(row["since"].replace("Z", "+00:00"))
    assert since > datetime.now(timezone.utc) + timedelta(days=29)
