"""Two server processes, one database: racing clients, kill -9, restart — and the invariant holds.

Runs on both engines: PostgreSQL (the scale-out engine) and SQLite (two processes
on one WAL-mode file), and on PostgreSQL through a real PgBouncer in transaction mode
(`?statement_cache_size=0`, docs/scaling.md), whose few server connections the two
processes' pools share transaction by transaction.
"""

from __future__ import annotations

import asyncio
import random
import shutil
import ssl
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from numberpool.core.resources import DEV_ACCESS_KEY
from numberpool.store import open_store
from tests.conftest import OTHER_KEY, OTHER_RESOURCE
from tests.support import postgres
from tests.support.hmac_auth import HmacAuth
from tests.support.pgbouncer import PgBouncer
from tests.support.server import ServerProcess

from numberpool.core.model import NumberType

V = "api-version=2025-06-01"
SEARCH_TYPE = NumberType.GEOGRAPHIC
POOL = 200  # numbers in area code 425
CLIENTS = 64
SEARCH = {"phoneNumberType": "geographic", "assignmentType": "application", "areaCode": "425",
          "capabilities": {"calling": "inbound+outbound", "sms": "none"}}
KEYS = {"devresource": DEV_ACCESS_KEY, OTHER_RESOURCE: OTHER_KEY}


@dataclass
class Ledger:
    """What the clients were told."""

    operations: list[str] = field(default_factory=list)
    owned: dict[str, set[str]] = field(default_factory=lambda: {r: set() for r in KEYS})
    in_doubt: set[str] = field(default_factory=set)
    """Numbers whose purchase or release was in flight when a node died: either answer is right."""
    statuses: Counter = field(default_factory=Counter)
    unexpected: list[str] = field(default_factory=list)


@dataclass
class Cluster:
    database: str
    servers: list[ServerProcess]
    data_dirs: list[Path]
    ca: Path
    args: tuple[str, ...]

    def restart(self, index: int) -> ServerProcess:
        old = self.servers[index]
        old.kill()
        self.servers[index] = ServerProcess(self.data_dirs[index], *self.args, port=old.port).start()
        return self.servers[index]

    def stop(self) -> None:
        for server in self.servers:
            server.stop()


@pytest.fixture(params=["sqlite", "postgres", "pgbouncer"])
def cluster(request, development_ca, tmp_path):
    bouncer = None
    if request.param == "pgbouncer":
        bouncer = PgBouncer().start()
        request.addfinalizer(bouncer.stop)
    if request.param in ("postgres", "pgbouncer"):
        direct = postgres.create_database()
        database = bouncer.url(direct) if bouncer else direct
    else:
        database = str(tmp_path / "shared.db")
    args = ("--database", database, "--inventory-size", str(POOL), "--hold-minutes", "0.05",
            "--sweep-seconds", "1", "--resource", f"{OTHER_RESOURCE}={OTHER_KEY}")
    data_dirs = [tmp_path / "a", tmp_path / "b"]
    for data_dir in data_dirs:
        shutil.copytree(development_ca, data_dir / "tls")
    servers = [ServerProcess(data_dirs[0], *args).start()]
    try:
        servers.append(ServerProcess(data_dirs[1], *args).start())  # the database is seeded by now
    except BaseException:  # nothing left running or stored when the second one cannot start
        servers[0].stop()
        if request.param in ("postgres", "pgbouncer"):
            postgres.drop_database(direct)
        raise
    nodes = Cluster(database, servers, data_dirs, development_ca / "ca.pem", args)
    yield nodes
    nodes.stop()
    if bouncer:
        bouncer.stop()  # its server connections would keep the database from being dropped
    if request.param in ("postgres", "pgbouncer"):
        postgres.drop_database(direct)


def _client(cluster: Cluster, index: int, resource: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=cluster.servers[index].endpoint,
        auth=HmacAuth(KEYS[resource]),
        verify=ssl.create_default_context(cafile=str(cluster.ca)),
        timeout=30,
    )


