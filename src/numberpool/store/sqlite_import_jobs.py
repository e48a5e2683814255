"""The SQLite side of the admin API's background imports (`core.import_job_store.ImportJobStore`)."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator

from numberpool.core.import_job_store import ImportJob, JobUpdate, Staleness
from numberpool.store import import_job_rows as sql
from numberpool.store.sqlite_group_commit import GroupCommit


class SqliteImportJobs:
    def __init__(self, connection: sqlite3.Connection, commits: GroupCommit) -> None:
        self._db = connection
        self._commits = commits

    async def create_job(self, job: ImportJob, forget_before: float) -> None:
        async with self._commits.transaction():
            self._db.execute(sql.FORGET_REJECTS, (forget_before,))
            self._db.execute(sql.FORGET, (forget_before,))
            self._db.execute(sql.INSERT, sql.job_row(job))

    async def update_job(self, job_id: str, update: JobUpdate) -> bool:
        async with self._commits.transaction():
            if self._db.execute(sql.UPDATE, sql.update_args(job_id, update)).rowcount != 1:
                return False
            self._db.executemany(sql.INSERT_REJECT, sql.reject_rows(job_id, update))
        return True

    async def get_job(self, job_id: str, stale: Staleness) -> ImportJob | None:
        await self._mark_stale(stale)
        async with self._commits.quiet():
            row = self._db.execute(sql.GET, (job_id,)).fetchone()
        return None if row is None else sql.job_from_row(row)

    async def list_jobs(self, stale: Staleness, limit: int) -> list[ImportJob]:
        await self._mark_stale(stale)
        async with self._commits.quiet():
            return [sql.job_from_row(row) for row in self._db.execute(sql.LIST, (limit,))]

    async def rejects(self, job_id: str) -> AsyncIterator[list[str]]:
        after = -1
        while True:
            async with self._commits.quiet():
                page = self._db.execute(sql.REJECTS, (job_id, after, sql.REJECTS_PAGE)).fetchall()
            if page:
                yield [line for _, line in page]
                after = page[-1][0]
            if len(page) < sql.REJECTS_PAGE:
                return

    async def _mark_stale(self, stale: Staleness) -> None:
        async with self._commits.quiet():  # a probe of the partial index first: no write lock when none is stale
            found = self._db.execute("SELECT 1 FROM import_jobs WHERE state = 'running' AND heartbeat_at < ? LIMIT 1",
                                     (stale.before,)).fetchone()
        if found:
            async with self._commits.transaction():
                self._db.execute(sql.MARK_STALE, sql.stale_args(stale))
