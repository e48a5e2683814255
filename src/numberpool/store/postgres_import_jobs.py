"""The PostgreSQL side of the admin API's background imports (`core.import_job_store.ImportJobStore`)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg

from numberpool.core.import_job_store import ImportJob, JobUpdate, Staleness
from numberpool.store import import_job_rows as sql
from numberpool.store.rows import numbered

_INSERT, _FORGET_REJECTS, _FORGET, _UPDATE, _INSERT_REJECT, _MARK_STALE, _GET, _LIST, _REJECTS = (
    numbered(text) for text in (sql.INSERT, sql.FORGET_REJECTS, sql.FORGET, sql.UPDATE, sql.INSERT_REJECT,
                                    sql.MARK_STALE, sql.GET, sql.LIST, sql.REJECTS)
)


class PostgresImportJobs:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def create_job(self, job: ImportJob, forget_before: float) -> None:
        async with self._pool.acquire() as db, db.transaction():
            await db.execute(_FORGET_REJECTS, forget_before)
            await db.execute(_FORGET, forget_before)
            await db.execute(_INSERT, *sql.job_row(job))

    async def update_job(self, job_id: str, update: JobUpdate) -> bool:
        async with self._pool.acquire() as db, db.transaction():
            if await db.execute(_UPDATE, *sql.update_args(job_id, update)) != "UPDATE 1":
                return False
            await db.executemany(_INSERT_REJECT, sql.reject_rows(job_id, update))
        return True

    async def get_job(self, job_id: str, stale: Staleness) -> ImportJob | None:
        await self._pool.execute(_MARK_STALE, *sql.stale_args(stale))
        row = await self._pool.fetchrow(_GET, job_id)
        return None if row is None else sql.job_from_row(row)

    async def list_jobs(self, stale: Staleness, limit: int) -> list[ImportJob]:
        await self._pool.execute(_MARK_STALE, *sql.stale_args(stale))
        return [sql.job_from_row(row) for row in await self._pool.fetch(_LIST, limit)]

    async def rejects(self, job_id: str) -> AsyncIterator[list[str]]:
        after = -1
        while True:
            page = await self._pool.fetch(_REJECTS, job_id, after, sql.REJECTS_PAGE)
            if page:
                yield [row[1] for row in page]
                after = page[-1][0]
            if len(page) < sql.REJECTS_PAGE:
                return
