"""Buying what a search holds."""

from __future__ import annotations

from numberpool.core import errors
from numberpool.core.context import Context, is_id
from numberpool.core.faults import planned_failure
from numberpool.core.model import SYSTEM_ACTOR, Change, EventKind, Operation, OperationStatus, OperationType

EXPIRED_MESSAGE = "The search has expired and its phone numbers are no longer held; search again."


def purchase_operation_id(search_id: str) -> str:
    return f"purchase_{search_id}"


async def purchase_search(ctx: Context, resource: str, search_id: str, agree_to_not_resell: bool,
                          refusal: errors.ResellRefusal = "agreement") -> Operation:
    """Buy every number the search holds, once; a repeated purchase answers with the first operation."""
    if not is_id(search_id):
        raise errors.search_not_found(search_id)
    operation_id = purchase_operation_id(search_id)
    async with ctx.store.transaction() as tx:
        search = await tx.get_search(search_id)
        if search is None or search.resource != resource or search.status == "cancelled":
            raise errors.search_not_found(search_id)
        earlier = await tx.get_operation(operation_id)
        if earlier is not None:
            return earlier
        if not search.phone_numbers:
            raise errors.bad_request("The search found no phone numbers to purchase.", target="searchId")
        if search.agreement_required and not agree_to_not_resell:
            raise errors.do_not_resell_refused(refusal)
        now = ctx.clock.epoch()
        failure = planned_failure()  # a fault rule's, in testing mode
        if failure is not None:  # nothing bought, and nothing stays held: the numbers are available again
            await tx.release_holds(search_id, Change(now, SYSTEM_ACTOR, resource, search_id), EventKind.HOLD_CANCELLED)
            await tx.set_search_status(search_id, "failed")
            operation = ctx.new_operation(
                resource, OperationType.PURCHASE, operation_id, outcome=OperationStatus.FAILED,
                error=(failure.code, failure.message),
            )
        elif search.status == "expired" or search.expires_at.timestamp() <= now:
            await tx.release_holds(search_id, Change(now, SYSTEM_ACTOR, resource, search_id), EventKind.HOLD_LAPSED)
            await tx.set_search_status(search_id, "expired")
            operation = ctx.new_operation(
                resource,
                OperationType.PURCHASE,
                operation_id,
                outcome=OperationStatus.FAILED,
                error=("ReservationExpired", EXPIRED_MESSAGE),
            )
        else:
            bought = await tx.purchase_held(search_id, resource, search, Change(now, resource, resource, operation_id))
            await tx.set_search_status(search_id, "purchased")
            operation = ctx.new_operation(
                resource,
                OperationType.PURCHASE,
                operation_id,
                outcome=OperationStatus.SUCCEEDED if bought else OperationStatus.FAILED,
                error=None if bought else ("PurchaseFailed", "None of the searched phone numbers could be purchased."),
            )
        await tx.insert_operation(operation)
    ctx.operation_recorded(operation)
    return operation
