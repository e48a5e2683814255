"""Purchased numbers: read, list, release and change capabilities."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from numberpool.core import errors
from numberpool.core.aging import aging_until
from numberpool.core.context import Context, new_id
from numberpool.core.faults import OperationFailure, planned_failure
from numberpool.core.model import (
    Capabilities,
    Change,
    Direction,
    NumberState,
    NumberType,
    Operation,
    OperationStatus,
    OperationType,
    PhoneNumber,
)
from numberpool.core.search import SearchRequest, cheapest_plan
from numberpool.numbering.e164 import normalize


def _parse(raw: str) -> str:
    e164 = normalize(raw)
    if e164 is None:
        raise errors.invalid_phone_number(raw)
    return e164


def _is_owned(number: PhoneNumber | None, resource: str) -> bool:
    return number is not None and number.state is NumberState.PURCHASED and number.owner == resource


def _failed(failure: OperationFailure | None) -> dict[str, Any]:
    if failure is None:
        return {}
    return {"outcome": OperationStatus.FAILED, "error": (failure.code, failure.message)}


def number_location(e164: str) -> str:
    return f"/phoneNumbers/{e164}"


async def get_number(ctx: Context, resource: str, raw: str) -> PhoneNumber:
    e164 = _parse(raw)
    async with ctx.store.read() as tx:
        number = await tx.get_number(e164)
    if not _is_owned(number, resource):
        raise errors.number_not_found(e164)
    assert number is not None
    return number


async def list_numbers(
    ctx: Context, resource: str, skip: int, top: int, types: Collection[NumberType] | None = None
) -> list[PhoneNumber]:
    """The resource's numbers in order, `skip` then up to `top`; only those of `types` when given."""
    if types is None or set(types) >= set(NumberType):
        async with ctx.store.read() as tx:
            return await tx.owned_numbers(resource, skip, top)
    kept: list[PhoneNumber] = []
    offset, seen, chunk = 0, 0, max(top, 100)
    async with ctx.store.read() as tx:
        while len(kept) < top:
            page = await tx.owned_numbers(resource, offset, chunk)
            for number in page:
                if number.number_type in types:
                    if seen >= skip:
                        kept.append(number)
                    seen += 1
            if len(page) < chunk:
                break
            offset += chunk
    return kept[:top]


async def release_number(ctx: Context, resource: str, raw: str) -> Operation:
    e164 = _parse(raw)
    async with ctx.store.transaction() as tx:
        number = await tx.get_number(e164)
        owned = _is_owned(number, resource)
        # A number the resource does not own is accepted, as the service has done since 2025 (it was a
        # 400 before); the release then fails and nothing changes.
        failure = planned_failure() if owned else OperationFailure(*errors.release_not_owned(e164, resource))
        operation = ctx.new_operation(
            resource, OperationType.RELEASE, f"release_{new_id()}",
            **_failed(failure),
        )
        if failure is None:
            now = ctx.clock.epoch()
            assert number is not None
            rests_until = aging_until(await tx.offerings(number.country), number, now)
            await tx.release_number(e164, Change(now, resource, resource, operation.id), rests_until)
        await tx.insert_operation(operation)
    ctx.operation_recorded(operation)
    return operation


async def update_capabilities(
    ctx: Context, resource: str, raw: str, calling: Direction | None, sms: Direction | None
) -> Operation:
    """Merge the given capabilities into the number's; the result must be one an offering sells.

    A number that does not parse is one the resource does not own: the service answered an
    invalid number with 400 until 2024 and with 403 since (recordings of 2023-07 and 2025-06).
    """
    e164 = normalize(raw)
    if e164 is None:
        raise errors.not_owned()
    async with ctx.store.transaction() as tx:
        number = await tx.get_number(e164)
        if not _is_owned(number, resource):
            raise errors.not_owned()
        assert number is not None and number.capabilities is not None and number.assignment is not None
        wanted = Capabilities(calling or number.capabilities.calling, sms or number.capabilities.sms)
        plan = cheapest_plan(
            await tx.offerings(number.country),
            SearchRequest(number.number_type, number.assignment, wanted),
        )
        failure = planned_failure()  # a fault rule's, in testing mode: the capabilities stay as they were
        operation = ctx.new_operation(
            resource,
            OperationType.UPDATE_CAPABILITIES,
            f"capabilities_{new_id()}",
            resource_location=number_location(e164),
            **_failed(failure),
        )
        if failure is None:
            await tx.set_capabilities(
                e164, wanted, plan.cost, Change(ctx.clock.epoch(), resource, resource, operation.id)
            )
        await tx.insert_operation(operation)
    ctx.operation_recorded(operation)
    return operation
