"""The test clock: in testing mode (`serve --testing`, or its older alias `--test-clock`) the clock
offset lives in the database, so moving time through one process moves it for all of them, and
the background sweep acts on it. The clock route takes the admin token, as every control endpoint.

Runs on both engines with two server processes sharing one database. No test sleeps longer than
the sweep interval: time is moved, not waited for.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from numberpool.api.admin_auth import DEV_ADMIN_TOKEN
from numberpool.core.model import NumberState
from numberpool.core.timeutil import Clock, SharedClock
from numberpool.store import Store, open_store
from tests.conftest import OTHER_KEY, OTHER_RESOURCE, server_data_dir, signed_client
from tests.support import postgres
from tests.support.acs import assert_acs_error
from tests.support.server import ServerProcess
from tests.support.stores import on_store, violations

V = {"api-version": "2025-06-01"}
CLOCK = "/_numberpool/clock"
SWEEP_SECONDS = 0.5
SEARCH = {"phoneNumberType": "geographic", "assignmentType": "application", "areaCode": "425",
          "capabilities": {"calling": "inbound+outbound", "sms": "none"}}
POOL = 12  # numbers per area code


@dataclass
class Nodes:
    database: str
    a: ServerProcess
    b: ServerProcess


@pytest.fixture(params=["sqlite", "postgres"])
def nodes(request: pytest.FixtureRequest, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory,
          development_ca: Path) -> Iterator[Nodes]:
    database = postgres.create_database() if request.param == "postgres" else str(tmp_path / "shared.db")
    args = ("--database", database, "--inventory-size", str(POOL), "--hold-minutes", "1",
            "--sweep-seconds", str(SWEEP_SECONDS), "--test-clock", "--resource", f"{OTHER_RESOURCE}={OTHER_KEY}")
    a = ServerProcess(server_data_dir(tmp_path_factory, development_ca, "clock-a"), *args).start()
    b = ServerProcess(server_data_dir(tmp_path_factory, development_ca, "clock-b"), *args).start()
    yield Nodes(database, a, b)
    a.stop()
    b.stop()
    if request.param == "postgres":
        postgres.drop_database(database)


def _states(database: str, numbers: list[str]) -> dict[str, NumberState]:
    async def read(store: Store) -> dict[str, NumberState]:
        async with store.transaction() as tx:
            found = {n: await tx.get_number(n) for n in numbers}
        return {n: p.state for n, p in found.items() if p is not None}

    return on_store(database, read)


def control_client(server: ServerProcess, token: str = DEV_ADMIN_TOKEN) -> httpx.Client:
    """Raw HTTP to the control endpoints with the admin token."""
    return httpx.Client(base_url=server.endpoint, headers={"Authorization": f"Bearer {token}"},
                        verify=ssl.create_default_context(cafile=str(server.ca)), timeout=30)


def _until(condition: Any, seconds: float = 5.0) -> None:
    """Poll `condition` every tenth of a second (well under the sweep interval) for at most `seconds`."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.1)


def test_the_clock_route_does_not_exist_without_the_flag(http: httpx.Client) -> None:
    assert_acs_error(http.post(CLOCK, params=V, json={"advanceSeconds": 60}), 404, "NotFound")
    assert_acs_error(http.get(CLOCK, params=V), 404, "NotFound")


def test_the_old_flag_is_not_in_the_help_and_testing_is(capsys: pytest.CaptureFixture[str]) -> None:
    from numberpool.cli import main

    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    out = capsys.readouterr().out
    assert "test-clock" not in out
    assert "--testing" in out


def test_moving_the_clock(nodes: Nodes) -> None:
    with control_client(nodes.a) as a, control_client(nodes.b) as b, signed_client(nodes.b) as signed:
        before = a.get(CLOCK).json()
        assert before["offsetSeconds"] == 0
        moved = b.post(CLOCK, json={"advanceSeconds": 3600})
        assert moved.status_code == 200, moved.text
        assert moved.json()["offsetSeconds"] == 3600
        # The other process sees it within its cache time (0.2 s).
        _until(lambda: a.get(CLOCK).json()["offsetSeconds"] == 3600, seconds=2)
        after = a.get(CLOCK).json()["now"]
        assert (datetime.fromisoformat(after) - datetime.fromisoformat(before["now"])).total_seconds() >= 3600
        # Forward only and finite.
        for bad in (-1, "60", None, True, 1e300):
            assert_acs_error(b.post(CLOCK, json={"advanceSeconds": bad}), 400, "BadRequest")
        assert_acs_error(b.post(CLOCK, content=b'{"advanceSeconds": NaN}',
                                headers={"Content-Type": "application/json"}), 400)
        assert b.get(CLOCK).json()["offsetSeconds"] == 3600
        # Only the admin token opens it: no token, a wrong one, or a resource's signature is 401.
        with control_client(nodes.a, "wrong-token") as wrong:
            assert_acs_error(wrong.post(CLOCK, json={"advanceSeconds": 60}), 401, "Unauthorized")
        unsigned = httpx.post(f"{nodes.a.endpoint}{CLOCK}", json={"advanceSeconds": 60},
                              verify=ssl.create_default_context(cafile=str(nodes.a.ca)))
        assert_acs_error(unsigned, 401, "Unauthorized")
        assert_acs_error(signed.post(CLOCK, params=V, json={"advanceSeconds": 60}), 401, "Unauthorized")
        assert b.get(CLOCK).json()["offsetSeconds"] == 3600


