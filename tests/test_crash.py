"""Crashes: kill -9 a server under mixed load, or in the middle of seeding, restart it on the same
data, and nothing is lost, duplicated or left half-done.

* Under load (both engines): searches, purchases, cancellations and releases from many clients;
  the single server is killed with SIGKILL and started again on the same database and port. After
  it: the invariant query holds, every operation that was answered 202 is pollable and finished
  (succeeded or failed), what the clients were told they own is what they own, and the numbers by
  state add up to the inventory the server seeded.
* During the demo seeding (SQLite): the process is killed after some localities are in; the next
  start finishes the seeding (whole localities only, no duplicate locality, the exact inventory a
  seeding without a crash gives) and the invariant holds.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sqlite3
import ssl
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
import pytest

from numberpool.core.resources import DEV_ACCESS_KEY
from numberpool.numbering.demo import demo_blocks
from numberpool.store import is_postgres_url, open_store
from tests.conftest import OTHER_KEY, OTHER_RESOURCE, server_data_dir
from tests.support import postgres
from tests.support.hmac_auth import HmacAuth
from tests.support.server import ServerProcess, free_port

V = "api-version=2025-06-01"
KEYS = {"devresource": DEV_ACCESS_KEY, OTHER_RESOURCE: OTHER_KEY}
SEARCH = {"phoneNumberType": "geographic", "assignmentType": "application", "areaCode": "425",
          "capabilities": {"calling": "inbound+outbound", "sms": "none"}}
POOL = 60  # numbers per area code
CLIENTS = 32
MAX_QUANTITY = 3  # numbers per search


# ---------------------------------------------------------------- helpers


async def _count_by_state(database: str) -> Counter[str]:
    if is_postgres_url(database):
        connection = await asyncpg.connect(database)
        try:
            rows = await connection.fetch("SELECT state, count(*) FROM numbers GROUP BY state")
        finally:
            await connection.close()
        return Counter({row[0]: row[1] for row in rows})
    with sqlite3.connect(database) as connection:
        return Counter(dict(connection.execute("SELECT state, count(*) FROM numbers GROUP BY state").fetchall()))


async def _violations(database: str) -> list[tuple[str, str]]:
    store = await open_store(database, max_size=1)
    try:
        return await store.violations()
    finally:
        await store.close()


@dataclass
class Ledger:
    """What the clients were told."""

    accepted: dict[str, str] = field(default_factory=dict)
    """operation id -> resource, for every 202."""
    cancelled: set[str] = field(default_factory=set)
    """Operations a client deleted (answered 204) or may have (the answer was lost in the crash)."""
    owned: dict[str, set[str]] = field(default_factory=lambda: {r: set() for r in KEYS})
    in_doubt: set[str] = field(default_factory=set)
    """Numbers whose purchase or release was in flight at the crash: either outcome is right."""
    statuses: Counter[int] = field(default_factory=Counter)
    transport_errors: int = 0
    unexpected: list[str] = field(default_factory=list)


class Node:
    """One server process that can be killed and started again on the same database and port."""

    def __init__(self, data_dir: Path, args: tuple[str, ...]) -> None:
        self.data_dir, self.args, self.port = data_dir, args, free_port()
        self.process = ServerProcess(data_dir, *args, port=self.port).start()
        self.ca = self.process.ca

    def crash_and_restart(self) -> None:
        self.process.kill()  # SIGKILL: no shutdown, no flush
        assert self.process.returncode == -signal.SIGKILL
        self.process = ServerProcess(self.data_dir, *self.args, port=self.port).start()

    def client(self, resource: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.process.endpoint, auth=HmacAuth(KEYS[resource]), timeout=30,
                                 verify=ssl.create_default_context(cafile=str(self.ca)))


async def _client_loop(node: Node, number: int, stop_at: list[float], ledger: Ledger) -> None:
    """Mixed rounds until `stop_at[0]` (monotonic seconds), which the test may move."""
    rng = random.Random(number)
    resource = list(KEYS)[number % 2]
    mine: set[str] = set()
    async with node.client(resource) as client:
        while time.monotonic() < stop_at[0]:
            try:
                await _round(client, resource, rng, mine, ledger)
            except httpx.TransportError:
                ledger.transport_errors += 1
                await asyncio.sleep(0.05)  # the server is down: try again shortly, as an SDK would
    ledger.owned[resource] |= mine


async def _round(client: httpx.AsyncClient, resource: str, rng: random.Random, mine: set[str],
                 ledger: Ledger) -> None:
    def expect(response: httpx.Response, *codes: int) -> bool:
        ledger.statuses[response.status_code] += 1
        if response.status_code not in codes:
            ledger.unexpected.append(f"{response.request.method} {response.request.url.path}: "
                                     f"{response.status_code} {response.text[:200]}")
            return False
        if response.status_code == 202:
            ledger.accepted[response.headers["operation-id"]] = resource
        return True

    started = await client.post(f"/availablePhoneNumbers/countries/US/:search?{V}",
                                json={**SEARCH, "quantity": rng.randint(1, MAX_QUANTITY)})
    if not expect(started, 202):
        return
    search_id, search_op = started.headers["search-id"], started.headers["operation-id"]
    result = await client.get(f"/availablePhoneNumbers/searchResults/{search_id}?{V}")
    if not expect(result, 200):
        return
    numbers = result.json()["phoneNumbers"]
    roll = rng.random()
    if numbers and roll < 0.5:
        ledger.in_doubt.update(numbers)
        bought = await client.post(f"/availablePhoneNumbers/:purchase?{V}", json={"searchId": search_id})
        if expect(bought, 202):
            outcome = await client.get(f"/phoneNumbers/operations/{bought.headers['operation-id']}?{V}")
            if expect(outcome, 200) and outcome.json()["status"] == "succeeded":
                mine.update(numbers)
        ledger.in_doubt.difference_update(numbers)
    elif numbers and roll < 0.75:
        ledger.cancelled.add(search_op)  # in doubt until the answer comes
        expect(await client.delete(f"/phoneNumbers/operations/{search_op}?{V}"), 204)
    if mine and rng.random() < 0.4:
        number = sorted(mine)[rng.randrange(len(mine))]
        mine.discard(number)
        ledger.in_doubt.add(number)
        released = await client.delete(f"/phoneNumbers/{number}?{V}")
        if not expect(released, 202):
            mine.add(number)
        ledger.in_doubt.discard(number)


# ---------------------------------------------------------------- kill -9 under load


async def _until(condition: Callable[[], bool], seconds: float) -> None:
    """Wait (polling) until `condition()` holds; fail after `seconds`."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"still not so after {seconds} s"
        await asyncio.sleep(0.05)


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "postgres":
        url = postgres.create_database()
        yield url
        postgres.drop_database(url)
    else:
        yield str(tmp_path / "crash.db")


