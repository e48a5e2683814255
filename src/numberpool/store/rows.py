"""Rows to domain records and back, shared by every engine.

Both engines select the same columns in the same order (the `*_COLUMNS` strings in
each engine), so one mapping serves them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from numberpool.core.inventory_store import ExportFilter
from numberpool.core.model import (
    AssignmentType,
    AvailableNumber,
    Capabilities,
    Cost,
    Direction,
    NumberEvent,
    NumberState,
    NumberType,
    Operation,
    OperationStatus,
    OperationType,
    PhoneNumber,
    Reservation,
    Search,
)
from numberpool.core.timeutil import from_epoch, to_epoch

# The numbers file's columns (core/inventory_import.py), then state, owner, since, cost, currency.
_EXPORT_SELECT = (
    "SELECT n.phone_number, n.number_type, n.area_code, l.name, l.division_abbr, n.state, n.owner,"
    " CASE n.state WHEN 'purchased' THEN n.purchased_at WHEN 'available' THEN n.state_since"
    " WHEN 'withdrawn' THEN n.state_since END,"
    " n.cost, n.currency FROM numbers n LEFT JOIN localities l ON l.id = n.locality_id"
)


def export_query(
    where: ExportFilter, placeholder: Callable[[int], str], *, page: int | None = None,
) -> tuple[str, list[str]]:
    """The export's statement and parameters, in number order; `placeholder(n)` spells the n-th
    parameter in the engine's dialect (`?` or `$n`). With `page`, the statement reads that many
    numbers after the first parameter (the last number of the previous page; "" to start)."""
    clauses: list[str] = []
    params: list[str] = []
    if page is not None:
        params.append("")
        clauses.append(f"n.phone_number > {placeholder(1)}")
    for column, value in (("n.state", where.state), ("n.country", where.country), ("n.owner", where.resource)):
        if value is not None:
            params.append(value)
            clauses.append(f"{column} = {placeholder(len(params))}")
    where_sql = " WHERE " + " AND ".join(clauses) if clauses else ""
    limit = f" LIMIT {page}" if page is not None else ""
    return _EXPORT_SELECT + where_sql + " ORDER BY n.phone_number" + limit, params


def number_from_row(row: tuple[Any, ...]) -> PhoneNumber:
    (number, country, kind, area, state, holder, hold_expires, owner, who, calling, sms, cost, cur, purchased,
     aging_until) = row
    return PhoneNumber(
        phone_number=number,
        country=country,
        number_type=NumberType(kind),
        area_code=area,
        state=NumberState(state),
        holder=holder,
        hold_expires_at=from_epoch(hold_expires) if hold_expires is not None else None,
        owner=owner,
        assignment=AssignmentType(who) if who else None,
        capabilities=Capabilities(Direction(calling), Direction(sms)) if calling else None,
        cost=Cost(cost, cur) if cost is not None else None,
        purchased_at=from_epoch(purchased) if purchased is not None else None,
        aging_until=from_epoch(aging_until) if aging_until is not None else None,
    )


def reservation_from_row(row: tuple[Any, ...]) -> Reservation:
    id_, resource, status, created, expires, completes = row
    return Reservation(
        id=id_,
        resource=resource,
        status=status,
        created_at=from_epoch(created),
        expires_at=from_epoch(expires),
        completes_at=from_epoch(completes) if completes is not None else None,
    )


def reservation_to_row(reservation: Reservation) -> tuple[Any, ...]:
    """A `reservations` row: id, resource, status, created_at, expires_at, completes_at."""
    return (
        reservation.id,
        reservation.resource,
        reservation.status,
        to_epoch(reservation.created_at),
        to_epoch(reservation.expires_at),
        to_epoch(reservation.completes_at) if reservation.completes_at else None,
    )


def reserved_from_row(row: tuple[Any, ...]) -> AvailableNumber:
    number, country, kind, who, calling, sms, cost, currency, dnr = row
    return AvailableNumber(
        number, country, NumberType(kind), AssignmentType(who), Capabilities(Direction(calling), Direction(sms)),
        Cost(cost, currency), bool(dnr),
    )


def reserved_to_row(n: AvailableNumber) -> tuple[Any, ...]:
    return (
        n.phone_number, n.country, n.number_type.value, n.assignment.value, n.capabilities.calling.value,
        n.capabilities.sms.value, float(n.cost.amount), n.cost.currency, bool(n.agreement_required),
    )


def search_from_row(row: Sequence[Any], phone_numbers: list[str]) -> Search:
    """A `searches` row; each engine stores the list of numbers its own way, so it decodes them."""
    (id_, resource, country, kind, who, calling, sms, area, qty, cost, cur, created, expires, dnr, status, error, _) = row
    return Search(
        id=id_,
        resource=resource,
        country=country,
        number_type=NumberType(kind),
        assignment=AssignmentType(who),
        capabilities=Capabilities(Direction(calling), Direction(sms)),
        area_code=area,
        quantity=qty,
        cost=Cost(cost, cur),
        created_at=from_epoch(created),
        expires_at=from_epoch(expires),
        agreement_required=bool(dnr),
        status=status,
        error=error,
        phone_numbers=phone_numbers,
    )


def search_to_row(search: Search) -> tuple[Any, ...]:
    """A `searches` row but its last column, phone_numbers, which each engine encodes its own way."""
    return (
        search.id,
        search.resource,
        search.country,
        search.number_type.value,
        search.assignment.value,
        search.capabilities.calling.value,
        search.capabilities.sms.value,
        search.area_code,
        search.quantity,
        float(search.cost.amount),
        search.cost.currency,
        to_epoch(search.created_at),
        to_epoch(search.expires_at),
        bool(search.agreement_required),
        search.status,
        search.error,
    )


OPERATION_COLUMNS = (
    "id, resource, operation_type, outcome, created_at, completes_at, resource_location, error_code, error_message"
)
"""The `operations` columns that `operation_to_row` writes and `operation_from_row` reads, in that order."""


def operation_to_row(operation: Operation) -> tuple[Any, ...]:
    return (
        operation.id,
        operation.resource,
        operation.operation_type.value,
        operation.outcome.value,
        to_epoch(operation.created_at),
        to_epoch(operation.completes_at),
        operation.resource_location,
        operation.error_code,
        operation.error_message,
    )


def operation_from_row(row: Sequence[Any]) -> Operation:
    id_, resource, kind, outcome, created, completes, location, code, message = row
    return Operation(
        id_, resource, OperationType(kind), OperationStatus(outcome), from_epoch(created), from_epoch(completes),
        location, code, message,
    )


def event_from_row(row: Sequence[Any]) -> NumberEvent:
    """A `number_events` row: id, then at, event, phone_number, old_state, new_state, resource, reference, actor, detail."""
    id_, at, event, number, old, new, resource, reference, actor, detail = row
    return NumberEvent(int(id_), from_epoch(at), event, number, old, new, resource, reference, actor, detail)


def capabilities_detail(capabilities: Capabilities) -> str:
    """What a `capabilities updated` event says it changed to."""
    return f"calling={capabilities.calling.value} sms={capabilities.sms.value}"


def numbered(sql: str) -> str:
    """SQL written with `?` marks (shared by both engines) with PostgreSQL's $1, $2, ... instead."""
    counter = iter(range(1, 10_000))
    return re.sub(r"\?", lambda _: f"${next(counter)}", sql)
