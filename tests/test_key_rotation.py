"""Two server processes on one database (a SQLite file, PostgreSQL): a resource created, or a key
rotated, through one of them (or the command line) is seen by every process within 5 seconds."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.conftest import server_data_dir, signed_client
from tests.support import postgres
from tests.support.acs import NEWEST, v
from tests.support.admin import ADMIN_TOKEN, admin_client
from tests.support.server import TEST_KEYS_SECRET, ServerProcess

SEEN_WITHIN = 5.0


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def pair(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
         development_ca: Any) -> Iterator[tuple[ServerProcess, ServerProcess, str]]:
    """Two servers (own data directories, own ports) on one database; and its URL."""
    if request.param == "postgres":
        database = postgres.create_database()
    else:
        database = str(tmp_path_factory.mktemp("shared-sqlite") / "numberpool.db")
    args = ("--database", database, "--inventory-size", "5", "--admin-token", ADMIN_TOKEN)
    a = ServerProcess(server_data_dir(tmp_path_factory, development_ca, "rotation-a"), *args).start()
    b = ServerProcess(server_data_dir(tmp_path_factory, development_ca, "rotation-b"), *args).start()
    try:
        yield a, b, database
    finally:
        a.stop()
        b.stop()
        if request.param == "postgres":
            postgres.drop_database(database)


def status(server: ServerProcess, key: str) -> int:
    with signed_client(server, key) as client:
        return client.get("/phoneNumbers", params=v(NEWEST)).status_code


def seen_within(condition: Callable[[], bool]) -> float:
    started = time.monotonic()
    while not condition():
        elapsed = time.monotonic() - started
        assert elapsed < SEEN_WITHIN, f"not seen within {SEEN_WITHIN} s"
        time.sleep(0.05)
    return time.monotonic() - started


def cli(database: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "numberpool", "resource", *args, "--database", database, "--json"],
        capture_output=True, text=True, timeout=60, env={**os.environ, "NUMBERPOOL_KEYS_SECRET": TEST_KEYS_SECRET},
    )


def test_a_resource_created_through_one_process_works_on_the_other(pair: tuple[ServerProcess, ServerProcess, str]) -> None:
    a, b, _ = pair
    with admin_client(a) as admin:
        key = admin.post("/resources", json={"id": "made-on-a"}).json()["primaryKey"]
    took = seen_within(lambda: status(b, key) == 200 and status(a, key) == 200)
    print(f"\ncreated on A, accepted by both in {took:.2f} s")


def test_a_key_rotated_through_one_process_is_refused_by_every_process(
    pair: tuple[ServerProcess, ServerProcess, str],
) -> None:
    a, b, _ = pair
    with admin_client(a) as admin:
        keys = admin.post("/resources", json={"id": "leaky"}).json()
    old, secondary = keys["primaryKey"], keys["secondaryKey"]
    seen_within(lambda: status(a, old) == 200 and status(b, old) == 200)
    with admin_client(b) as admin:
        new = admin.post("/resources/leaky/rotateKey", json={"key": "primary"}).json()["primaryKey"]
    took = seen_within(lambda: status(a, old) == 401 and status(b, old) == 401)
    print(f"\nrotated on B, old key refused by both in {took:.2f} s")
    for server in (a, b):
        assert status(server, new) == 200 and status(server, secondary) == 200


def test_a_key_rotated_from_the_command_line_is_refused_by_every_running_process(
    pair: tuple[ServerProcess, ServerProcess, str],
) -> None:
    a, b, database = pair
    created = cli(database, "create", "from-cli")
    assert created.returncode == 0, created.stderr
    keys = json.loads(created.stdout)
    seen_within(lambda: status(a, keys["secondaryKey"]) == 200 and status(b, keys["secondaryKey"]) == 200)
    rotated = cli(database, "rotate-key", "from-cli", "--key", "secondary")
    assert rotated.returncode == 0, rotated.stderr
    new = json.loads(rotated.stdout)["secondaryKey"]
    took = seen_within(lambda: status(a, keys["secondaryKey"]) == 401 and status(b, keys["secondaryKey"]) == 401)
    print(f"\nrotated by the command line, old key refused by both servers in {took:.2f} s")
    for server in (a, b):
        assert status(server, new) == 200 and status(server, keys["primaryKey"]) == 200
    deleted = cli(database, "delete", "from-cli")
    assert deleted.returncode == 0, deleted.stderr
    seen_within(lambda: status(a, new) == 401 and status(b, new) == 401)


def test_a_process_with_another_keys_secret_refuses_to_start(
    pair: tuple[ServerProcess, ServerProcess, str], tmp_path_factory: pytest.TempPathFactory, development_ca: Any,
) -> None:
    _, _, database = pair
    stranger = ServerProcess(server_data_dir(tmp_path_factory, development_ca, "rotation-c"),
                             "--database", database, "--inventory-size", "5", env={"NUMBERPOOL_KEYS_SECRET": None})
    with pytest.raises(RuntimeError) as failed:
        stranger.start()
    output = str(failed.value)
    assert "the keys secret is not the one this database's access keys were sealed with" in output
    assert "Traceback" not in output
    stranger.stop()  # reaps it: it has exited already
    assert stranger.returncode == 1