async def test_kill_minus_nine_under_mixed_load_loses_nothing(
    database: str, tmp_path_factory: pytest.TempPathFactory, development_ca: Path
) -> None:
    args = ("--database", database, "--inventory-size", str(POOL), "--hold-minutes", "0.05",
            "--sweep-seconds", "1", "--resource", f"{OTHER_RESOURCE}={OTHER_KEY}")
    node = Node(server_data_dir(tmp_path_factory, development_ca, "crash"), args)
    try:
        inventory = sum((await _count_by_state(database)).values())
        ledger = Ledger()
        # The crash comes once the load has really run, and the load goes on after the restart: counted
        # in answers, not seconds, so a slow machine makes the test longer, not weaker.
        stop_at = [time.monotonic() + 180]
        clients = [asyncio.create_task(_client_loop(node, n, stop_at, ledger)) for n in range(CLIENTS)]
        await _until(lambda: ledger.statuses[202] >= 30, seconds=90)
        await asyncio.to_thread(node.crash_and_restart)
        before_restart = ledger.statuses[202]
        await _until(lambda: ledger.statuses[202] >= before_restart + 30, seconds=90)
        stop_at[0] = time.monotonic()
        await asyncio.gather(*clients)

        assert ledger.transport_errors > 0, "the crash happened while clients were talking to the server"
        assert ledger.unexpected == []
        assert ledger.statuses[202] > 50, "the load really ran"
        assert all(code < 500 for code in ledger.statuses)
        assert await _violations(database) == []

        # No number lost or duplicated: every number is in exactly one state, and they add up.
        by_state = await _count_by_state(database)
        assert sum(by_state.values()) == inventory, by_state
        assert set(by_state) <= {"available", "held", "purchased"}, by_state

        # Every 202 is pollable after the restart and finished; only cancelled searches are gone.
        async with node.client("devresource") as dev, node.client(OTHER_RESOURCE) as other:
            clients_by_resource = {"devresource": dev, OTHER_RESOURCE: other}
            for operation_id, resource in ledger.accepted.items():
                polled = await clients_by_resource[resource].get(f"/phoneNumbers/operations/{operation_id}?{V}")
                if polled.status_code == 404 and operation_id in ledger.cancelled:
                    continue
                assert polled.status_code == 200, (operation_id, polled.text)
                assert polled.json()["status"] in ("succeeded", "failed"), polled.json()

            # What each client was told it owns (and did not release) is what it owns.
            for resource, client in clients_by_resource.items():
                listed = (await client.get(f"/phoneNumbers?top=1000&{V}")).json()["phoneNumbers"]
                assert {n["phoneNumber"] for n in listed} - ledger.in_doubt == ledger.owned[resource] - ledger.in_doubt
        # Only what was in flight when the process died is in doubt: at most one search's numbers per client.
        assert len(ledger.in_doubt) <= CLIENTS * MAX_QUANTITY
        print(f"\ncrash under load: {sum(ledger.statuses.values())} answers, {len(ledger.accepted)} operations "
              f"accepted and all finished, {ledger.transport_errors} requests cut by the kill, by state {dict(by_state)}")
    finally:
        node.process.stop()


# ---------------------------------------------------------------- kill -9 while seeding

