"""The numberpool pytest plugin (entry point `pytest11`): `numberpool_server` and `numberpool`.

Loaded into every pytest run once numberpool is installed, so it only declares its options and
fixtures: nothing starts, and nothing beyond the standard library is imported, until a test
asks for a fixture.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from numberpool.testing.server import DEFAULT_INVENTORY_SIZE, NumberpoolServer


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("numberpool", "numberpool test server")
    group.addoption("--numberpool-database", default="memory", metavar="URL",
                    help="database of the numberpool test server: memory (default), a SQLite path or postgresql://")
    group.addoption("--numberpool-binary", default=None, metavar="COMMAND",
                    help="the numberpool command to test against (default: this Python's numberpool)")
    group.addoption("--numberpool-inventory-size", type=int, default=DEFAULT_INVENTORY_SIZE, metavar="N",
                    help=f"demo numbers per area code seeded into an empty database (default {DEFAULT_INVENTORY_SIZE})")


@pytest.fixture(scope="session")
def numberpool_server(pytestconfig: pytest.Config) -> Iterator[NumberpoolServer]:
    """`numberpool serve --testing` for the session: TLS, its CA trusted in this process."""
    server = NumberpoolServer(
        database=pytestconfig.getoption("numberpool_database"),
        binary=pytestconfig.getoption("numberpool_binary"),
        inventory_size=pytestconfig.getoption("numberpool_inventory_size"),
    )
    with server:
        yield server


@pytest.fixture()
def numberpool(numberpool_server: NumberpoolServer) -> NumberpoolServer:
    """The session's numberpool, reset: no holds, purchases, operations or fault rules; the clock at now."""
    numberpool_server.reset()
    return numberpool_server
