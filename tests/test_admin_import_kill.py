"""A server killed with SIGKILL in the middle of an admin API import (both engines): the job
shows `interrupted` to the next server on the same database once its heartbeat is stale, the
inventory is consistent, and the same file imported again adds exactly what is missing."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from numberpool.core.import_jobs import STALE_AFTER
from tests.conftest import ENGINES, server_data_dir
from tests.support import postgres
from tests.support.admin import ADMIN_TOKEN, admin_client
from tests.support.server import ServerProcess
from tests.support.stores import fetch, violations

FIRST, ROWS = 14_253_000_000, 200_000  # Redmond exchanges 300 to 319, in number order: dozens of batches
WAIT = STALE_AFTER + 300.0  # seconds: the bound on each wait below, far above what each takes


def _stored(url: str) -> int:
    sql = f"SELECT count(*) FROM numbers WHERE phone_number >= '+{FIRST}' AND phone_number < '+{FIRST + ROWS}'"
    return asyncio.run(fetch(url, sql))[0][0]


def _until(check: Any, what: str) -> Any:
    deadline = time.monotonic() + WAIT
    while not (result := check()):
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.1)
    return result


@pytest.mark.parametrize("engine", ENGINES)
def test_a_server_killed_mid_import_leaves_the_job_interrupted_and_the_store_consistent(
    engine: str, tmp_path_factory: pytest.TempPathFactory, development_ca: Any, tmp_path: Path
) -> None:
    data_dir = server_data_dir(tmp_path_factory, development_ca, f"numberpool-import-kill-{engine}")
    url = postgres.create_database() if engine == "postgres" else str(data_dir / "numberpool.db")
    flags = ("--inventory-size", "5", "--admin-token", ADMIN_TOKEN, *(("--database", url) if engine == "postgres" else ()))
    body = ("phoneNumber\n" + "".join(f"+{FIRST + i}\n" for i in range(ROWS))).encode()
    first = ServerProcess(data_dir, *flags, engine=engine).start()
    second = None
    try:
        with admin_client(first) as admin:
            started = admin.post("/inventory/imports", content=body, headers={"Content-Type": "text/csv"})
            assert started.status_code == 202, started.text
            job_path = f"/inventory/imports/{started.json()['id']}"
            # Killed once a batch is in and the job has said so, before the end of the file.
            job = _until(lambda: (j := admin.get(job_path).json())["imported"] > 0 and j, "the first batch")
            first.kill()
        assert job["state"] == "running" and job["bytesRead"] < job["bytesTotal"], job

        loaded = _stored(url)
        assert 0 < loaded < ROWS
        assert violations(url) == []

        second = ServerProcess(data_dir, *flags, engine=engine).start()
        with admin_client(second) as admin:
            shown = _until(lambda: (j := admin.get(job_path).json())["state"] != "running" and j, "the stale heartbeat")
            assert shown["state"] == "interrupted" and shown["error"]["code"] == "Interrupted", shown
            assert shown["imported"] <= loaded and "finishedAt" in shown
            assert admin.get("/inventory/imports").json()["value"][0]["state"] == "interrupted"

            again = admin.post("/inventory/imports", content=body, headers={"Content-Type": "text/csv"})
            resumed = _until(lambda: (j := admin.get(f"/inventory/imports/{again.json()['id']}").json())["state"]
                             != "running" and j, "the second import")
        assert resumed["state"] == "succeeded", resumed
        assert resumed["alreadyPresent"] == loaded
        assert resumed["imported"] + resumed["alreadyPresent"] + resumed["rejected"] == ROWS
        assert _stored(url) == ROWS - resumed["rejected"]
        assert violations(url) == []
    finally:
        for server in (first, second):
            if server is not None:
                server.stop()
        if engine == "postgres":
            postgres.drop_database(url)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_server_stopped_mid_import_marks_the_job_interrupted_at_once(
    engine: str, tmp_path_factory: pytest.TempPathFactory, development_ca: Any
) -> None:
    data_dir = server_data_dir(tmp_path_factory, development_ca, f"numberpool-import-stop-{engine}")
    url = postgres.create_database() if engine == "postgres" else str(data_dir / "numberpool.db")
    flags = ("--inventory-size", "5", "--admin-token", ADMIN_TOKEN, *(("--database", url) if engine == "postgres" else ()))
    body = ("phoneNumber\n" + "".join(f"+{FIRST + i}\n" for i in range(ROWS))).encode()
    server = ServerProcess(data_dir, *flags, engine=engine).start()
    try:
        with admin_client(server) as admin:
            started = admin.post("/inventory/imports", content=body, headers={"Content-Type": "text/csv"})
            job_id = started.json()["id"]
            _until(lambda: admin.get(f"/inventory/imports/{job_id}").json()["rowsRead"] > 0, "the first rows")
        server.stop()  # SIGTERM: the graceful shutdown
        assert not [line for line in server.output if "Traceback" in line], "\n".join(server.output[-50:])
        (state, code), = asyncio.run(fetch(url, f"SELECT state, error_code FROM import_jobs WHERE id = '{job_id}'"))
        if state != "succeeded":  # unless it finished before the signal came
            assert (state, code) == ("interrupted", "Interrupted")
        assert violations(url) == []
    finally:
        server.stop()
        if engine == "postgres":
            postgres.drop_database(url)
