"""SQLite group commit: transactions of one event-loop turn share a commit, and nobody is told too early."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from numberpool.store.sqlite_group_commit import GroupCommit

pytestmark = pytest.mark.asyncio


def connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA foreign_keys = ON")
    connection.execute("PRAGMA temp_store = MEMORY")
    return connection


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "group.db"
    with connect(path) as db:
        db.execute("CREATE TABLE parents (id INTEGER PRIMARY KEY)")
        db.execute(
            "CREATE TABLE rows (id INTEGER PRIMARY KEY, parent INTEGER"
            " REFERENCES parents (id) DEFERRABLE INITIALLY DEFERRED)"
        )
    return path


def committed_rows(path: Path) -> list[int]:
    """What another connection (another process) sees: only committed rows."""
    with sqlite3.connect(path) as other:
        return [row[0] for row in other.execute("SELECT id FROM rows ORDER BY id")]


def counting_commits(connection: sqlite3.Connection) -> list[str]:
    seen: list[str] = []
    connection.set_trace_callback(lambda sql: seen.append(sql) if sql == "COMMIT" else None)
    return seen


async def insert(commits: GroupCommit, row_id: int, parent: int | None = None, fail: bool = False) -> None:
    async with commits.transaction() as db:
        db.execute("INSERT INTO rows (id, parent) VALUES (?, ?)", (row_id, parent))
        if fail:
            raise LookupError(f"row {row_id} changed its mind")


async def test_one_turn_shares_one_commit_and_a_failure_undoes_only_itself(database: Path) -> None:
    connection = connect(database)
    commits = GroupCommit(connection)
    seen = counting_commits(connection)
    results = await asyncio.gather(
        insert(commits, 1), insert(commits, 2, fail=True), insert(commits, 3), return_exceptions=True
    )
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], LookupError)
    assert committed_rows(database) == [1, 3]
    assert seen == ["COMMIT"]
    connection.close()


async def test_nobody_returns_before_the_commit(database: Path) -> None:
    connection = connect(database)
    commits = GroupCommit(connection)
    seen_on_return: list[list[int]] = []

    async def insert_then_look(row_id: int) -> None:
        await insert(commits, row_id)
        seen_on_return.append(committed_rows(database))

    await asyncio.gather(*(insert_then_look(i) for i in range(1, 6)))
    assert all(rows == [1, 2, 3, 4, 5] for rows in seen_on_return)
    connection.close()


async def test_a_failed_commit_fails_every_transaction_of_the_batch(database: Path) -> None:
    connection = connect(database)
    commits = GroupCommit(connection)
    # The deferred foreign key is checked at COMMIT: row 2 names a parent that does not exist.
    results = await asyncio.gather(
        insert(commits, 1), insert(commits, 2, parent=99), insert(commits, 3), return_exceptions=True
    )
    assert all(isinstance(result, sqlite3.IntegrityError) for result in results)
    assert committed_rows(database) == []
    assert not connection.in_transaction
    await insert(commits, 4)  # the connection is usable again
    assert committed_rows(database) == [4]
    connection.close()


async def test_a_reader_commits_what_was_written_first(database: Path) -> None:
    connection = connect(database)
    commits = GroupCommit(connection)

    async def read() -> tuple[list[int], list[int]]:
        async with commits.quiet() as db:
            mine = [row[0] for row in db.execute("SELECT id FROM rows ORDER BY id")]
            return mine, committed_rows(database)

    _, (mine, everyone) = await asyncio.gather(insert(commits, 1), read())
    assert mine == everyone == [1]  # what the reader saw was already durable
    connection.close()


async def test_two_connections_in_one_process_do_not_wait_on_each_other(database: Path) -> None:
    first, second = connect(database), connect(database)
    first.execute("PRAGMA busy_timeout = 5000")
    second.execute("PRAGMA busy_timeout = 5000")
    one, two = GroupCommit(first), GroupCommit(second)
    # Each would otherwise wait (blocking the loop) for the write lock the other's open batch holds.
    await asyncio.wait_for(asyncio.gather(insert(one, 1), insert(two, 2), insert(one, 3)), timeout=2)
    assert committed_rows(database) == [1, 2, 3]
    first.close()
    second.close()
