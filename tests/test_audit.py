"""Aging and the audit trail through a real server, the official Python SDK and the command line,
on both engines; docs/operators.md's commands run as written.

The database is seeded before the server starts and its offerings age released numbers for 30
days; the server runs in testing mode (`--testing`, which has the test clock), so the tests move time instead of waiting for it.
"""

from __future__ import annotations

import asyncio
import csv
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from numberpool.core.model import NumberState
from numberpool.store import Store, open_store
from tests.conftest import server_data_dir
from tests.test_clock import control_client
from tests.support import postgres
from tests.support.sdk import TOLL_FREE_CAPS, sync_client
from tests.support.server import ServerProcess
from tests.support.stores import demo_database_with_aging, on_store, violations

from azure.communication.phonenumbers import PhoneNumberAssignmentType, PhoneNumberCapabilityType, PhoneNumberType

DOCS = Path(__file__).resolve().parents[1] / "docs" / "operators.md"
CLOCK = "/_numberpool/clock"
V = {"api-version": "2025-06-01"}
AGING_DAYS = 30
FIRST, SECOND = "+18002000000", "+18002000001"  # the first US toll-free numbers of the demo inventory


@dataclass
class Aged:
    database: str
    server: ServerProcess


@pytest.fixture(params=["sqlite", "postgres"])
def aged(request: pytest.FixtureRequest, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory,
         development_ca: Path) -> Iterator[Aged]:
    database = postgres.create_database() if request.param == "postgres" else str(tmp_path / "aged.db")

    demo_database_with_aging(database, AGING_DAYS)
    server = ServerProcess(server_data_dir(tmp_path_factory, development_ca, "aged"), "--database", database,
                           "--testing", "--sweep-seconds", "0.5").start()
    yield Aged(database, server)
    server.stop()
    if request.param == "postgres":
        postgres.drop_database(database)


def _history(database: str, number: str) -> tuple[Any, list[Any]]:
    async def read(store: Store) -> tuple[Any, list[Any]]:
        async with store.read() as tx:
            return await tx.get_number(number), await tx.history(number)

    return on_store(database, read)


def _rows(events: list[Any]) -> list[tuple[Any, ...]]:
    return [(e.event, e.old_state, e.new_state, e.resource, e.actor) for e in events]


def numberpool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "numberpool", *args], capture_output=True, text=True, timeout=60)


def docs_bash(section: str) -> str:
    """The bash blocks of one section of docs/operators.md, joined."""
    text = DOCS.read_text(encoding="utf-8").split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```bash\n(.*?)```", text, re.S)
    assert blocks, f"no bash block in '## {section}' of {DOCS}"
    return "".join(blocks)


