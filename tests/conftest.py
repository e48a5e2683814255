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
from tests.support.server import ServerProcess

# A second tenant, declared on the command line, for isolation tests.
OTHER_RESOURCE = "tenant2"
OTHER_KEY = "c2Vjb25kLXRlbmFudC1wcmltYXJ5LWtleS1mb3ItdGVzdHMtb25seQ=="
OTHER_SECONDARY_KEY = "c2Vjb25kLXRlbmFudC1zZWNvbmRhcnkta2V5LWZvci10ZXN0cw=="
SPEC_ROOT = Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "acs-spec" / "PhoneNumbers"


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One HTTPS server for the session: 200 demo numbers per area code, two resources."""
    process = ServerProcess(
        tmp_path_factory.mktemp("numberpool"),
        "--inventory-size", "200",
        "--resource", f"{OTHER_RESOURCE}={OTHER_KEY},{OTHER_SECONDARY_KEY}",
    ).start()
    # The official SDKs find the development CA the way the server tells users to.
    os.environ["REQUESTS_CA_BUNDLE"] = str(process.ca)
    os.environ["SSL_CERT_FILE"] = str(process.ca)
    yield process
    process.stop()


@pytest.fixture()
def make_server(server: ServerProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., ServerProcess]]:
    """Start extra servers with their own flags; they share the session server's development CA."""
    started: list[ServerProcess] = []

    def start(*args: str) -> ServerProcess:
        data_dir = tmp_path_factory.mktemp("numberpool-extra")
        shutil.copytree(server.data_dir / "tls", data_dir / "tls")
        process = ServerProcess(data_dir, *args).start()
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
    return httpx.Client(base_url=server.endpoint, auth=HmacAuth(key), verify=ssl.create_default_context(cafile=str(server.ca)), timeout=30)


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
