"""The maintained inventory counts (migration 0012) that `inventory report`, `/metrics` and the
console read, on both engines: after any mix of operations they equal an exact GROUP BY of the
numbers, which `store.violations()` checks too."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import pytest

from numberpool.core import aging, phone_numbers, purchase, reset, search
from numberpool.core.context import Context, Settings
from numberpool.core.errors import AcsError
from numberpool.core.inventory_import import import_file, import_range
from numberpool.core.inventory_report import STATES, inventory_report
from numberpool.core.inventory_withdraw import withdraw_numbers
from numberpool.core.model import AssignmentType, Capabilities, Direction, NumberType
from numberpool.core.seed import seed_demo
from numberpool.core.storage import Pick
from numberpool.store import Store, open_store
from tests.support.stores import T0, FrozenClock, fetch

pytestmark = pytest.mark.asyncio(loop_scope="session")

GEO, TF = NumberType.GEOGRAPHIC, NumberType.TOLL_FREE
APP = AssignmentType.APPLICATION
CALLING = Capabilities(Direction.BOTH, Direction.NONE)
DAY = 24 * 3600.0
EXACT = "SELECT country, number_type, area_code, state, count(*) FROM numbers GROUP BY 1, 2, 3, 4"


async def assert_counts_exact(store: Store, url: str) -> None:
    report = await inventory_report(store)
    exact = sorted((c, t, a, s, int(n)) for c, t, a, s, n in await fetch(url, EXACT))
    assert list(report.rows) == exact
    assert await store.violations() == []


async def test_the_report_counts_stored_states_and_the_gauge_lists_zeros(url: str, store: Store) -> None:
    await seed_demo(store, 3)
    await assert_counts_exact(store, url)
    fresh = (await inventory_report(store)).by_country_type_and_state()
    assert sum(fresh.values()) == (await fetch(url, "SELECT count(*) FROM numbers"))[0][0]
    assert fresh[("US", "geographic", "held")] == 0 and fresh[("US", "geographic", "available")] > 0
    assert {state for (_, _, state) in fresh} == set(STATES)  # zeros are listed too, for alerts

    async with store.transaction() as tx:
        assert len(await tx.hold_available(Pick("US", GEO, "425", 2, T0, "live", T0 + 60))) == 2
        assert len(await tx.hold_available(Pick("US", GEO, "425", 1, T0, "lapsed", T0 - 1))) == 1
    held = (await inventory_report(store)).by_country_type_and_state()
    # A lapsed hold is held as stored (and as `inventory export` shows it) until the sweep returns it.
    assert held[("US", "geographic", "held")] == 3
    assert held[("US", "geographic", "available")] == fresh[("US", "geographic", "available")] - 3
    await store.sweep_expired(T0)
    swept = (await inventory_report(store)).by_country_type_and_state()
    assert swept[("US", "geographic", "held")] == 2
    # (Holds of no search break the rest of the invariant: the counts are compared alone.)
    assert list((await inventory_report(store)).rows) == sorted(await fetch(url, EXACT))


UNDO_0012 = {
    "sqlite": ["DROP TRIGGER numbers_counted_insert", "DROP TRIGGER numbers_counted_delete",
               "DROP TRIGGER numbers_counted_update", "DROP TABLE number_counts"],
    "postgres": ["DROP TABLE number_count_deltas CASCADE", "DROP FUNCTION numbers_counted_insert CASCADE",
                 "DROP FUNCTION numbers_counted_delete CASCADE", "DROP FUNCTION numbers_counted_update CASCADE",
                 "DROP FUNCTION numbers_counted_truncate CASCADE"],
}


async def test_the_migration_counts_the_numbers_already_there(url: str, store: Store, engine: str) -> None:
    await seed_demo(store, 3)
    for sql in [*UNDO_0012[engine], "DELETE FROM schema_migrations WHERE version = 12"]:
        await fetch(url, sql)
    # Numbers change while no trigger counts them: the migration must count what it finds.
    await fetch(url, "UPDATE numbers SET state = 'withdrawn' WHERE area_code = '425'")
    await fetch(url, "DELETE FROM numbers WHERE area_code = '800'")
    assert await fetch(url, "SELECT count(*) FROM schema_migrations WHERE version = 12") == [(0,)]
    upgraded = await open_store(url)
    try:
        assert await fetch(url, "SELECT count(*) FROM schema_migrations WHERE version = 12") == [(1,)]
        assert "withdrawn" in {s for *_, s, _ in (await inventory_report(upgraded)).rows}
        await assert_counts_exact(upgraded, url)
    finally:
        await upgraded.close()


async def test_a_random_mix_of_operations_keeps_the_counts_exact(url: str, store: Store, tmp_path: Path) -> None:
    await seed_demo(store, 6)
    await fetch(url, "UPDATE offerings SET aging_days = 2 WHERE number_type = 'tollFree'")
    ctx = Context(store, Settings(hold_minutes=10.0), FrozenClock())
    rng = random.Random(20261202)
    held: list[tuple[str, str]] = []  # (resource, search id)
    owned: list[tuple[str, str]] = []  # (resource, number)
    ranges = iter(range(100))

    async def a_search() -> None:
        resource = rng.choice(["r1", "r2"])
        kind, area = rng.choice([(GEO, "425"), (GEO, None), (TF, "800"), (TF, None)])
        request = search.SearchRequest(kind, APP, CALLING, area, rng.randint(1, 3))
        try:
            found = await search.start_search(ctx, resource, "US", request)
        except AcsError:
            return
        if found.phone_numbers:
            held.append((resource, found.id))

    async def a_purchase() -> None:
        if held:
            resource, search_id = held.pop(rng.randrange(len(held)))
            try:
                await purchase.purchase_search(ctx, resource, search_id, False)
            except AcsError:
                return
            owned.extend((resource, n) for n in (await search.get_search(ctx, resource, search_id)).phone_numbers)

    async def a_release() -> None:
        if owned:
            resource, number = owned.pop(rng.randrange(len(owned)))
            try:
                await phone_numbers.release_number(ctx, resource, number)
            except AcsError:  # its purchase failed (the hold had lapsed)
                return

    async def time_passes() -> None:
        ctx.clock.advance(rng.choice([60.0, 11 * 60.0, 3 * DAY]))
        await store.sweep_expired(ctx.clock.epoch())

    async def aging_ends_early() -> None:
        aged = await fetch(url, "SELECT phone_number FROM numbers WHERE state = 'aging' ORDER BY 1 LIMIT 2")
        await aging.release_aging(store, [n for (n,) in aged], ctx.clock.epoch())

    async def a_withdrawal() -> None:
        some = await fetch(url, "SELECT phone_number FROM numbers WHERE state IN ('available', 'held')"
                                " ORDER BY phone_number DESC LIMIT 3")
        await withdraw_numbers(store, [n for (n,) in some], ctx.clock.epoch())

    async def an_import() -> None:
        start = 2062340000 + 10 * next(ranges)
        path = tmp_path / f"numbers-{start}.csv"
        # Some new, one already present, one rejected (not a number).
        path.write_text("phoneNumber\n" + "".join(f"+1{start + i}\n" for i in range(4)) + "+12062340000\nnope\n")
        await import_file(store, path)

    async def an_added_range() -> None:
        start = 4252340000 + 10 * next(ranges)
        await import_range(store, f"+1{start}", f"+1{start + 4}")

    async def a_reset() -> None:
        await reset.reset(ctx, rng.choice([None, "r1"]))
        held.clear()
        owned.clear()

    operations = [a_search] * 6 + [a_purchase] * 3 + [a_release] * 2 + [time_passes, aging_ends_early, a_withdrawal,
                                                                          an_import, an_added_range, a_reset]
    for _ in range(60):
        await rng.choice(operations)()
        await assert_counts_exact(store, url)
    states = {s for *_, s, _ in (await inventory_report(store)).rows}
    assert {"available", "held", "purchased", "withdrawn"} <= states  # the mix did reach these states


async def test_concurrent_searches_keep_the_counts_exact(url: str, store: Store, engine: str) -> None:
    """Searches from several connections (PostgreSQL: a pool each; SQLite: its one writer) at once,
    with sweeps from two of them compacting the counts meanwhile."""
    await seed_demo(store, 40)
    stores = [store] + [await open_store(url) for _ in range(3)]
    try:
        ctxs = [Context(s, Settings(hold_minutes=10.0), FrozenClock()) for s in stores]

        async def searches(ctx: Context, resource: str) -> None:
            for _ in range(15):
                request = search.SearchRequest(TF, APP, CALLING, None, 2)
                try:
                    await search.start_search(ctx, resource, "US", request)
                except AcsError:
                    pass

        async def sweeps(other: Store) -> None:  # compacting the deltas while searches add theirs
            for _ in range(10):
                await other.sweep_expired(T0)
                await asyncio.sleep(0.01)

        await asyncio.gather(*(searches(ctx, f"r{i}-{j}") for i, ctx in enumerate(ctxs) for j in range(3)),
                             *(sweeps(other) for other in stores[2:]))
        assert (await fetch(url, "SELECT count(*) FROM numbers WHERE state = 'held'"))[0][0] > 0
        await assert_counts_exact(store, url)
        await store.sweep_expired(T0 + 3600)  # the sweep returns the holds and compacts
        await assert_counts_exact(store, url)
    finally:
        for other in stores[1:]:
            await other.close()