async def _one_client(cluster: Cluster, number: int, deadline: float, ledger: Ledger) -> None:
    rng = random.Random(number)
    resource = list(KEYS)[number % 2]
    node = (number // 2) % 2
    client = _client(cluster, node, resource)
    mine: set[str] = set()  # what this client bought and has not released
    try:
        while time.monotonic() < deadline:
            try:
                await _one_round(client, rng, mine, ledger)
            except httpx.TransportError:
                # The node was killed: go on with the other one, as a load balancer would.
                await client.aclose()
                node = 1 - node
                client = _client(cluster, node, resource)
                await asyncio.sleep(0.05)
    finally:
        await client.aclose()
        ledger.owned[resource] |= mine


async def _one_round(client: httpx.AsyncClient, rng: random.Random, mine: set[str], ledger: Ledger) -> None:
    def expect(response: httpx.Response, *codes: int) -> bool:
        ledger.statuses[response.status_code] += 1
        if response.status_code not in codes:
            ledger.unexpected.append(f"{response.request.method} {response.request.url.path}: "
                                     f"{response.status_code} {response.text[:200]}")
            return False
        return True

    started = await client.post(f"/availablePhoneNumbers/countries/US/:search?{V}",
                                json={**SEARCH, "quantity": rng.randint(1, 3)})
    if not expect(started, 202):
        return
    ledger.operations.append(started.headers["operation-id"])
    result = await client.get(f"/availablePhoneNumbers/searchResults/{started.headers['search-id']}?{V}")
    if not expect(result, 200):
        return
    numbers = result.json()["phoneNumbers"]
    roll = rng.random()
    if numbers and roll < 0.5:
        ledger.in_doubt.update(numbers)
        bought = await client.post(f"/availablePhoneNumbers/:purchase?{V}",
                                   json={"searchId": started.headers["search-id"]})
        if expect(bought, 202):
            ledger.operations.append(bought.headers["operation-id"])
            outcome = await client.get(f"/phoneNumbers/operations/{bought.headers['operation-id']}?{V}")
            if expect(outcome, 200) and outcome.json()["status"] == "succeeded":
                mine.update(numbers)
        ledger.in_doubt.difference_update(numbers)
    elif numbers and roll < 0.75:
        expect(await client.delete(f"/phoneNumbers/operations/{started.headers['operation-id']}?{V}"), 204)
    if mine and rng.random() < 0.3:
        number = sorted(mine)[rng.randrange(len(mine))]
        mine.discard(number)
        ledger.in_doubt.add(number)
        released = await client.delete(f"/phoneNumbers/{number}?{V}")
        if expect(released, 202):
            ledger.operations.append(released.headers["operation-id"])
        else:
            mine.add(number)
        ledger.in_doubt.discard(number)


async def _run_load(cluster: Cluster, seconds: float, *, kill_after: float | None = None) -> Ledger:
    ledger = Ledger()
    deadline = time.monotonic() + seconds
    clients = [asyncio.create_task(_one_client(cluster, n, deadline, ledger)) for n in range(CLIENTS)]
    if kill_after is not None:
        await asyncio.sleep(kill_after)
        cluster.servers[0].kill()
        await asyncio.sleep(1.0)  # node A stays down while the load goes on
        await asyncio.to_thread(cluster.restart, 0)
    await asyncio.gather(*clients)
    return ledger


async def _assert_consistent(cluster: Cluster, ledger: Ledger) -> None:
    assert ledger.unexpected == []
    assert all(code < 500 for code in ledger.statuses)
    assert ledger.statuses[202] > 50  # the load really ran

    store = await open_store(cluster.database)
    try:
        assert await store.violations() == []
    finally:
        await store.close()

    # Every number a client was told it bought (and did not release) is its own, on both nodes.
    for resource, owned in ledger.owned.items():
        for index in (0, 1):
            async with _client(cluster, index, resource) as client:
                listed = (await client.get(f"/phoneNumbers?top=1000&{V}")).json()["phoneNumbers"]
            assert {n["phoneNumber"] for n in listed} - ledger.in_doubt == owned - ledger.in_doubt

    # Every operation answered with 202 is pollable from either node, with the same final answer.
    sample = ledger.operations[:: max(1, len(ledger.operations) // 150)]
    clients = {r: [_client(cluster, i, r) for i in (0, 1)] for r in KEYS}
    try:
        for operation_id in sample:
            answers = []
            for resource in KEYS:
                for client in clients[resource]:
                    response = await client.get(f"/phoneNumbers/operations/{operation_id}?{V}")
                    if response.status_code == 200:
                        answers.append(response.json())
            assert len(answers) in (0, 2), operation_id  # one owner sees it on both nodes (0: cancelled)
            if answers:
                assert answers[0] == answers[1]
                assert answers[0]["status"] in ("succeeded", "failed")
    finally:
        for pair in clients.values():
            for client in pair:
                await client.aclose()


async def test_two_nodes_share_one_inventory_under_racing_clients(cluster):
    ledger = await _run_load(cluster, seconds=6)
    await _assert_consistent(cluster, ledger)


async def test_kill_minus_nine_loses_nothing(cluster):
    ledger = await _run_load(cluster, seconds=7, kill_after=2.0)
    await _assert_consistent(cluster, ledger)
    # Held numbers come back once their (3 s) holds lapse: everything not owned is free again.
    await asyncio.sleep(3.5)
    store = await open_store(cluster.database)
    try:
        async with store.read() as tx:
            free = await tx.free_numbers("US", SEARCH_TYPE, "425", "+", "~", POOL, time.time())
    finally:
        await store.close()
    async with _client(cluster, 1, "devresource") as dev, _client(cluster, 1, OTHER_RESOURCE) as other:
        owned = [n for c in (dev, other) for n in (await c.get(f"/phoneNumbers?top=1000&{V}")).json()["phoneNumbers"]]
    assert len(ledger.in_doubt) < CLIENTS
    assert len(free) + len(owned) == POOL
