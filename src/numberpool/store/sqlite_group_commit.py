"""Group commit: the write transactions of one turn of the event loop share one SQLite commit.

A commit writes every page the transaction touched to the WAL, which costs more than
the statements of a search. Under load many requests arrive in the same turn of the
event loop, so each transaction here is a savepoint inside one open `BEGIN IMMEDIATE`
transaction, and the commit runs once, after every request of that turn has written.
No caller returns before the commit that holds its writes: a client is told of a
change only once it is durable, and a commit that fails fails every transaction in
it. A transaction that raises is rolled back to its savepoint alone.

Readers and the connection's other users take `quiet()`, which commits first, so
nothing ever reads writes that are not yet committed. `write_now` joins the open batch
without waiting, for writers that run all their statements at once (the batched searches
of `sqlite_search_batch.py`, one savepoint for a whole turn of searches).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

T = TypeVar("T")


# Batches open in this process. Before a connection begins a batch it commits the others:
# its BEGIN IMMEDIATE would otherwise wait for their write lock, blocking the event loop
# that alone can commit them (two stores of one database in one process, as in tests).
_open_batches: set[GroupCommit] = set()


class GroupCommit:
    def __init__(self, connection: sqlite3.Connection) -> None:
        self._db = connection
        self._lock = asyncio.Lock()
        self._batch: asyncio.Future[None] | None = None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[sqlite3.Connection]:
        """Exclusive use of the connection for one transaction; returns once it is committed."""
        async with self._lock:
            batch = self._batch or self._begin()
            self._db.execute("SAVEPOINT tx")
            try:
                yield self._db
            except BaseException:
                self._undo()
                raise
            self._db.execute("RELEASE tx")
        await asyncio.shield(batch)

    @asynccontextmanager
    async def quiet(self) -> AsyncIterator[sqlite3.Connection]:
        """Exclusive use of the connection with nothing uncommitted on it."""
        async with self._lock:
            self.commit()
            yield self._db

    def busy(self) -> bool:
        """Whether a transaction or reader holds the connection (between its statements)."""
        return self._lock.locked()

    def write_now(self, write: Callable[[sqlite3.Connection], T]) -> tuple[T, asyncio.Future[None]]:
        """Run `write` (statements only, no await) in the open batch, as one savepoint; call only when not `busy()`.

        Returns its result and the batch's commit, which the caller awaits before telling anyone.
        If `write` raises, its statements are undone and the exception propagates."""
        batch = self._batch or self._begin()
        self._db.execute("SAVEPOINT tx")
        try:
            result = write(self._db)
        except BaseException:
            self._undo()
            raise
        self._db.execute("RELEASE tx")
        return result, batch

    def commit(self) -> None:
        """Commit the open batch now, if there is one (callers hold the lock, or are closing)."""
        batch, self._batch = self._batch, None
        if batch is None:
            return
        _open_batches.discard(self)
        try:
            self._db.execute("COMMIT")
        except sqlite3.Error as error:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            if not batch.done():
                batch.set_exception(error)
            return
        if not batch.done():
            batch.set_result(None)

    def _begin(self) -> asyncio.Future[None]:
        for other in list(_open_batches):
            if not other._lock.locked():
                other.commit()
        self._db.execute("BEGIN IMMEDIATE")
        _open_batches.add(self)
        loop = asyncio.get_running_loop()
        self._batch = batch = loop.create_future()
        # Every request task already scheduled in this turn runs (and joins the batch) first.
        loop.call_soon(self._commit_when_free, batch)
        return batch

    def _commit_when_free(self, batch: asyncio.Future[None]) -> None:
        if self._batch is not batch:
            return  # a reader or the store's closing committed it already
        if self._lock.locked():  # a transaction is between statements: commit after it
            asyncio.get_running_loop().call_soon(self._commit_when_free, batch)
            return
        self.commit()

    def _undo(self) -> None:
        try:
            self._db.execute("ROLLBACK TO tx")
            self._db.execute("RELEASE tx")
        except sqlite3.Error as lost:
            # SQLite rolled the whole transaction back itself (a full disk, an I/O error):
            # every transaction of the batch is lost, and each of them is told so.
            batch, self._batch = self._batch, None
            _open_batches.discard(self)
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            if batch is not None and not batch.done():
                batch.set_exception(lost)
