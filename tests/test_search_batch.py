"""SQLite batched searches (`store/sqlite_search_batch.py`): the searches of one event-loop turn are
written by a few statements in one commit, each gets what running them one by one would give, one
bad search fails alone, and a kill -9 in the middle of a batch loses only searches nobody was told of.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from numberpool.core import search
from numberpool.core.context import Context, Settings
from numberpool.core.model import AssignmentType, Capabilities, Direction, NumberType
from numberpool.core.seed import seed_demo
from numberpool.core.storage import Pick
from numberpool.store import open_store
from numberpool.store.sqlite import SqliteStore
from tests.support import postgres

pytestmark = pytest.mark.asyncio

GEO = NumberType.GEOGRAPHIC
CALLING = Capabilities(Direction.BOTH, Direction.NONE)


def request(area_code: str | None, quantity: int) -> search.SearchRequest:
    return search.SearchRequest(GEO, AssignmentType.APPLICATION, CALLING, area_code, quantity)


def traced(store: SqliteStore) -> list[str]:
    seen: list[str] = []
    store._db.set_trace_callback(seen.append)
    return seen


async def seeded(path: Path) -> SqliteStore:
    store = await open_store(str(path))
    assert isinstance(store, SqliteStore)
    await seed_demo(store, 40)
    return store


async def test_one_turn_of_searches_takes_one_pick_per_slice_and_one_commit(tmp_path: Path) -> None:
    store = await seeded(tmp_path / "batch.db")
    ctx = Context(store, Settings(hold_minutes=10.0))
    await search.start_search(ctx, "res", "US", request("425", 1))  # catalog cached: the turn below is searches only
    seen = traced(store)
    quantities = [1, 2, 3, 1, 2, 3, 1, 2]
    found = await asyncio.gather(
        *(search.start_search(ctx, "res", "US", request("425" if i % 2 else None, q)) for i, q in enumerate(quantities))
    )
    store._db.set_trace_callback(None)
    picks = [sql for sql in seen if sql.startswith("SELECT phone_number FROM numbers")]
    assert len(picks) == 2  # one per slice: 425, and the whole country
    assert seen.count("COMMIT") == 1
    assert not [sql for sql in seen if sql.startswith("SAVEPOINT")][1:]  # one savepoint for the batch, none each
    assert [len(s.phone_numbers) for s in found] == quantities
    numbers = [n for s in found for n in s.phone_numbers]
    assert len(set(numbers)) == len(numbers)  # overlapping slices never share a number
    async with store.read() as tx:
        for s in found:
            stored = await tx.get_search(s.id)
            assert stored is not None and stored.phone_numbers == s.phone_numbers and stored.status == "held"
            assert await tx.get_operation(f"search_{s.id}") is not None
            for number in s.phone_numbers:
                held = await tx.get_number(number)
                assert held is not None and held.holder == s.id
                assert [e.reference for e in await tx.history(number)] == [s.id]
    assert await store.violations() == []
    await store.close()


async def test_what_one_by_one_would_give_when_stock_runs_out(tmp_path: Path) -> None:
    store = await seeded(tmp_path / "short.db")
    ctx = Context(store, Settings(hold_minutes=10.0))
    async with store.read() as tx:
        stock = len(await tx.free_numbers("US", GEO, "425", "+1425", "+1426", 10_000, 0.0))
    first = await asyncio.gather(*(search.start_search(ctx, "res", "US", request("425", 1)) for _ in range(stock - 2)))
    assert all(len(s.phone_numbers) == 1 for s in first)
    last = await asyncio.gather(*(search.start_search(ctx, "res", "US", request("425", 3)) for _ in range(2)))
    assert [len(s.phone_numbers) for s in last] == [2, 0]  # the first takes what is left, in arrival order
    assert last[1].status == "failed" and last[1].error == "OutOfStock"
    async with store.read() as tx:
        failed = await tx.get_search(last[1].id)
        assert failed is not None and failed.status == "failed"
        operation = await tx.get_operation(f"search_{last[1].id}")
        assert operation is not None and operation.error_code == "OutOfStock"
    assert await store.violations() == []
    await store.close()


async def test_one_bad_search_fails_alone(tmp_path: Path) -> None:
    store = await seeded(tmp_path / "bad.db")
    ctx = Context(store, Settings(hold_minutes=10.0))
    taken = await search.start_search(ctx, "res", "US", request("425", 1))
    async with store.read() as tx:
        taken_operation = await tx.get_operation(f"search_{taken.id}")
    assert taken_operation is not None
    # A search whose id is already stored: its insert fails inside the batch's statements.
    again = Pick("US", GEO, "425", 1, ctx.clock.epoch(), taken.id, ctx.clock.epoch() + 600, "res")

    def never() -> tuple:
        raise AssertionError("it found a number")

    seen = traced(store)
    results = await asyncio.gather(
        search.start_search(ctx, "res", "US", request("425", 1)),
        store.hold_for_search(again, (taken, taken_operation), never),
        search.start_search(ctx, "res", "US", request(None, 2)),
        return_exceptions=True,
    )
    store._db.set_trace_callback(None)
    assert isinstance(results[1], sqlite3.IntegrityError)
    good = [results[0], results[2]]
    assert [len(s.phone_numbers) for s in good] == [1, 2]
    assert seen.count("ROLLBACK TO tx") >= 2  # the batch was undone, then the bad one alone
    async with store.read() as tx:
        for s in good:
            stored = await tx.get_search(s.id)
            assert stored is not None and stored.phone_numbers == s.phone_numbers
        for number in taken.phone_numbers:
            assert [e.reference for e in await tx.history(number)] == [taken.id]
    assert await store.violations() == []
    await store.close()


# ---------------------------------------------------------------- kill -9 in the middle of a batch

_CHILD = """
import asyncio, os, signal, sys
from numberpool.core import search
from numberpool.core.context import Context, Settings
from numberpool.core.model import AssignmentType, Capabilities, Direction, NumberType
from numberpool.store import open_store

