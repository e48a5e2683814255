"""Store fixtures for tests that run against every engine: SQLite and PostgreSQL.

SQLite runs on a file in a temporary folder. PostgreSQL runs in a database created
per test module (and dropped at its end) on the server named by
NUMBERPOOL_TEST_POSTGRES (default postgresql://postgres@127.0.0.1:5432/postgres);
each test gets its own schema there. Without a reachable server the PostgreSQL
cases are skipped with the reason, except under CI (env CI set), where they fail.
Registered for every test module through `pytest_plugins` in tests/conftest.py.
"""

from __future__ import annotations

import asyncio
import os
import re
import sqlite3
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
import pytest_asyncio

from numberpool.core.timeutil import Clock
from numberpool.store import Store, open_store

T = TypeVar("T")

ENGINES = ("sqlite", "postgres")
POSTGRES_BASE_URL = os.environ.get("NUMBERPOOL_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
T0 = 1_700_000_000.125  # a frozen clock's start: times must round-trip exactly


class FrozenClock(Clock):
    """Time stands still unless a test moves it, so both engines see the same instants."""

    def epoch(self) -> float:
        return T0 + self.offset


# --- PostgreSQL database for this module ------------------------------------------------


def _with_database(url: str, database: str, **query: str) -> str:
    parts = urlsplit(url)
    extra = "&".join(f"{k}={v}" for k, v in query.items())
    merged = "&".join(q for q in (parts.query, extra) if q)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, merged, ""))


def _redacted(url: str) -> str:
    parts = urlsplit(url)
    netloc = re.sub(r":[^@/]*@", ":***@", parts.netloc)
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def pg_database() -> AsyncIterator[str]:
    """A fresh database `numberpool_test_<random>` for this module; its URL."""
    try:
        admin = await asyncpg.connect(POSTGRES_BASE_URL, timeout=5)
    except (OSError, asyncio.TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        reason = f"PostgreSQL not reachable at {_redacted(POSTGRES_BASE_URL)} ({type(exc).__name__}: {exc})"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI is set, so the PostgreSQL engine must be tested")
        print(f"\nskipping PostgreSQL engine tests: {reason}", file=sys.stderr)
        pytest.skip(reason)
    name = f"numberpool_test_{uuid.uuid4().hex[:12]}"
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield _with_database(POSTGRES_BASE_URL, name)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def _fresh_postgres_url(database_url: str) -> str:
    """A new, empty schema in the module's database; the URL that selects it."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    db = await asyncpg.connect(database_url)
    try:
        await db.execute(f'CREATE SCHEMA "{schema}"')
    finally:
        await db.close()
    return _with_database(database_url, urlsplit(database_url).path.lstrip("/"), search_path=schema)


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture()
def new_url(request: pytest.FixtureRequest, tmp_path) -> Callable[[str], Awaitable[str]]:
    """`await new_url(engine)`: the URL of a new, empty database of that engine.

    A test parametrised by `engine` uses that engine; any other test uses both.
    """
    engines = (request.getfixturevalue("engine"),) if "engine" in request.fixturenames else ENGINES
    pg_database = request.getfixturevalue("pg_database") if "postgres" in engines else None
    count = 0

    async def make(engine: str) -> str:
        nonlocal count
        count += 1
        if engine == "sqlite":
            return str(tmp_path / f"numberpool-{count}.db")
        assert pg_database is not None
        return await _fresh_postgres_url(pg_database)

    return make


@pytest_asyncio.fixture(loop_scope="session")
async def url(engine: str, new_url) -> str:
    return await new_url(engine)


@pytest_asyncio.fixture(loop_scope="session")
async def store(url: str) -> AsyncIterator[Store]:
    opened = await open_store(url)
    yield opened
    await opened.close()


def on_store(url: str, work: Callable[[Store], Awaitable[T]]) -> T:
    """`work` done on a store of its own on `url`, from synchronous test code (beside a server process)."""

    async def run() -> T:
        store = await open_store(url, max_size=1)
        try:
            return await work(store)
        finally:
            await store.close()

    return asyncio.run(run())


def violations(url: str) -> list[tuple[str, str]]:
    """The inventory invariant's breaches in the database behind `url` (none: [])."""
    return on_store(url, lambda store: store.violations())


def demo_database_with_aging(url: str, aging_days: int) -> str:
    """`url` with the demo inventory (4 numbers per area code) whose offerings age released numbers."""
    from numberpool.core.seed import SeedPlan, ensure_demo_inventory

    on_store(url, lambda store: ensure_demo_inventory(store, SeedPlan(4, resuming=False)))
    asyncio.run(fetch(url, f"UPDATE offerings SET aging_days = {aging_days}"))
    return url


async def fetch(url: str, sql: str) -> list[tuple[Any, ...]]:
    """Rows of `sql` read straight from the database behind `url`, bypassing the store."""
    if url.startswith(("postgresql://", "postgres://")):
        db = await asyncpg.connect(url)
        try:
            return [tuple(row) for row in await db.fetch(sql)]
        finally:
            await db.close()
    db = sqlite3.connect(url)
    try:
        with db:
            return db.execute(sql).fetchall()
    finally:
        db.close()
