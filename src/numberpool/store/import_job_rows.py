"""The SQL of import jobs (core/import_job_store.py) that both engines share, with `?` marks
(the PostgreSQL engine numbers them), and the row to job mapping."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from numberpool.core.import_job_store import ImportJob, JobProgress, JobState, JobUpdate, Staleness

COLUMNS = ("id, state, name, dry_run, header, bytes_total, bytes_read, rows_read, added, present, rejected,"
           " created_at, heartbeat_at, finished_at, error_code, error_message")
INSERT = f"INSERT INTO import_jobs ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
FORGET_REJECTS = "DELETE FROM import_rejects WHERE job_id IN (SELECT id FROM import_jobs WHERE created_at < ?)"
FORGET = "DELETE FROM import_jobs WHERE created_at < ?"
UPDATE = (
    "UPDATE import_jobs SET state = ?, bytes_read = ?, rows_read = ?, added = ?, present = ?, rejected = ?,"
    " heartbeat_at = ?, finished_at = ?, error_code = ?, error_message = ? WHERE id = ? AND state = 'running'"
)
INSERT_REJECT = "INSERT INTO import_rejects (job_id, seq, line) VALUES (?, ?, ?)"
MARK_STALE = (
    "UPDATE import_jobs SET state = 'interrupted', finished_at = heartbeat_at, error_code = 'Interrupted',"
    " error_message = ? WHERE state = 'running' AND heartbeat_at < ?"
)
GET = f"SELECT {COLUMNS} FROM import_jobs WHERE id = ?"
LIST = f"SELECT {COLUMNS} FROM import_jobs ORDER BY created_at DESC, id DESC LIMIT ?"
REJECTS = "SELECT seq, line FROM import_rejects WHERE job_id = ? AND seq > ? ORDER BY seq LIMIT ?"
REJECTS_PAGE = 5_000


def job_row(job: ImportJob) -> tuple[Any, ...]:
    p = job.progress
    return (job.id, job.state.value, job.name, job.dry_run, job.header, job.bytes_total, p.bytes_read, p.rows, p.added,
            p.present, p.rejected, job.created_at, job.heartbeat_at, job.finished_at, job.error_code, job.error_message)


def update_args(job_id: str, update: JobUpdate) -> tuple[Any, ...]:
    p = update.progress
    finished = None if update.state is JobState.RUNNING else update.at
    return (update.state.value, p.bytes_read, p.rows, p.added, p.present, p.rejected, update.at, finished,
            update.error_code, update.error_message, job_id)


def reject_rows(job_id: str, update: JobUpdate) -> list[tuple[str, int, str]]:
    return [(job_id, update.first_seq + i, line) for i, line in enumerate(update.rejects)]


def stale_args(stale: Staleness) -> tuple[str, float]:
    return stale.message, stale.before


def job_from_row(row: Sequence[Any]) -> ImportJob:
    (id_, state, name, dry_run, header, total, read, rows, added, present, rejected, created, heartbeat, finished,
     code, message) = row
    return ImportJob(id_, JobState(state), name, bool(dry_run), header, int(total),
                     JobProgress(int(read), int(rows), int(added), int(present), int(rejected)),
                     created, heartbeat, finished, code, message)
