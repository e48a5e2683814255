"""Long-running operations: polling and cancelling."""

from __future__ import annotations

from numberpool.core import errors
from numberpool.core.context import Context, is_operation_id
from numberpool.core.model import Change, EventKind, Operation, OperationType


_missing = errors.operation_not_found


async def get_operation(ctx: Context, resource: str, operation_id: str) -> Operation:
    if not is_operation_id(operation_id):
        raise _missing(operation_id)
    operation = await ctx.store.find_operation(operation_id)
    if operation is None or operation.resource != resource:
        raise _missing(operation_id)
    return operation


async def cancel_operation(ctx: Context, resource: str, operation_id: str) -> None:
    """Forget the operation; cancelling a search also gives its held numbers back."""
    if not is_operation_id(operation_id):
        raise _missing(operation_id)
    async with ctx.store.transaction() as tx:
        operation = await tx.get_operation(operation_id)
        if operation is None or operation.resource != resource:
            raise _missing(operation_id)
        if operation.operation_type is OperationType.SEARCH:
            search_id = operation_id.removeprefix("search_")
            search = await tx.get_search(search_id)
            if search is not None and search.status in ("held", "failed", "expired"):
                cancelled = Change(ctx.clock.epoch(), resource, resource, search_id)
                await tx.release_holds(search_id, cancelled, EventKind.HOLD_CANCELLED)
                await tx.set_search_status(search_id, "cancelled")
        await tx.delete_operation(operation_id)