def run_docs(section: str, database: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """A section's commands, as a reader runs them, on the test's database."""
    script = docs_bash(section).replace("--data-dir .numberpool", f"--database {database}")
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}"
    return subprocess.run(["bash", "-euo", "pipefail", "-c", script], env={**os.environ, "PATH": path}, cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def _until(condition: Any, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.1)


def test_lifecycle_aging_history_and_export(aged: Aged, tmp_path: Path) -> None:
    server, database = aged.server, aged.database
    with sync_client(server.connection_string, None, server) as client:
        found = client.begin_search_available_phone_numbers(
            "US", PhoneNumberType.TOLL_FREE, PhoneNumberAssignmentType.APPLICATION, TOLL_FREE_CAPS,
            area_code="800", quantity=2, polling_interval=0,
        ).result()
        assert found.phone_numbers == [FIRST, SECOND]
        client.begin_purchase_phone_numbers(found.search_id, polling_interval=0).result()
        client.begin_update_phone_number_capabilities(
            SECOND, calling=PhoneNumberCapabilityType.INBOUND_OUTBOUND, polling_interval=0).result()
        for number in found.phone_numbers:
            client.begin_release_phone_number(number, polling_interval=0).result()
        # Aging: the released numbers are nobody's, and no search finds them.
        assert [n.phone_number for n in client.list_purchased_phone_numbers()] == []
        again = client.begin_search_available_phone_numbers(
            "US", PhoneNumberType.TOLL_FREE, PhoneNumberAssignmentType.APPLICATION, TOLL_FREE_CAPS,
            area_code="800", quantity=2, polling_interval=0,
        ).result()
        assert not {FIRST, SECOND} & set(again.phone_numbers)

    number, events = _history(database, SECOND)
    assert number.state is NumberState.AGING and number.owner is None
    dev = "devresource"
    assert _rows(events) == [
        ("held", "available", "held", dev, dev),
        ("purchased", "held", "purchased", dev, dev),
        ("capabilities updated", "purchased", "purchased", dev, dev),
        ("released", "purchased", "aging", dev, dev),
    ]
    assert events[0].reference == found.search_id
    assert events[1].reference == f"purchase_{found.search_id}"
    assert events[2].reference.startswith("capabilities_") and events[2].detail.startswith("calling=inbound+outbound")
    assert events[3].reference.startswith("release_")
    assert round((number.aging_until - events[3].at).total_seconds()) == AGING_DAYS * 24 * 3600
    assert violations(database) == []

    # The operator's override, as docs/operators.md shows it.
    run = run_docs("Aging", database, tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"{FIRST}: aging, aging until " in run.stdout
    assert f"{FIRST}: available\n" in run.stdout
    last = run.stdout.rstrip("\n").splitlines()[-1]
    assert re.search(r"aging ended\s+aging -> available\s+actor=admin$", last), run.stdout
    assert _history(database, FIRST)[0].state is NumberState.AVAILABLE

    # The other ages until the clock passes its end; then the sweep returns it, as the system.
    with control_client(server) as http:  # the clock takes the admin token (the development one here)
        assert http.post(CLOCK, params=V, json={"advanceSeconds": AGING_DAYS * 24 * 3600 - 60}).status_code == 200
        time.sleep(1.2)  # two sweeps
        assert _history(database, SECOND)[0].state is NumberState.AGING
        assert http.post(CLOCK, params=V, json={"advanceSeconds": 61}).status_code == 200
    _until(lambda: _history(database, SECOND)[0].state is NumberState.AVAILABLE)
    assert _rows(_history(database, SECOND)[1])[-1] == ("aging ended", "aging", "available", None, "system")
    assert violations(database) == []

    # History and export, as docs/operators.md shows them.
    run = run_docs("Audit trail", database, tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.startswith(f"{SECOND}: available\n")
    assert "capabilities updated" in run.stdout and "actor=system" in run.stdout
    with (tmp_path / "events.csv").open(newline="") as f:
        exported = list(csv.DictReader(f))
    lines = (tmp_path / "events.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in lines] == [
        {k: (None if v == "" else int(v) if k == "id" else v) for k, v in row.items()} for row in exported
    ]
    mine = [row for row in exported if row["phone_number"] == SECOND]
    assert [row["event"] for row in mine] == [
        "held", "purchased", "capabilities updated", "released", "aging ended"]
    assert {row["actor"] for row in exported} == {dev, "admin", "system"}
    # Two searches of two numbers each: four `held` events, whatever became of the numbers.
    held = [row for row in exported if row["event"] == "held"]
    assert len(held) == 4


def test_command_errors_are_one_line(tmp_path: Path) -> None:
    missing = numberpool("inventory", "history", "+18002000000", "--database", str(tmp_path / "none.db"))
    assert missing.returncode == 1 and missing.stderr.count("\n") == 1 and "no database at" in missing.stderr
    garbage = numberpool("inventory", "release-aging", "not-a-number", "--database", str(tmp_path / "none.db"))
    assert garbage.returncode == 1 and "not a phone number: 'not-a-number'" in garbage.stderr
    assert "Traceback" not in garbage.stderr
    bad_time = numberpool("audit", "export", "--since", "yesterday")
    assert bad_time.returncode == 2 and "not an ISO 8601 time" in bad_time.stderr
    backwards = numberpool("audit", "export", "--since", "2026-02-01", "--until", "2026-01-01",
                           "--database", str(tmp_path / "none.db"))
    assert backwards.returncode == 1 and "--until must be later than --since" in backwards.stderr
    bad_format = numberpool("audit", "export", "--format", "xml")
    assert bad_format.returncode == 2


def test_history_of_a_number_never_in_the_inventory(tmp_path: Path) -> None:
    async def create() -> None:
        store = await open_store(str(tmp_path / "empty.db"))
        await store.close()

    asyncio.run(create())
    shown = numberpool("inventory", "history", "+14255550100", "--database", str(tmp_path / "empty.db"))
    assert shown.returncode == 1
    assert shown.stdout == "+14255550100: not in the inventory\nno events\n"
    export = numberpool("audit", "export", "--format", "jsonl", "--database", str(tmp_path / "empty.db"))
    assert export.returncode == 0 and export.stdout == ""
