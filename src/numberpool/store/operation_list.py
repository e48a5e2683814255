"""The admin API's list of recent operations as SQL both engines run (`?` marks; PostgreSQL numbers them).

An operation's status is not stored: it follows from the service time (`Operation.status_at`),
so a status filter is the same comparison of times, made in the query.
"""

from __future__ import annotations

from typing import Any

from numberpool.core.model import OperationStatus
from numberpool.core.storage import OperationQuery
from numberpool.store.rows import OPERATION_COLUMNS

_HALFWAY = "created_at + (completes_at - created_at) / 2"


def recent_operations_sql(query: OperationQuery) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if query.resource is not None:
        clauses.append("resource = ?")
        params.append(query.resource)
    if query.status in (OperationStatus.SUCCEEDED, OperationStatus.FAILED):
        clauses.append("completes_at <= ? AND outcome = ?")
        params += [query.now, query.status.value]
    elif query.status is OperationStatus.RUNNING:
        clauses.append(f"completes_at > ? AND {_HALFWAY} <= ?")
        params += [query.now, query.now]
    elif query.status is OperationStatus.NOT_STARTED:
        clauses.append(f"{_HALFWAY} > ?")
        params.append(query.now)
    if query.before is not None:
        clauses.append("(created_at < ? OR (created_at = ? AND id < ?))")
        params += [query.before[0], query.before[0], query.before[1]]
    where = " WHERE " + " AND ".join(clauses) if clauses else ""
    params.append(query.limit)
    return f"SELECT {OPERATION_COLUMNS} FROM operations{where} ORDER BY created_at DESC, id DESC LIMIT ?", params
