"""`Store.find_operation`: the operation as committed, on both engines; on PostgreSQL the lookups of
one event-loop turn share one statement (store/postgres_operation_reads.py)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest

from numberpool.core.model import Operation, OperationStatus, OperationType
from numberpool.store import Store
from numberpool.store.postgres_operation_reads import OperationReads
from numberpool.store.rows import OPERATION_COLUMNS, operation_to_row

pytestmark = pytest.mark.asyncio(loop_scope="session")

T = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


def operation(n: int, resource: str = "contoso") -> Operation:
    return Operation(
        f"purchase_{n:08d}-0000-4000-8000-000000000000", resource, OperationType.PURCHASE,
        OperationStatus.FAILED if n % 2 else OperationStatus.SUCCEEDED, T, T + timedelta(seconds=n),
        error_code="BadRequest" if n % 2 else None, error_message="no" if n % 2 else None,
    )


async def test_concurrent_lookups_each_find_their_own_operation(store: Store) -> None:
    stored = [operation(n) for n in range(6)]
    async with store.transaction() as tx:
        for op in stored:
            await tx.insert_operation(op)
    wanted = [op.id for op in stored] + [stored[0].id, "purchase_99999999-0000-4000-8000-000000000000"]
    found = await asyncio.gather(*(store.find_operation(i) for i in wanted))
    assert found == [*stored, stored[0], None]
    assert await store.find_operation(stored[3].id) == stored[3]  # a turn of one


async def test_the_lookups_of_one_turn_are_one_fetch() -> None:
    fetched: list[list[str]] = []

    async def fetch_many(ids: list[str]) -> list[tuple[object, ...]]:
        fetched.append(ids)
        return [operation_to_row(op) for op in (operation(1), operation(2)) if op.id in ids]

    reads = OperationReads(fetch_many)
    ids = [operation(1).id, operation(2).id, operation(1).id, "search_unknown"]
    results = await asyncio.gather(*(reads.get(i) for i in ids))
    assert fetched == [[operation(1).id, operation(2).id, "search_unknown"]]
    assert [r.id if r else None for r in results] == [operation(1).id, operation(2).id, operation(1).id, None]
    await reads.get(operation(2).id)
    assert len(fetched) == 2  # the next turn is the next fetch


async def test_a_failed_fetch_fails_each_lookup_of_its_turn_and_not_the_next() -> None:
    calls = 0

    async def fetch_many(ids: list[str]) -> list[tuple[object, ...]]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionResetError("the database went away")
        return []

    reads = OperationReads(fetch_many)
    results = await asyncio.gather(reads.get("a"), reads.get("b"), return_exceptions=True)
    assert [type(r) for r in results] == [ConnectionResetError, ConnectionResetError]
    assert await reads.get("a") is None


@pytest.mark.parametrize("engine", ["sqlite"])
async def test_a_sqlite_lookup_commits_the_open_batch_before_it_reads(store: Store, url: str) -> None:
    """The lookup without `read()`'s lock (store/sqlite.py `find_operation`) still never reads a
    write before it is durable: the batch that holds it is committed first."""
    import sqlite3

    op = operation(7)
    _, committed = store._commits.write_now(lambda db: db.execute(  # type: ignore[attr-defined]
        f"INSERT INTO operations ({OPERATION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", operation_to_row(op)))
    assert not committed.done()
    assert await store.find_operation(op.id) == op
    assert committed.done() and committed.exception() is None
    with sqlite3.connect(url) as other:  # another process sees it
        assert other.execute("SELECT count(*) FROM operations WHERE id = ?", (op.id,)).fetchone() == (1,)


@pytest.mark.parametrize("engine", ["sqlite"])
async def test_a_sqlite_lookup_waits_for_a_transaction_between_its_statements(store: Store) -> None:
    op = operation(8)
    inside = asyncio.Event()
    finish = asyncio.Event()

    async def slow_insert() -> None:
        async with store.transaction() as tx:
            await tx.insert_operation(op)
            inside.set()
            await finish.wait()  # the connection is held, the insert not yet committed

    writer = asyncio.create_task(slow_insert())
    await inside.wait()
    lookup = asyncio.create_task(store.find_operation(op.id))
    await asyncio.sleep(0.01)
    assert not lookup.done()  # it waits for the connection instead of reading the uncommitted row
    finish.set()
    await writer
    assert await lookup == op