SEED_SIZE = 1000  # numbers per area code: a few seconds of seeding, so the kill lands inside it


def _seeded(path: Path) -> tuple[int, dict[tuple[str, str, str, str | None], int], int]:
    """(numbers, numbers per locality, localities) in the database (a WAL reader: takes no lock)."""
    with sqlite3.connect(path) as connection:
        rows = connection.execute(
            "SELECT l.country, l.number_type, l.area_code, l.name, count(n.phone_number)"
            " FROM localities l LEFT JOIN numbers n ON n.locality_id = l.id GROUP BY l.id"
        ).fetchall()
        total = connection.execute("SELECT count(*) FROM numbers").fetchone()[0]
    per_locality = {(c, t, a, name): count for c, t, a, name, count in rows}
    return total, per_locality, len(rows)


def _seed_record(path: Path) -> tuple[int, float | None] | None:
    with sqlite3.connect(path) as connection:
        return connection.execute("SELECT per_area_code, completed_at FROM demo_seed").fetchone()


def test_kill_minus_nine_while_seeding_is_resumed_on_restart(
    tmp_path_factory: pytest.TempPathFactory, development_ca: Path
) -> None:
    data_dir = server_data_dir(tmp_path_factory, development_ca, "seed-crash")
    database = data_dir / "numberpool.db"
    command = [sys.executable, "-m", "numberpool", "serve", "--port", str(free_port()), "--data-dir", str(data_dir),
               "--inventory-size", str(SEED_SIZE)]
    seeding = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        assert seeding.stdout is not None
        output = []
        for line in seeding.stdout:
            output.append(line)
            if "seeding the demo inventory" in line:
                break
        else:
            pytest.fail("no seeding message:\n" + "".join(output))
        # Some localities are in: kill it there, before "ready".
        deadline = time.monotonic() + 60
        while not database.exists() or _seeded(database)[0] == 0:
            assert time.monotonic() < deadline and seeding.poll() is None, "".join(output)
            time.sleep(0.02)
        seeding.send_signal(signal.SIGKILL)
        seeding.wait(10)
        rest = seeding.stdout.read()
    finally:
        if seeding.poll() is None:
            seeding.kill()
            seeding.wait()
    assert "ready" not in rest, "the seeding finished before the kill: make it bigger"

    expected: dict[tuple[str, str, str, str | None], int] = Counter()
    for block in demo_blocks(SEED_SIZE):
        expected[(block.country, block.number_type.value, block.area_code, block.locality)] += len(block.numbers)

    # Half done, in whole localities: each locality is one transaction.
    total, per_locality, _ = _seeded(database)
    assert 0 < total < sum(expected.values())
    assert _seed_record(database)[0] == SEED_SIZE and _seed_record(database)[1] is None
    for locality, count in per_locality.items():
        assert count in (0, expected[locality]), (locality, count, expected[locality])

    # The next start (even with another size) finishes the seeding it finds, at the recorded size.
    restarted = ServerProcess(data_dir, "--inventory-size", "7").start()
    try:
        assert any("resuming the interrupted seeding" in line for line in restarted.output), restarted.output
        total, per_locality, localities = _seeded(database)
        assert per_locality == dict(expected)
        assert localities == len(expected), "no locality twice"
        assert total == sum(expected.values())
        record = _seed_record(database)
        assert record is not None and record[0] == SEED_SIZE and record[1] is not None
        assert asyncio.run(_violations(str(database))) == []
    finally:
        restarted.stop()

    # Once complete, a start seeds nothing more.
    again = ServerProcess(data_dir, "--inventory-size", str(SEED_SIZE)).start()
    again.stop()
    assert not any("numberpool: seed" in line for line in again.output), again.output
    assert _seeded(database)[0] == sum(expected.values())


async def test_what_a_start_seeds() -> None:
    from numberpool.core.seed import demo_seed_plan, ensure_demo_inventory

    store = await open_store("memory")
    try:
        assert await demo_seed_plan(store, 0) is None  # --inventory-size 0: nothing
        plan = await demo_seed_plan(store, 3)
        assert plan is not None and plan.per_area_code == 3 and not plan.resuming
        await store.record_demo_seed(3, time.time(), complete=False)  # a start that died half-way
        resumed = await demo_seed_plan(store, 9)
        assert resumed is not None and resumed.per_area_code == 3 and resumed.resuming
        added = await ensure_demo_inventory(store, resumed)
        assert added == sum(len(b.numbers) for b in demo_blocks(3))
        assert await store.demo_seed() == (3, True)
        assert await demo_seed_plan(store, 9) is None  # complete: a later start adds nothing
    finally:
        await store.close()

    store = await open_store("memory")  # numbers from elsewhere (an import, an older numberpool)
    try:
        from numberpool.core.model import Locality, NumberType

        await store.load_catalog([], [])
        await store.load_numbers(Locality("US", NumberType.GEOGRAPHIC, "425", None, None, None), ["+14255550100"])
        assert await demo_seed_plan(store, 5) is None
    finally:
        await store.close()
