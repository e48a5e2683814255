"""SIGTERM under load: the server stops accepting, finishes what is in flight, and exits 0.

Clients open a new connection per request (so a refusal can only happen at connect time),
and a few requests are still sending their bodies when the signal arrives: those must be
answered, not cut. Every long-running operation the server accepted (with an operation
latency, so they are `running` at the signal) reaches a final status, as a server started
afterwards on the same database reports.
"""

from __future__ import annotations

import signal
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest

from numberpool.core.resources import DEV_ACCESS_KEY
from tests.conftest import ENGINES, server_data_dir
from tests.support import postgres
from tests.support.acs import TERMINAL, US_TOLL_FREE
from tests.support.hmac_auth import HmacAuth, sign_headers
from tests.support.server import ServerProcess

V = "api-version=2025-06-01"
SEARCH_PATH = f"/availablePhoneNumbers/countries/US/:search?{V}"
SEARCH_BODY = httpx.Request("POST", "http://h/", json={**US_TOLL_FREE, "quantity": 1}).content
LATENCY = 1.0
LOAD_THREADS = 6
SLOW_REQUESTS = 3
SLOW_BODY_SECONDS = 1.5


@dataclass
class Outcomes:
    completed: list[tuple[int, float]] = field(default_factory=list)
    """(status, when the response arrived) of every request that was answered."""
    refused: int = 0
    cut: list[str] = field(default_factory=list)
    operations: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self, send) -> httpx.Response | None:  # type: ignore[no-untyped-def]
        try:
            response = send()
        except (httpx.ConnectError, httpx.ConnectTimeout):
            with self.lock:
                self.refused += 1
            return None
        except httpx.TransportError as exc:
            with self.lock:
                self.cut.append(f"{type(exc).__name__}: {exc}")
            return None
        with self.lock:
            self.completed.append((response.status_code, time.monotonic()))
            if response.status_code == 202:
                self.operations.append(response.headers["operation-id"])
        return response


def _client(server: ServerProcess) -> httpx.Client:
    return httpx.Client(
        base_url=server.endpoint, auth=HmacAuth(DEV_ACCESS_KEY), timeout=30,
        verify=ssl.create_default_context(cafile=str(server.ca)),
        limits=httpx.Limits(max_keepalive_connections=0),  # a new connection for every request
    )


def _load(server: ServerProcess, outcomes: Outcomes, stop: threading.Event) -> None:
    """Search and poll until the server refuses a connection."""
    with _client(server) as client:
        while not stop.is_set():
            started = outcomes.run(lambda: client.post(SEARCH_PATH, content=SEARCH_BODY,
                                                       headers={"Content-Type": "application/json"}))
            if started is None:
                return
            if started.status_code == 202 and outcomes.run(
                lambda: client.get(started.headers["operation-location"])
            ) is None:
                return


def _slow_search(server: ServerProcess, outcomes: Outcomes) -> None:
    """A search whose body takes SLOW_BODY_SECONDS to arrive: in flight when the signal comes."""
    host = f"127.0.0.1:{server.port}"

    def body() -> Iterator[bytes]:
        yield SEARCH_BODY[:10]
        time.sleep(SLOW_BODY_SECONDS)
        yield SEARCH_BODY[10:]

    headers = {**sign_headers("POST", SEARCH_PATH, host, SEARCH_BODY, DEV_ACCESS_KEY),
               "Content-Type": "application/json", "Content-Length": str(len(SEARCH_BODY))}
    with httpx.Client(verify=ssl.create_default_context(cafile=str(server.ca)), timeout=30) as client:
        outcomes.run(lambda: client.post(f"{server.endpoint}{SEARCH_PATH}", content=body(), headers=headers))


def _answering(server: ServerProcess) -> None:
    """Wait until the server answers (with --workers the ready line comes before the workers serve)."""
    deadline = time.monotonic() + 60
    with _client(server) as client:
        while True:
            try:
                if client.get(f"/availablePhoneNumbers/countries?{V}").status_code == 200:
                    return
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.1)


@pytest.fixture(params=[*ENGINES, "sqlite, 2 workers"])
def database(request: pytest.FixtureRequest, tmp_path) -> Iterator[tuple[str, int]]:
    """The database URL and the number of worker processes."""
    if request.param.startswith("sqlite"):
        yield str(tmp_path / "shutdown.db"), 2 if "workers" in request.param else 1
        return
    url = postgres.create_database()
    yield url, 1
    postgres.drop_database(url)


def test_sigterm_under_load_finishes_in_flight_requests_and_exits_0(
    database: tuple[str, int], tmp_path_factory: pytest.TempPathFactory, development_ca
) -> None:
    url, workers = database
    args = ("--database", url, "--inventory-size", "200", "--operation-latency", str(LATENCY),
            "--shutdown-timeout", "10", "--workers", str(workers))
    server = ServerProcess(server_data_dir(tmp_path_factory, development_ca, "shutdown"), *args).start()
    _answering(server)
    outcomes, stop = Outcomes(), threading.Event()
    threads = [threading.Thread(target=_load, args=(server, outcomes, stop)) for _ in range(LOAD_THREADS)]
    slow = [threading.Thread(target=_slow_search, args=(server, outcomes)) for _ in range(SLOW_REQUESTS)]
    try:
        for thread in threads + slow:
            thread.start()
        time.sleep(SLOW_BODY_SECONDS / 3)  # the slow searches have sent their headers, not their bodies
        signalled = time.monotonic()
        server._process.send_signal(signal.SIGTERM)  # type: ignore[union-attr]
        status = server._process.wait(30)  # type: ignore[union-attr]
        stopped = time.monotonic()
    finally:
        stop.set()
        for thread in threads + slow:
            thread.join(30)
        server.stop()

    output = "\n".join(server.output)
    assert status == 0, output
    assert "Traceback" not in output, output
    assert outcomes.cut == [], outcomes.cut  # every request was answered or refused at connect
    assert outcomes.refused >= LOAD_THREADS  # each load thread ran until the server stopped accepting
    assert all(code < 500 for code, _ in outcomes.completed), outcomes.completed
    # The slow searches were in flight at the signal and were answered before the process ended.
    finished_late = [code for code, when in outcomes.completed if signalled < when <= stopped + 0.5]
    assert finished_late.count(202) >= SLOW_REQUESTS, (finished_late, outcomes.completed[-10:])
    assert stopped - signalled >= SLOW_BODY_SECONDS * 2 / 3  # it did wait for them

    # No operation the server accepted is left running: a new server on the same database
    # reports each one final once its latency has passed.
    later = ServerProcess(server_data_dir(tmp_path_factory, development_ca, "after"), *args).start()
    try:
        _answering(later)
        with _client(later) as client:
            time.sleep(LATENCY)
            for operation_id in outcomes.operations:
                answer = client.get(f"/phoneNumbers/operations/{operation_id}?{V}")
                assert answer.status_code == 200, answer.text
                assert answer.json()["status"] in TERMINAL, answer.json()
    finally:
        later.stop()
    assert len(outcomes.operations) > SLOW_REQUESTS  # the load really ran
