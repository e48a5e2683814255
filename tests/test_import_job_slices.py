"""An admin API import job shares the server with its requests (core/import_jobs.py), on both
engines: it loads `Store.background_load_batch` numbers per transaction, and the server's other
requests are answered between two loads, each seeing whole batches only."""

from __future__ import annotations

import asyncio
import tempfile

import pytest

from numberpool.core.catalog_admin import import_catalog
from numberpool.core.catalog_file import demo_catalog
from numberpool.core.import_job_store import JobState
from numberpool.core.import_jobs import get_job, start_import
from numberpool.core.model import NumberType
from numberpool.store import Store

pytestmark = pytest.mark.asyncio(loop_scope="session")

BATCHES = 6


def _spool(count: int) -> tuple[tempfile.SpooledTemporaryFile, int]:
    """A numbers file of `count` numbers of Redmond's 425 area code, 10,000 per exchange."""
    body = ("phoneNumber\n" + "".join(f"+1425{201 + n // 10_000}{n % 10_000:04d}\n" for n in range(count))).encode()
    spool = tempfile.TemporaryFile()
    spool.write(body)
    spool.flush()
    return spool, len(body)


async def test_requests_are_answered_between_the_loads_of_an_import_and_see_whole_batches(store: Store) -> None:
    await import_catalog(store, demo_catalog())
    batch = store.background_load_batch
    before = await store.inventory().available_count("US", NumberType.GEOGRAPHIC)
    spool, size = _spool(BATCHES * batch)
    job = await start_import(store, spool, size, dry_run=False, name="slices")

    seen: list[int] = []  # what each read found added, while the job ran
    while (await get_job(store, job.id)).state is JobState.RUNNING:  # type: ignore[union-attr]
        seen.append(await store.inventory().available_count("US", NumberType.GEOGRAPHIC) - before)
        await asyncio.sleep(0)

    done = await get_job(store, job.id)
    assert done is not None and done.state is JobState.SUCCEEDED, done
    assert done.progress.added == BATCHES * batch
    assert all(added % batch == 0 for added in seen), f"a read saw part of a batch: {sorted(set(seen))}"
    between = {added for added in seen if 0 < added < BATCHES * batch}
    assert len(between) >= BATCHES // 2, f"reads answered only at {sorted(set(seen))} of {BATCHES} batches"
    assert await store.violations() == []
