"""Throw-away PostgreSQL databases for server-level tests.

The server is named by NUMBERPOOL_TEST_POSTGRES (default
postgresql://postgres@127.0.0.1:5432/postgres). Without a reachable server the
PostgreSQL half of the suite is skipped with the reason printed, except under CI
(env CI set), where it fails.
"""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

BASE_URL = os.environ.get("NUMBERPOOL_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


def _url_for(database: str) -> str:
    parts = urlsplit(BASE_URL)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, ""))


async def _admin(statement: str) -> None:
    connection = await asyncpg.connect(BASE_URL, timeout=5)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def _run(statement: str) -> None:
    """Run an admin statement; works from sync code and from inside a running event loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, _admin(statement)).result()


def require_postgres() -> None:
    """Skip (or, under CI, fail) when no PostgreSQL server answers."""
    try:
        _run("SELECT 1")
    except (OSError, asyncio.TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        reason = f"PostgreSQL not reachable at {urlsplit(BASE_URL).netloc} ({type(exc).__name__}: {exc})"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI is set, so the PostgreSQL engine must be tested", pytrace=False)
        print(f"\nskipping PostgreSQL tests: {reason}", file=sys.stderr)
        pytest.skip(reason)


def create_database() -> str:
    """A new empty database; its URL."""
    require_postgres()
    name = f"numberpool_test_{uuid.uuid4().hex[:12]}"
    _run(f'CREATE DATABASE "{name}"')
    return _url_for(name)


def drop_database(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    _run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
