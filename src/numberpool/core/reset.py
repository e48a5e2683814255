"""Reset (testing mode): the service as it was started, for every resource or for one."""

from __future__ import annotations

from numberpool.core.context import Context
from numberpool.core.timeutil import SharedClock


async def reset(ctx: Context, resource: str | None = None) -> None:
    """Drop every hold, reservation, purchase, operation, search and fault rule, of `resource` or of all.

    The numbers go back to their seeded or imported state. A reset of every resource also sets the
    shared clock's offset back to zero (the clock is one for all resources, so a reset of one leaves it).
    """
    await ctx.store.reset_testing(resource)
    if ctx.faults is not None:
        await ctx.faults.refresh(force=True)
    if isinstance(ctx.clock, SharedClock):
        await ctx.clock.sync(force=True)
