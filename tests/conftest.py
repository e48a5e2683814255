"""Shared fixtures: a real numberpool server process, the official SDK, signed raw HTTP."""

from __future__ import annotations

import os
import shutil
import ssl
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from numberpool.core.resources import DEV_ACCESS_KEY
from tests.support.hmac_auth import HmacAuth
from numberpool.server.tls import development_tls
from tests.support.server import ServerProcess

# Store fixtures (engine, url, store, new_url, pg_database) for tests that run against both engines;
# the reference set's one skip reason (tests/support/reference.py).
pytest_plugins = ["tests.support.stores", "tests.support.reference"]

# A second tenant, declared on the command line, for isolation tests.
OTHER_RESOURCE = "tenant2"
OTHER_KEY = "c2Vjb25kLXRlbmFudC1wcmltYXJ5LWtleS1mb3ItdGVzdHMtb25seQ=="
OTHER_SECONDARY_KEY = "c2Vjb25kLXRlbmFudC1zZWNvbmRhcnkta2V5LWZvci10ZXN0cw=="
ENGINES = ("sqlite", "postgres")


@pytest.fixture(scope="session")
def development_ca(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One development CA for every server of the session, trusted the way the server tells users to."""
    tls = development_tls(tmp_path_factory.mktemp("tls-template")).ca.parent
    # The CA added to what the machine trusts, not in its place: subprocesses inherit these
    # variables, and pip (test_packaging) must still trust the package index (or its proxy).
    machine = [Path(p) for p in dict.fromkeys(os.environ.get(n) for n in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"))
               if p and Path(p).is_file()]
    bundle = tmp_path_factory.mktemp("trust") / "bundle.pem"
    bundle.write_text("\n".join([(tls / "ca.pem").read_text(), *(file.read_text() for file in machine)]))
    os.environ["REQUESTS_CA_BUNDLE"] = os.environ["SSL_CERT_FILE"] = str(bundle)
    return tls


@pytest.fixture(scope="session", autouse=True)
def _trust_before_any_client(development_ca: Path) -> None:
    """The trust variables are set before the first test: aiohttp reads them once, when the first
    async client imports it, so a test with a private server that ran first (test_faults) left
    every later async client unable to trust the session's servers."""


def server_data_dir(tmp_path_factory: pytest.TempPathFactory, development_ca: Path, name: str) -> Path:
    """A fresh data directory that already holds the session's development CA and certificate."""
    data_dir = tmp_path_factory.mktemp(name)
    shutil.copytree(development_ca, data_dir / "tls")
    return data_dir


@pytest.fixture(scope="session", params=ENGINES)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, development_ca: Path
) -> Iterator[ServerProcess]:
    """One HTTPS server per engine: 200 demo numbers per area code, two resources.

    Every test that uses it runs once on SQLite and once on PostgreSQL.
    """
    process = ServerProcess(
        server_data_dir(tmp_path_factory, development_ca, f"numberpool-{request.param}"),
        "--inventory-size", "200",
        "--resource", f"{OTHER_RESOURCE}={OTHER_KEY},{OTHER_SECONDARY_KEY}",
        engine=request.param,
    ).start()
    yield process
    process.stop()


@pytest.fixture()
def make_server(
    server: ServerProcess, tmp_path_factory: pytest.TempPathFactory, development_ca: Path
) -> Iterator[Callable[..., ServerProcess]]:
    """Start extra servers with their own flags; they share the session server's development CA."""
    started: list[ServerProcess] = []

    def start(*args: str) -> ServerProcess:
        data_dir = server_data_dir(tmp_path_factory, development_ca, "numberpool-extra")
        process = ServerProcess(data_dir, *args, engine=server.engine).start()
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


@pytest.fixture(scope="session")
def connection_string(server: ServerProcess) -> str:
    return server.connection_string


@pytest.fixture(scope="session")
def other_connection_string(server: ServerProcess) -> str:
    return f"endpoint={server.endpoint}/;accesskey={OTHER_KEY}"


def signed_client(server: ServerProcess, key: str = DEV_ACCESS_KEY) -> httpx.Client:
    """Signed raw HTTP whose every response is validated against its api-version's official schema."""
    from tests.support.validation import httpx_hooks  # imports this module: not at the top

    return httpx.Client(base_url=server.endpoint, auth=HmacAuth(key), verify=ssl.create_default_context(cafile=str(server.ca)),
                        timeout=30, event_hooks=httpx_hooks())


@pytest.fixture()
def http(server: ServerProcess) -> Iterator[httpx.Client]:
    """Raw HTTP, signed with the development key."""
    with signed_client(server) as client:
        yield client


@pytest.fixture()
def other_http(server: ServerProcess) -> Iterator[httpx.Client]:
    """Raw HTTP, signed with the second tenant's key."""
    with signed_client(server, OTHER_KEY) as client:
        yield client
