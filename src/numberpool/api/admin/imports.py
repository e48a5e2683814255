"""Admin routes for inventory imports run as background jobs (core/import_jobs.py).

`POST /inventory/imports` spools the CSV body to an unnamed temporary file (gone when the job
ends or the process dies), at most MAX_UPLOAD_BYTES, checks its header, and answers 202 with the
job while the rows are checked and loaded in the background of this process. Any process
answers the job's state and its rejects: both live in the database.
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from typing import Any

from starlette.responses import StreamingResponse

from numberpool.api.admin.routing import PREFIX, AdminRequest, AdminRoute, QueryParam, Reply
from numberpool.api.admin.schemas import TIMESTAMP
from numberpool.core.context import Context
from numberpool.core.errors import invalid_input, not_found
from numberpool.core.import_job_store import ImportJob, JobState
from numberpool.core.import_jobs import get_job, list_jobs, start_import
from numberpool.core.inventory_import import NumbersFileError
from numberpool.core.timeutil import from_epoch

MAX_UPLOAD_BYTES = 1024**3
"""The largest numbers file one request may upload (1 GiB: some 80 million bare numbers)."""
DEFAULT_LIST = 20
MAX_LIST = 100

_COUNT: dict[str, Any] = {"type": "integer", "minimum": 0}
JOB_ID: dict[str, Any] = {"type": "string", "pattern": "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"}
JOB: dict[str, Any] = {
    "type": "object",
    "required": ["id", "state", "dryRun", "bytesTotal", "bytesRead", "rowsRead", "imported", "alreadyPresent",
                 "rejected", "startedAt", "lastHeartbeatAt"],
    "additionalProperties": False,
    "properties": {
        "id": JOB_ID,
        "state": {"enum": [s.value for s in JobState],
                  "description": "interrupted: its process stopped before the end (the batches loaded so far stay)"},
        "name": {"type": "string", "description": "the name given with the upload"},
        "dryRun": {"type": "boolean", "description": "checked and counted only: nothing was changed"},
        "bytesTotal": {**_COUNT, "description": "the uploaded file's size"},
        "bytesRead": {**_COUNT, "description": "how far the import has read (bytesRead / bytesTotal: its progress)"},
        "rowsRead": _COUNT,
        "imported": {**_COUNT, "description": "numbers added (dry run: would be added)"},
        "alreadyPresent": {**_COUNT, "description": "numbers already stored, in any state: left as they were"},
        "rejected": {**_COUNT, "description": "rows rejected: the rejects file has the first 100,000 of them"},
        "startedAt": TIMESTAMP,
        "lastHeartbeatAt": {**TIMESTAMP, "description": "the last time the counters were written"},
        "finishedAt": TIMESTAMP,
        "error": {
            "type": "object", "required": ["code", "message"], "additionalProperties": False,
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
            "description": "why a failed or interrupted job stopped",
        },
    },
}
JOB_LIST: dict[str, Any] = {
    "type": "object", "required": ["value"], "additionalProperties": False,
    "properties": {"value": {"type": "array", "items": JOB, "description": "newest first"}},
}


def job_json(job: ImportJob) -> dict[str, Any]:
    progress = job.progress
    body: dict[str, Any] = {
        "id": job.id, "state": job.state.value, "dryRun": job.dry_run, "bytesTotal": job.bytes_total,
        "bytesRead": min(progress.bytes_read, job.bytes_total), "rowsRead": progress.rows,
        "imported": progress.added, "alreadyPresent": progress.present, "rejected": progress.rejected,
        "startedAt": from_epoch(job.created_at).isoformat(), "lastHeartbeatAt": from_epoch(job.heartbeat_at).isoformat(),
    }
    if job.name is not None:
        body["name"] = job.name
    if job.finished_at is not None:
        body["finishedAt"] = from_epoch(job.finished_at).isoformat()
    if job.error_code is not None:
        body["error"] = {"code": job.error_code, "message": job.error_message or job.error_code}
    return body


def location(job_id: str) -> str:
    return f"{PREFIX}/inventory/imports/{job_id}"


def routes(ctx: Context) -> list[AdminRoute]:
    async def start(call: AdminRequest) -> Reply:
        spool = tempfile.TemporaryFile(prefix="numberpool-import-")
        try:
            total = 0
            async for chunk in call.chunks(MAX_UPLOAD_BYTES):
                spool.write(chunk)
                total += len(chunk)
            spool.flush()
            job = await start_import(ctx.store, spool, total, dry_run=call.query("dryRun") == "true",
                                     name=call.query("name"))
        except NumbersFileError as exc:
            spool.close()
            raise invalid_input(str(exc)) from None
        except BaseException:
            spool.close()
            raise
        return Reply(202, job_json(job), {"Location": location(job.id)})

    async def job_or_404(call: AdminRequest) -> ImportJob:
        job = await get_job(ctx.store, call.path("id"))
        if job is None:
            raise not_found(f"There is no import {call.path('id')} (jobs are kept for 30 days).", target="id")
        return job

    async def show(call: AdminRequest) -> Reply:
        return Reply(200, job_json(await job_or_404(call)))

    async def recent(call: AdminRequest) -> Reply:
        limit = int(call.query("limit") or DEFAULT_LIST)
        return Reply(200, {"value": [job_json(job) for job in await list_jobs(ctx.store, limit)]})

    async def rejects(call: AdminRequest) -> Reply:
        job = await job_or_404(call)

        async def lines() -> AsyncIterator[str]:
            yield job.header
            async for page in ctx.store.import_jobs().rejects(job.id):
                yield "".join(page)

        disposition = {"Content-Disposition": f'attachment; filename="rejects-{job.id}.csv"'}
        return Reply(200, StreamingResponse(lines(), media_type="text/csv; charset=utf-8", headers=disposition))

    id_param = {"id": JOB_ID}
    return [
        AdminRoute("POST", "/inventory/imports", "InventoryImports_Start",
                   "Import a numbers CSV (the columns and rules of `numberpool inventory import`) in the background;"
                   f" at most {MAX_UPLOAD_BYTES} bytes",
                   start, {202: ("Started: the job, also at the Location header", JOB)},
                   query=(QueryParam("dryRun", {"type": "boolean"}, "check every row and count, change nothing"),
                          QueryParam("name", {"type": "string", "maxLength": 200},
                                     "a name to show with the job, such as the file's")),
                   body_media="text/csv"),
        AdminRoute("GET", "/inventory/imports", "InventoryImports_List", "The newest import jobs, newest first",
                   recent, {200: ("The jobs", JOB_LIST)},
                   query=(QueryParam("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIST},
                                     f"how many (default {DEFAULT_LIST})"),)),
        AdminRoute("GET", "/inventory/imports/{id}", "InventoryImports_Get",
                   "An import job's state and progress", show, {200: ("The job", JOB)},
                   path_params=id_param, errors=(404,)),
        AdminRoute("GET", "/inventory/imports/{id}/rejects", "InventoryImports_Rejects",
                   "The rejected rows so far as CSV: the input's columns plus error (as the CLI's --rejects)",
                   rejects, {200: ("The rejects file", {"type": "string"})}, path_params=id_param, errors=(404,),
                   produces=("text/csv",)),
    ]