def test_the_sweep_returns_expired_holds_after_the_clock_moves(nodes: Nodes) -> None:
    with signed_client(nodes.a) as a, signed_client(nodes.b) as b, control_client(nodes.b) as clock:
        started = a.post("/availablePhoneNumbers/countries/US/:search", params=V, json={**SEARCH, "quantity": 3})
        assert started.status_code == 202, started.text
        search_id = started.headers["search-id"]
        held = a.get(f"/availablePhoneNumbers/searchResults/{search_id}", params=V).json()["phoneNumbers"]
        assert len(held) == 3
        assert set(_states(nodes.database, held).values()) == {NumberState.HELD}

        # Half a minute on, the hold (one minute) still stands: a search sees the numbers as taken.
        assert clock.post(CLOCK, json={"advanceSeconds": 30}).status_code == 200
        time.sleep(SWEEP_SECONDS)
        assert set(_states(nodes.database, held).values()) == {NumberState.HELD}
        result = a.get(f"/availablePhoneNumbers/searchResults/{search_id}", params=V).json()
        assert result["searchExpiresBy"] > clock.get(CLOCK).json()["now"]

        # Past the expiry: a sweep of either process returns them to the inventory for good.
        assert clock.post(CLOCK, json={"advanceSeconds": 31}).status_code == 200
        _until(lambda: set(_states(nodes.database, held).values()) == {NumberState.AVAILABLE})
        assert violations(nodes.database) == []

        # The expired search can no longer be bought, on either process.
        bought = a.post("/availablePhoneNumbers/:purchase", params=V, json={"searchId": search_id})
        assert bought.status_code == 202, bought.text
        outcome = b.get(f"/phoneNumbers/operations/{bought.headers['operation-id']}", params=V).json()
        assert outcome["status"] == "failed"
        assert outcome["error"]["code"] == "ReservationExpired"
        assert b.get("/phoneNumbers", params=V).json()["phoneNumbers"] == []

        # A new search finds them again.
        again = b.post("/availablePhoneNumbers/countries/US/:search", params=V, json={**SEARCH, "quantity": POOL})
        assert again.status_code == 202, again.text
        found = b.get(f"/availablePhoneNumbers/searchResults/{again.headers['search-id']}", params=V).json()
        assert set(held) <= set(found["phoneNumbers"])
        assert violations(nodes.database) == []


def test_operations_report_their_timeline_on_the_shared_clock(tmp_path_factory: pytest.TempPathFactory,
                                                              development_ca: Path) -> None:
    """With --operation-latency, moving the clock is what finishes an operation: no waiting."""
    server = ServerProcess(server_data_dir(tmp_path_factory, development_ca, "clock-latency"),
                           "--database", "memory", "--inventory-size", "5", "--operation-latency", "3600",
                           "--test-clock").start()
    try:
        with signed_client(server) as client, control_client(server) as clock:
            started = client.post("/availablePhoneNumbers/countries/US/:search", params=V, json=SEARCH)
            assert started.status_code == 202, started.text
            operation = f"/phoneNumbers/operations/{started.headers['operation-id']}"
            assert client.get(operation, params=V).json()["status"] == "notStarted"
            clock.post(CLOCK, json={"advanceSeconds": 1800})
            assert client.get(operation, params=V).json()["status"] == "running"
            clock.post(CLOCK, json={"advanceSeconds": 1800})
            assert client.get(operation, params=V).json()["status"] == "succeeded"
    finally:
        server.stop()


def test_clocks_in_one_process() -> None:
    local = Clock()
    local.advance(5)
    assert local.offset == 5
    shared = SharedClock()
    with pytest.raises(TypeError):
        shared.advance(5)  # a shared clock is moved through the store, for every process
    for bad in (-1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError):
            local.advance(bad)


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "postgres":
        url = postgres.create_database()
        yield url
        postgres.drop_database(url)
    else:
        yield str(tmp_path / "clock.db")


async def test_the_store_keeps_one_offset_for_every_process(store_url: str) -> None:
    first, second = await open_store(store_url, max_size=2), await open_store(store_url, max_size=2)
    try:
        assert await first.clock_offset() == 0
        # Concurrent moves from two "processes" add up: the update is atomic.
        await asyncio.gather(*(store.advance_clock(1.5) for store in (first, second) for _ in range(10)))
        assert await first.clock_offset() == await second.clock_offset() == 30
        with pytest.raises(ValueError):
            await first.advance_clock(-1)
        clock = SharedClock(second, max_age=0)
        await clock.sync()
        assert clock.offset == 30
        assert await clock.advance_shared(60) == 90
        assert await first.clock_offset() == 90
    finally:
        await first.close()
        await second.close()
