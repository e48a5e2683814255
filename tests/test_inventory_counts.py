"""The inventory by country, type and state that `/metrics` shows, on both engines."""

from __future__ import annotations

import pytest

from numberpool.core.context import Context
from numberpool.core.inventory_counts import STATES, inventory_counts
from numberpool.core.model import NumberType
from numberpool.core.seed import seed_demo
from numberpool.core.storage import Pick
from tests.support.stores import T0, FrozenClock, fetch

pytestmark = pytest.mark.asyncio(loop_scope="session")

GEO = NumberType.GEOGRAPHIC


async def test_counts_by_state_with_lapsed_holds_as_available(url, store):
    await seed_demo(store, 3)
    ctx = Context(store, clock=FrozenClock())
    fresh = await inventory_counts(ctx)
    total = sum(fresh.values())
    assert total == (await fetch(url, "SELECT count(*) FROM numbers"))[0][0]
    assert fresh[("US", "geographic", "held")] == 0 and fresh[("US", "geographic", "available")] > 0
    assert {state for (_, _, state) in fresh} == set(STATES)  # zeros are listed too

    async with store.transaction() as tx:
        assert len(await tx.hold_available(Pick("US", GEO, "425", 2, T0, "live", T0 + 60))) == 2
        assert len(await tx.hold_available(Pick("US", GEO, "425", 1, T0, "lapsed", T0 - 1))) == 1
    counts = await inventory_counts(ctx)
    stored = await fetch(url, "SELECT count(*) FROM numbers WHERE state = 'held'")
    assert stored == [(3,)]  # the lapsed hold is still stored as held until the sweep...
    assert counts[("US", "geographic", "held")] == 2  # ...but counts as available, as a search sees it
    assert counts[("US", "geographic", "available")] == fresh[("US", "geographic", "available")] - 2
    assert sum(counts.values()) == total
