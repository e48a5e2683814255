"""What the admin API's background inventory imports (core/import_jobs.py) need from storage.

Each engine implements `ImportJobStore` in its own module (`store/sqlite_import_jobs.py`,
`store/postgres_import_jobs.py`); `Store.import_jobs()` hands it out.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Protocol


class JobState(str, Enum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    INTERRUPTED = "interrupted"


@dataclass(frozen=True)
class JobProgress:
    bytes_read: int = 0
    rows: int = 0
    added: int = 0
    present: int = 0
    rejected: int = 0


@dataclass(frozen=True)
class ImportJob:
    id: str
    state: JobState
    name: str | None
    dry_run: bool
    header: str
    """The rejects file's header line: the input's columns plus `error`, as CSV."""
    bytes_total: int
    progress: JobProgress
    created_at: float
    heartbeat_at: float
    finished_at: float | None = None
    error_code: str | None = None
    error_message: str | None = None


@dataclass(frozen=True)
class JobUpdate:
    """One write of a running job: its counters, the rejected rows since the last one, and perhaps its end."""

    progress: JobProgress
    rejects: Sequence[str]
    first_seq: int
    """The sequence number of `rejects[0]` among the job's stored rejects."""
    at: float
    state: JobState = JobState.RUNNING
    error_code: str | None = None
    error_message: str | None = None


@dataclass(frozen=True)
class Staleness:
    """Running jobs whose heartbeat is older than `before` are interrupted, with this error message."""

    before: float
    message: str


class ImportJobStore(Protocol):
    """What import jobs need from storage; `Store.import_jobs()` hands it out."""

    async def create_job(self, job: ImportJob, forget_before: float) -> None:
        """Insert the job; forget (with their rejects) the jobs created before `forget_before`."""
        ...

    async def update_job(self, job_id: str, update: JobUpdate) -> bool:
        """Write a running job's update in one transaction; False (nothing written) if it is no longer running."""
        ...

    async def get_job(self, job_id: str, stale: Staleness) -> ImportJob | None:
        """The job, after marking every running job whose heartbeat is older than `stale.before` interrupted."""
        ...

    async def list_jobs(self, stale: Staleness, limit: int) -> list[ImportJob]:
        """The newest `limit` jobs, newest first (stale running jobs marked interrupted first)."""
        ...

    def rejects(self, job_id: str) -> AsyncIterator[list[str]]:
        """The job's rejects lines in order, a batch at a time."""
        ...
