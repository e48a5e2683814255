"""Searching for available numbers, and holding what a search found."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

from numberpool.core import errors
from numberpool.core.catalog import check_country
from numberpool.core.context import Context, is_id, new_id
from numberpool.core.faults import planned_failure
from numberpool.core.model import (
    AssignmentType,
    Capabilities,
    NumberType,
    Offering,
    OperationStatus,
    OperationType,
    Search,
)
from numberpool.core.storage import Pick, SearchRecord

OUT_OF_STOCK_MESSAGE = "No phone numbers are available that match the search criteria."


@dataclass(frozen=True)
class SearchRequest:
    number_type: NumberType
    assignment: AssignmentType
    capabilities: Capabilities
    area_code: str | None = None
    quantity: int = 1


def search_location(search_id: str) -> str:
    return f"/availablePhoneNumbers/searchResults/{search_id}"


def cheapest_plan(offerings: list[Offering], request: SearchRequest) -> Offering:
    """The cheapest offering that sells this type and assignment with these capabilities."""
    fitting = [
        o
        for o in offerings
        if o.number_type is request.number_type and o.assignment is request.assignment and o.allows(request.capabilities)
    ]
    if not fitting:
        raise errors.no_matching_plan()
    return min(fitting, key=lambda o: o.cost.amount)


async def start_search(ctx: Context, resource: str, country: str, request: SearchRequest) -> Search:
    """Find and hold up to `request.quantity` numbers; the search and its operation are stored together."""
    country = check_country(country)
    if not 1 <= request.quantity <= ctx.settings.max_search_quantity:
        raise errors.bad_request(
            f"quantity must be between 1 and {ctx.settings.max_search_quantity}.", target="quantity"
        )
    search_id = new_id()
    now = ctx.clock.now()
    expires_at = now + timedelta(minutes=ctx.settings.hold_minutes)
    plan = cheapest_plan(await ctx.catalog.offerings(ctx.store, country), request)
    sold_in = await ctx.catalog.country(ctx.store, country)
    do_not_resell = sold_in is not None and sold_in.do_not_resell
    held = Search(
        id=search_id,
        resource=resource,
        country=country,
        number_type=request.number_type,
        assignment=request.assignment,
        capabilities=request.capabilities,
        area_code=request.area_code,
        quantity=request.quantity,
        cost=plan.cost,
        created_at=now,
        expires_at=expires_at,
        agreement_required=do_not_resell,
    )
    operation_id = f"search_{search_id}"
    found = (
        held,
        ctx.new_operation(resource, OperationType.SEARCH, operation_id, resource_location=search_location(search_id)),
    )

    failed: list[SearchRecord] = []

    def out_of_stock() -> SearchRecord:
        """The record of this search failed for want of numbers: made once, only if needed."""
        if not failed:
            failed.append((
                replace(held, status="failed", error="OutOfStock"),
                ctx.new_operation(
                    resource,
                    OperationType.SEARCH,
                    operation_id,
                    outcome=OperationStatus.FAILED,
                    resource_location=search_location(search_id),
                    error=("OutOfStock", OUT_OF_STOCK_MESSAGE),
                ),
            ))
        return failed[0]

    failure = planned_failure()  # a fault rule's, in testing mode: the search fails and holds nothing
    if failure is not None:
        faulted = replace(held, status="failed", error=failure.code)
        async with ctx.store.transaction() as tx:
            await tx.record_search(faulted, ctx.new_operation(
                resource, OperationType.SEARCH, operation_id, outcome=OperationStatus.FAILED,
                resource_location=search_location(search_id), error=(failure.code, failure.message),
            ))
        return faulted

    pick = Pick(
        country, request.number_type, request.area_code, request.quantity, ctx.clock.epoch(),
        search_id, expires_at.timestamp(), resource,
    )
    numbers = await ctx.store.hold_for_search(pick, found, out_of_stock)
    ctx.operation_recorded((found if numbers else out_of_stock())[1])
    if not numbers:
        return out_of_stock()[0]
    held.phone_numbers = numbers  # this call's own record: no copy needed
    return held


search_not_found = errors.search_not_found


async def get_search(ctx: Context, resource: str, search_id: str) -> Search:
    if not is_id(search_id):
        raise search_not_found(search_id)
    async with ctx.store.read() as tx:
        search = await tx.get_search(search_id)
    if search is None or search.resource != resource or search.status == "cancelled":
        raise search_not_found(search_id)
    return search