async def main(path, kill_in_batch, kill_at):
    store = await open_store(path)
    ctx = Context(store, Settings(hold_minutes=10.0))
    request = search.SearchRequest(NumberType.GEOGRAPHIC, AssignmentType.APPLICATION,
                                   Capabilities(Direction.BOTH, Direction.NONE), None, 2)
    commits = 0

    def trace(sql):
        nonlocal commits
        if commits == kill_in_batch - 1 and sql.startswith(kill_at):
            print("killed", flush=True)
            os.kill(os.getpid(), signal.SIGKILL)
        commits += sql == "COMMIT"

    async def one():
        found = await search.start_search(ctx, "res", "US", request)
        print("answered", found.id, *found.phone_numbers, flush=True)

    await one()  # the catalog is read and cached: from here on, each turn is one batch of 8 searches
    store._db.set_trace_callback(trace)
    while True:
        await asyncio.gather(*(one() for _ in range(8)))

asyncio.run(main(sys.argv[1], int(sys.argv[2]), sys.argv[3]))
"""


@pytest.mark.parametrize("kill_at", [
    "INSERT INTO searches",  # the batch's numbers and events written, its searches not yet
    "COMMIT",  # every statement of the batch run, the commit not yet
])
async def test_kill_minus_nine_in_a_batch_loses_only_searches_never_answered(tmp_path: Path, kill_at: str) -> None:
    path = tmp_path / "killed.db"
    store = await seeded(path)
    await store.close()
    child = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path), "5", kill_at], capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    lines = child.stdout.splitlines()
    assert lines[-1] == "killed"
    answered = {line.split()[1]: line.split()[2:] for line in lines[:-1]}
    assert len(answered) == 1 + 4 * 8  # four batches committed and answered; the fifth was killed in its writes
    with sqlite3.connect(path) as db:
        searches = {row[0]: row[1] for row in db.execute("SELECT id, phone_numbers FROM searches")}
        operations = {row[0] for row in db.execute("SELECT id FROM operations")}
        holders = dict(db.execute("SELECT phone_number, holder FROM numbers WHERE state = 'held'").fetchall())
        held_events = db.execute("SELECT reference FROM number_events WHERE event = 'held'").fetchall()
    assert set(searches) == set(answered)  # every answered search is durable, and nothing of the killed batch is
    assert {f"search_{s}" for s in answered} <= operations
    assert sorted(holders.values()) == sorted(s for s, numbers in answered.items() for _ in numbers)
    assert all(holders[n] == s for s, numbers in answered.items() for n in numbers)
    assert len(held_events) == len(holders)
    reopened = await open_store(str(path))
    try:
        assert await reopened.violations() == []
    finally:
        await reopened.close()


async def test_one_bad_search_fails_alone_on_postgres(tmp_path: Path) -> None:
    """On PostgreSQL a turn's searches of one slice are one statement: it fails whole, then each runs alone."""
    url = postgres.create_database()
    store = await open_store(url)
    try:
        await seed_demo(store, 40)
        ctx = Context(store, Settings(hold_minutes=10.0))
        taken = await search.start_search(ctx, "res", "US", request("425", 1))
        async with store.read() as tx:
            taken_operation = await tx.get_operation(f"search_{taken.id}")
        assert taken_operation is not None
        again = Pick("US", GEO, "425", 1, ctx.clock.epoch(), taken.id, ctx.clock.epoch() + 600, "res")

        def never() -> tuple:
            raise AssertionError("it found a number")

        results = await asyncio.gather(
            search.start_search(ctx, "res", "US", request("425", 1)),
            store.hold_for_search(again, (taken, taken_operation), never),
            search.start_search(ctx, "res", "US", request("425", 2)),
            return_exceptions=True,
        )
        assert isinstance(results[1], asyncpg.UniqueViolationError)
        good = [results[0], results[2]]
        assert [len(s.phone_numbers) for s in good] == [1, 2]
        async with store.read() as tx:
            for s in good:
                stored = await tx.get_search(s.id)
                assert stored is not None and stored.phone_numbers == s.phone_numbers
            for number in taken.phone_numbers:
                assert [e.reference for e in await tx.history(number)] == [taken.id]
        assert await store.violations() == []
    finally:
        await store.close()
        postgres.drop_database(url)
