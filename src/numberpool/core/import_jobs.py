"""Inventory imports as background jobs (the admin API's `POST /inventory/imports`).

The upload is a numbers file as `numberpool inventory import` reads it, checked and loaded by
the same `NumberImport`, so the guarantees are the command's: each batch is loaded in a
transaction of its own, with its `imported` event, and loading skips numbers already stored.
The batches are the store's `background_load_batch` (small on SQLite, where every other request
waits for the load in hand), and the rows are checked in slices of YIELD_EVERY, so the server
goes on answering between two slices and two loads.
A job cut short (the process killed, the server stopped) leaves whole batches and their events
behind, never half of one, and the same file imported again adds exactly what is missing.

A job's state lives in the database because the next request about it may reach another
process. The process that runs a job writes its counters, the rejected rows so far and a
heartbeat every HEARTBEAT_EVERY seconds, a bounded number of writes whatever the file's size.
A reader that finds a running job without a heartbeat for STALE_AFTER seconds marks it
`interrupted`; should its process still be alive after all, it stops at its next heartbeat,
so a job never runs in one process while another reports it interrupted.
"""

from __future__ import annotations

import asyncio
import csv
import io
import logging
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import suppress
from pathlib import Path
from typing import BinaryIO

from numberpool.core.import_job_store import ImportJob, JobProgress, JobState, JobUpdate, Staleness
from numberpool.core.inventory_import import NumberImport, NumbersFileError, NumbersReader, Rejection
from numberpool.core.storage import Store

log = logging.getLogger("numberpool.imports")

HEARTBEAT_EVERY = 1.0
"""Seconds between two writes of a running job's progress (and heartbeat)."""
STALE_AFTER = 30.0
"""Seconds without a heartbeat after which a running job counts as interrupted (its process died)."""
INTERRUPTED_MESSAGE = (f"no heartbeat from the process running it for {STALE_AFTER:.0f} s: it stopped (the batches"
                       " loaded so far stay; import the file again to add the rest)")
YIELD_EVERY = 256
"""Rows checked between two turns given to the server's other requests (about a millisecond)."""
MAX_STORED_REJECTS = 100_000
"""Rejected rows kept for a job's rejects file; the count goes on beyond them."""
KEEP_SECONDS = 30 * 24 * 3600
"""Jobs are forgotten, with their rejects, a month after they started."""


_running: set[asyncio.Task[None]] = set()
"""This process's jobs (a reference keeps each task alive until it ends)."""


def csv_line(cells: Sequence[str]) -> str:
    """One row as the CLI's --rejects file writes it (csv module defaults, CRLF)."""
    text = io.StringIO()
    csv.writer(text).writerow(cells)
    return text.getvalue()


def _stale() -> Staleness:
    return Staleness(time.time() - STALE_AFTER, INTERRUPTED_MESSAGE)


async def get_job(store: Store, job_id: str) -> ImportJob | None:
    return await store.import_jobs().get_job(job_id, _stale())


async def list_jobs(store: Store, limit: int) -> list[ImportJob]:
    return await store.import_jobs().list_jobs(_stale(), limit)


async def start_import(store: Store, spool: BinaryIO, total: int, *, dry_run: bool, name: str | None) -> ImportJob:
    """Check the spooled file's header, record the job and run it in this process's background.

    Raises NumbersFileError (no job recorded) for a file that cannot be imported at all. The
    job owns `spool` from here on and closes it when it ends."""
    reader = NumbersReader(Path(name or "upload"), stream=spool)
    rows = reader.open()
    now = time.time()
    job = ImportJob(str(uuid.uuid4()), JobState.RUNNING, name, dry_run, csv_line([*reader.header, "error"]), total,
                    JobProgress(), now, now)
    await store.import_jobs().create_job(job, forget_before=now - KEEP_SECONDS)
    task = asyncio.create_task(_run(store, job, reader, rows))
    _running.add(task)
    task.add_done_callback(_running.discard)
    return job


async def stop_imports() -> None:
    """Stop this process's running imports (the server is stopping): each records itself interrupted."""
    running = list(_running)
    for task in running:
        task.cancel()
    await asyncio.gather(*running, return_exceptions=True)


async def _stop(work: asyncio.Task[object], imported: NumberImport) -> None:
    """Cancel the import and let a batch load in flight end (commit or roll back) before going on."""
    work.cancel()
    with suppress(Exception, asyncio.CancelledError):
        await work
    with suppress(Exception, asyncio.CancelledError):
        await imported.wait()


class _Recorder:
    """The rejected rows not yet written, and how many were written before them."""

    def __init__(self) -> None:
        self.pending: list[str] = []
        self.stored = 0

    def __call__(self, rejection: Rejection) -> None:
        if self.stored + len(self.pending) < MAX_STORED_REJECTS:
            self.pending.append(csv_line([*rejection.row, rejection.reason]))

    def take(self) -> tuple[list[str], int]:
        lines, first = self.pending, self.stored
        self.pending = []
        self.stored += len(lines)
        return lines, first


async def _run(store: Store, job: ImportJob, reader: NumbersReader, rows: Iterator[tuple[int, list[str]]]) -> None:
    jobs = store.import_jobs()
    rejects = _Recorder()
    imported: NumberImport | None = None
    work: asyncio.Task[object] | None = None

    def update(state: JobState = JobState.RUNNING, code: str | None = None, message: str | None = None) -> JobUpdate:
        summary = imported.summary if imported is not None else None
        progress = JobProgress(reader.bytes_read, summary.rows, summary.added, summary.present,
                               summary.rejected) if summary else JobProgress(reader.bytes_read)
        lines, first = rejects.take()
        return JobUpdate(progress, lines, first, time.time(), state, code, message)

    end = (JobState.FAILED, "InternalError", "the import stopped unexpectedly")
    try:
        imported = await NumberImport.start(store, dry_run=job.dry_run, on_reject=rejects,
                                            batch=store.background_load_batch, yield_every=YIELD_EVERY)
        work = asyncio.create_task(imported.run(reader.header, rows, lambda: reader.bytes_read))
        while True:
            done, _ = await asyncio.wait({work}, timeout=HEARTBEAT_EVERY)
            if done:
                break
            if not await jobs.update_job(job.id, update()):
                log.warning("import %s was marked interrupted by another process; stopping it", job.id)
                await _stop(work, imported)
                return
        work.result()
        end = (JobState.SUCCEEDED, None, None)
    except NumbersFileError as exc:  # the file turned out not to be CSV further on
        end = (JobState.FAILED, "InvalidInput", str(exc))
    except asyncio.CancelledError:
        if work is not None and imported is not None:
            await _stop(work, imported)
        end = (JobState.INTERRUPTED, "Interrupted", "the server stopped before the import ended")
        raise
    except Exception as exc:  # a database error: the batches committed so far stay
        log.warning("import %s failed: %s: %s", job.id, type(exc).__name__, exc)
        end = (JobState.FAILED, "InternalError", f"{type(exc).__name__}: {exc}")
    finally:
        reader.close()
        try:
            await jobs.update_job(job.id, update(*end))
        except Exception as exc:  # the store closed under it (shutdown): readers will see it interrupted
            log.warning("import %s: its end was not recorded (%s)", job.id, type(exc).__name__)
