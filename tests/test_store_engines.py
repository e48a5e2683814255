"""The store contract, run against every engine: SQLite and PostgreSQL behave the same (fixtures in tests/support/stores.py).

SQLite runs on a file in a temporary folder. PostgreSQL runs in a database this
module creates (and drops at the end) on the server named by
NUMBERPOOL_TEST_POSTGRES (default postgresql://postgres@127.0.0.1:5432/postgres);
each test gets its own schema there. Without a reachable server the PostgreSQL
cases are skipped with the reason, except under CI (env CI set), where they fail.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections import Counter
from collections.abc import Awaitable
from dataclasses import asdict, is_dataclass
from datetime import datetime
from enum import Enum
from typing import Any

import asyncpg
import pytest

from numberpool.core import catalog, operations, phone_numbers, purchase, search
from numberpool.core.context import Context, Settings
from numberpool.core.errors import AcsError
from numberpool.core.model import AssignmentType, Capabilities, Direction, NumberType
from numberpool.core.seed import seed_demo
from numberpool.numbering.demo import RANGES
from numberpool.store import Store, open_store, upgrade
from numberpool.core.storage import Pick
from numberpool.store.migrations import migrations
from tests.support.stores import ENGINES, T0, FrozenClock, fetch

# Fixtures and tests share the session's event loop (asyncpg pools are bound to one loop).
pytestmark = pytest.mark.asyncio(loop_scope="session")

GEO, TF = NumberType.GEOGRAPHIC, NumberType.TOLL_FREE
APP, PERSON = AssignmentType.APPLICATION, AssignmentType.PERSON
CALLING = Capabilities(Direction.BOTH, Direction.NONE)


def context(store: Store, hold_minutes: float = 10.0) -> Context:
    return Context(store, Settings(hold_minutes=hold_minutes), FrozenClock())


# Rows that break the rules tying a number's state to its other columns.
INVARIANT_VIOLATIONS = """
SELECT n.phone_number, n.state FROM numbers n
WHERE (n.state IN ('held', 'reserved')) <> (n.holder IS NOT NULL)
   OR (n.state IN ('held', 'reserved')) <> (n.hold_expires_at IS NOT NULL)
   OR (n.state = 'purchased') <> (n.owner IS NOT NULL)
   OR (n.state = 'purchased') <> (n.purchased_at IS NOT NULL)
   OR (n.state = 'purchased' AND (n.assignment IS NULL OR n.calling IS NULL OR n.sms IS NULL
                                  OR n.cost IS NULL OR n.currency IS NULL))
   OR (n.state <> 'purchased' AND (n.assignment IS NOT NULL OR n.calling IS NOT NULL OR n.sms IS NOT NULL
                                   OR n.cost IS NOT NULL OR n.currency IS NOT NULL))
   OR (n.state = 'held' AND NOT EXISTS (
          SELECT 1 FROM searches s WHERE s.id = n.holder AND s.status = 'held'))
ORDER BY n.phone_number
"""


async def assert_invariants(url: str, ctx: Context) -> None:
    assert await fetch(url, INVARIANT_VIOLATIONS) == []
    # Every held number is one its holding search lists.
    held = await fetch(url, "SELECT phone_number, holder FROM numbers WHERE state = 'held'")
    async with ctx.store.transaction() as tx:
        for number, holder in held:
            found = await tx.get_search(holder)
            assert found is not None and number in found.phone_numbers, (number, holder)


# --- normalising results so two engines' runs can be compared --------------------------

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class Labels:
    """Replaces random ids with `id1`, `id2`, ... in order of first appearance."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}

    def __call__(self, value: Any) -> Any:
        if is_dataclass(value) and not isinstance(value, type):
            return {"type": type(value).__name__, **self(asdict(value))}
        if isinstance(value, dict):
            return {k: self(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self(v) for v in value]
        if isinstance(value, Enum):
            return value.value
        if isinstance(value, datetime):
            return value.timestamp() - T0
        if isinstance(value, str):
            return _UUID.sub(lambda m: self.names.setdefault(m.group(0), f"id{len(self.names) + 1}"), value)
        return value


async def outcome(call: Awaitable[Any]) -> Any:
    """The call's result, or the ACS error it raised, as plain data."""
    try:
        return await call
    except AcsError as error:
        return {"status": error.status, **error.body()}


# --- migrations and loading -------------------------------------------------------------


async def test_migrations_apply_once(engine: str, new_url) -> None:
    url = await new_url(engine)
    every = [m.version for m in migrations(engine)]
    assert every and every == sorted(every)
    assert await upgrade(url) == every
    assert await upgrade(url) == []
    opened = await open_store(url)  # opening an up-to-date database changes nothing
    try:
        assert await opened.is_empty()
    finally:
        await opened.close()
    assert await upgrade(url) == []
    assert await fetch(url, "SELECT version, name FROM schema_migrations ORDER BY version") == [
        (m.version, m.name) for m in migrations(engine)
    ]


async def test_processes_starting_together_migrate_once(engine: str, new_url) -> None:
    url = await new_url(engine)
    results = await asyncio.gather(*(upgrade(url) for _ in range(4)))
    assert sorted(results) == [[], [], [], [m.version for m in migrations(engine)]]
    stores = await asyncio.gather(*(open_store(url) for _ in range(3)))
    await asyncio.gather(*(s.close() for s in stores))


async def test_schema_refuses_inconsistent_numbers(engine: str, url: str, store: Store) -> None:
    """The CHECK constraints: held or reserved needs a holder, purchased needs an owner."""
    await seed_demo(store, 2)
    number = (await fetch(url, "SELECT phone_number FROM numbers ORDER BY phone_number LIMIT 1"))[0][0]
    bad_updates = [
        "UPDATE numbers SET state = 'held' WHERE phone_number = '{n}'",
        "UPDATE numbers SET state = 'reserved' WHERE phone_number = '{n}'",
        "UPDATE numbers SET state = 'purchased' WHERE phone_number = '{n}'",
        "UPDATE numbers SET holder = 'x' WHERE phone_number = '{n}'",
        "UPDATE numbers SET owner = 'x' WHERE phone_number = '{n}'",
        "UPDATE numbers SET state = 'sold', holder = 'x' WHERE phone_number = '{n}'",
    ]
    for sql in bad_updates:
        with pytest.raises((sqlite3.IntegrityError, asyncpg.CheckViolationError)):
            await fetch(url, sql.format(n=number))
    await fetch(url, f"UPDATE numbers SET state = 'held', holder = 'x' WHERE phone_number = '{number}'")
    await fetch(url, f"UPDATE numbers SET state = 'purchased', holder = NULL, owner = 'y' WHERE phone_number = '{number}'")


async def test_invariant_names_each_rule_a_row_breaks(engine: str, url: str, store: Store) -> None:
    """Rows the CHECK constraints allow but the invariant does not; it names each and nothing else."""
    await seed_demo(store, 2)
    assert await store.violations() == []
    held, reserved, elsewhere = (
        row[0] for row in await fetch(url, "SELECT phone_number FROM numbers ORDER BY phone_number LIMIT 3")
    )
    await fetch(url, f"UPDATE numbers SET state = 'held', holder = 'search-gone', hold_expires_at = 1e12"
                     f" WHERE phone_number = '{held}'")
    await fetch(url, f"UPDATE numbers SET state = 'reserved', holder = 'reservation-gone', hold_expires_at = 1e12"
                     f" WHERE phone_number = '{reserved}'")
    # PostgreSQL has no foreign key on the column (migration 0007); a raw SQLite connection
    # does not enforce one. Either way the invariant is what notices.
    await fetch(url, f"UPDATE numbers SET locality_id = (SELECT max(id) + 1 FROM localities)"
                     f" WHERE phone_number = '{elsewhere}'")
    assert sorted(await store.violations()) == [
        ("held without a holding search", held),
        ("in a locality that does not exist", elsewhere),
        ("reserved but not listed by its reservation", reserved),
        ("reserved without a reservation holding it", reserved),
    ]


async def test_loading_is_idempotent(engine: str, url: str, store: Store) -> None:
    area_codes = len(RANGES)  # 31 geographic and toll-free, 8 mobile
    assert await store.is_empty()
    added = await seed_demo(store, 5)
    assert added == area_codes * 5 and not await store.is_empty()
    tables = "SELECT (SELECT count(*) FROM countries), (SELECT count(*) FROM offerings), (SELECT count(*) FROM localities), (SELECT count(*) FROM numbers)"
    before = await fetch(url, tables)
    assert await seed_demo(store, 5) == 0
    assert await seed_demo(store, 7) == area_codes * 2  # only the new numbers count
    after = await fetch(url, tables)
    assert after[0][:3] == before[0][:3]
    assert after[0][3] == area_codes * 7


async def test_load_numbers_counts_only_new_numbers(engine: str, url: str, store: Store) -> None:
    from numberpool.core.catalog_file import demo_catalog
    from numberpool.core.model import Locality

    COUNTRIES, OFFERINGS = demo_catalog().countries, demo_catalog().offerings

    await store.load_catalog(COUNTRIES, OFFERINGS)
    await store.load_catalog(COUNTRIES, OFFERINGS)
    town = Locality("US", GEO, "425", "Redmond", "WA", "Washington")
    assert await store.load_numbers(town, ["+14255550100", "+14255550101"]) == 2
    assert await store.load_numbers(town, ["+14255550101", "+14255550102", "+14255550102"]) == 1
    assert await store.load_numbers(town, []) == 0
    assert await fetch(url, "SELECT count(*), count(DISTINCT locality_id) FROM numbers") == [(3, 1)]
    assert await fetch(url, "SELECT count(*) FROM offerings") == [(len(OFFERINGS),)]
    assert await fetch(url, "SELECT count(*) FROM countries") == [(len(COUNTRIES),)]


async def test_load_numbers_around_stored_ones(engine: str, url: str, store: Store) -> None:
    from numberpool.core.catalog_file import demo_catalog
    from numberpool.core.model import Locality

    COUNTRIES, OFFERINGS = demo_catalog().countries, demo_catalog().offerings

    await store.load_catalog(COUNTRIES, OFFERINGS)
    town = Locality("US", GEO, "425", "Redmond", "WA", "Washington")
    assert await store.load_numbers(town, ["+14255550105"]) == 1
    # Unsorted, repeated, and spanning a stored number that is itself loaded again.
    assert await store.load_numbers(town, ["+14255550110", "+14255550100", "+14255550105", "+14255550100"]) == 2
    assert await store.load_numbers(town, ["+14255550101", "+14255550109"]) == 2
    assert await fetch(url, "SELECT phone_number FROM numbers ORDER BY phone_number") == [
        ("+14255550100",), ("+14255550101",), ("+14255550105",), ("+14255550109",), ("+14255550110",)
    ]


@pytest.mark.parametrize("engine", ["postgres"])
async def test_postgres_load_racing_another_load(engine: str, url: str, store: Store) -> None:
    """A number another transaction adds after the load checked its range: the load still adds the rest."""
    from numberpool.core.catalog_file import demo_catalog
    from numberpool.core.model import Locality

    COUNTRIES, OFFERINGS = demo_catalog().countries, demo_catalog().offerings

    await store.load_catalog(COUNTRIES, OFFERINGS)
    town = Locality("US", GEO, "425", "Redmond", "WA", "Washington")
    batch = [f"+1425555{line:04d}" for line in range(100)]
    other = await asyncpg.connect(url)
    try:
        racing = other.transaction()
        await racing.start()
        await other.execute(
            "INSERT INTO numbers (phone_number, country, number_type, area_code)"
            " VALUES ($1, 'US', 'geographic', '425')",
            batch[50],
        )
        load = asyncio.create_task(store.load_numbers(town, batch))
        for _ in range(500):  # until the load waits for the racing transaction's number
            waiting = await other.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if waiting or load.done():
                break
            await asyncio.sleep(0.01)
        assert waiting == 1
        await racing.commit()
        assert await load == len(batch) - 1
    finally:
        await other.close()
    assert await store.load_numbers(town, batch) == 0
    assert await fetch(url, "SELECT count(*) FROM numbers") == [(len(batch),)]


# --- the catalog --------------------------------------------------------------------------


async def catalog_snapshot(store: Store) -> dict[str, Any]:
    """Everything the catalog answers, through the store and through the core."""
    ctx = context(store)
    label = Labels()
    snapshot: dict[str, Any] = {"countries": label(await catalog.countries(ctx))}
    async with store.transaction() as tx:
        for country in ("US", "CA", "GB", "FR", "IE", "DE"):
            snapshot[f"store offerings {country}"] = label(await tx.offerings(country))
            snapshot[f"store localities {country}"] = label(await tx.localities(country))
    for country in ("US", "CA", "GB", "FR", "IE", "DE"):
        snapshot[f"offerings {country}"] = label(await catalog.offerings(ctx, country))
        snapshot[f"offerings {country} geo/app"] = label(await catalog.offerings(ctx, country, GEO, APP))
        snapshot[f"localities {country}"] = label(await catalog.localities(ctx, country))
        snapshot[f"localities {country} WA"] = label(await catalog.localities(ctx, country, "WA"))
        for kind in NumberType:
            snapshot[f"area codes {country} {kind.value}"] = await catalog.area_codes(ctx, country, kind)
            snapshot[f"area codes {country} {kind.value} person"] = await catalog.area_codes(ctx, country, kind, PERSON)
    snapshot["area codes Seattle"] = await catalog.area_codes(ctx, "US", GEO, locality="seattle")
    snapshot["unknown country"] = await outcome(catalog.offerings(ctx, "XX"))
    return snapshot


async def test_catalog_after_seeding(engine: str, store: Store) -> None:
    await seed_demo(store, 20)
    snapshot = await catalog_snapshot(store)
    assert [c["code"] for c in snapshot["countries"]] == ["CA", "FR", "GB", "IE", "US"]
    assert snapshot["area codes US tollFree"] == ["800", "833", "844", "855", "866", "877", "888"]
    assert snapshot["area codes GB geographic"] == ["121", "161", "20"]
    assert snapshot["area codes US mobile"] == []
    assert len(snapshot["store offerings US"]) == 3
    assert snapshot["store offerings DE"] == [] and snapshot["localities DE"] == []
    assert snapshot["unknown country"]["status"] == 400


async def test_catalog_is_the_same_on_both_engines(new_url) -> None:
    snapshots = []
    for engine_name in ENGINES:
        opened = await open_store(await new_url(engine_name))
        try:
            await seed_demo(opened, 20)
            snapshots.append(await catalog_snapshot(opened))
        finally:
            await opened.close()
    assert snapshots[0] == snapshots[1]


# --- searching, holding, buying and releasing through the core ----------------------------


async def lifecycle(store: Store, url: str) -> list[tuple[str, Any]]:
    """A walk through every rule that touches the store; returns what each step answered.

    It checks the answers that matter as it goes; the transcript lets two engines'
    walks be compared in full.
    """
    await seed_demo(store, 20)
    ctx = context(store, hold_minutes=10)
    label = Labels()
    log: list[tuple[str, Any]] = []

    def note(step: str, value: Any) -> Any:
        log.append((step, label(value)))
        return value

    us_425 = search.SearchRequest(GEO, APP, CALLING, "425", 3)
    first = note("search 1", await search.start_search(ctx, "res", "US", us_425))
    assert first.status == "held" and len(first.phone_numbers) == 3 and first.phone_numbers == sorted(first.phone_numbers)
    second = note("search 2", await search.start_search(ctx, "res", "US", search.SearchRequest(GEO, APP, CALLING, "425", 2)))
    assert set(first.phone_numbers).isdisjoint(second.phone_numbers)
    assert max(first.phone_numbers) < min(second.phone_numbers)
    note("get search 1", await search.get_search(ctx, "res", first.id))
    note("get search 1, other resource", await outcome(search.get_search(ctx, "other", first.id)))
    note("search operation", await operations.get_operation(ctx, "res", f"search_{first.id}"))
    note("no plan", await outcome(search.start_search(ctx, "res", "US", search.SearchRequest(GEO, APP, Capabilities(Direction.BOTH, Direction.BOTH)))))
    note("bad quantity", await outcome(search.start_search(ctx, "res", "US", search.SearchRequest(GEO, APP, CALLING, None, 0))))

    # buy search 1, twice: the second answer is the first operation
    bought = note("purchase 1", await purchase.purchase_search(ctx, "res", first.id, False))
    assert bought.outcome.value == "succeeded"
    ctx.clock.advance(1)
    again = note("purchase 1 again", await purchase.purchase_search(ctx, "res", first.id, False))
    assert again == bought
    note("purchase 1, other resource", await outcome(purchase.purchase_search(ctx, "other", first.id, False)))
    for number in first.phone_numbers:
        owned = note(f"get {number}", await phone_numbers.get_number(ctx, "res", number))
        assert owned.state.value == "purchased" and owned.owner == "res" and owned.cost.amount == 1.0
        assert owned.purchased_at.timestamp() == T0
    note("get, other resource", await outcome(phone_numbers.get_number(ctx, "other", first.phone_numbers[0])))
    note("get held number", await outcome(phone_numbers.get_number(ctx, "res", second.phone_numbers[0])))
    note("list", await phone_numbers.list_numbers(ctx, "res", 0, 100))
    note("list page 2", await phone_numbers.list_numbers(ctx, "res", 1, 1))
    note("list past the end", await phone_numbers.list_numbers(ctx, "res", 10, 5))

    # cancel search 2: its numbers go back; it is gone
    note("cancel search 2", await operations.cancel_operation(ctx, "res", f"search_{second.id}"))
    note("get search 2", await outcome(search.get_search(ctx, "res", second.id)))
    note("cancel search 2 again", await outcome(operations.cancel_operation(ctx, "res", f"search_{second.id}")))
    note("purchase cancelled search", await outcome(purchase.purchase_search(ctx, "res", second.id, False)))

    # release one number: it is available again, and the next search gets it first
    released = first.phone_numbers[0]
    note("release", await phone_numbers.release_number(ctx, "res", released))
    note("get released", await outcome(phone_numbers.get_number(ctx, "res", released)))
    note("release again", await outcome(phone_numbers.release_number(ctx, "res", released)))
    note("release unknown", await outcome(phone_numbers.release_number(ctx, "res", "+14255550000")))
    note("release garbage", await outcome(phone_numbers.release_number(ctx, "res", "not-a-number")))
    third = note("search 3", await search.start_search(ctx, "res", "US", search.SearchRequest(GEO, APP, CALLING, "425", 4)))
    assert third.phone_numbers == sorted([released, *second.phone_numbers, third.phone_numbers[-1]])

    # capabilities: merge, price from the cheapest plan, refuse what nobody sells
    tf = note("toll-free search", await search.start_search(ctx, "res", "US", search.SearchRequest(TF, APP, CALLING, "800", 1)))
    note("toll-free purchase", await purchase.purchase_search(ctx, "res", tf.id, False))
    note("update sms", await phone_numbers.update_capabilities(ctx, "res", tf.phone_numbers[0], None, Direction.BOTH))
    note("get updated", await phone_numbers.get_number(ctx, "res", tf.phone_numbers[0]))
    note("update impossible", await outcome(phone_numbers.update_capabilities(ctx, "res", first.phone_numbers[1], None, Direction.BOTH)))
    note("update not owned", await outcome(phone_numbers.update_capabilities(ctx, "other", tf.phone_numbers[0], Direction.INBOUND, None)))

    # do-not-resell countries need the agreement
    fr = note("FR search", await search.start_search(ctx, "res", "FR", search.SearchRequest(TF, APP, CALLING, "800", 2)))
    assert fr.agreement_required
    note("FR purchase without agreement", await outcome(purchase.purchase_search(ctx, "res", fr.id, False)))
    note("FR purchase with agreement", await purchase.purchase_search(ctx, "res", fr.id, True))

    # out of stock: a failed search, with a failed operation
    whole = note("take all 800", await search.start_search(ctx, "res", "FR", search.SearchRequest(TF, APP, CALLING, "800", 100)))
    assert len(whole.phone_numbers) == 18
    empty = note("out of stock", await search.start_search(ctx, "res", "FR", search.SearchRequest(TF, APP, CALLING, "800", 1)))
    assert empty.status == "failed" and empty.error == "OutOfStock" and empty.phone_numbers == []
    note("out of stock operation", await operations.get_operation(ctx, "res", f"search_{empty.id}"))
    note("purchase empty search", await outcome(purchase.purchase_search(ctx, "res", empty.id, True)))
    note("cancel failed search", await operations.cancel_operation(ctx, "res", f"search_{empty.id}"))

    # holds lapse: a new search takes lapsed holds (before any sweep), after free numbers
    ctx.clock.advance(10 * 60)
    lapsed = note("after expiry", await search.start_search(ctx, "res", "FR", search.SearchRequest(TF, APP, CALLING, "800", 5)))
    assert lapsed.phone_numbers == sorted(whole.phone_numbers)[:5]
    note("purchase expired", await purchase.purchase_search(ctx, "res", whole.id, True))
    note("get expired search", await search.get_search(ctx, "res", whole.id))
    note("purchase expired again", await purchase.purchase_search(ctx, "res", whole.id, True))
    note("FR 800 after", await fetch(url, "SELECT state, count(*) FROM numbers WHERE country = 'FR' AND area_code = '800' GROUP BY state ORDER BY state"))

    # the sweeper returns what is left of lapsed holds, and marks the searches expired
    leftover = note("search 4", await search.start_search(ctx, "res", "US", search.SearchRequest(GEO, PERSON, CALLING, "206", 4)))
    note("sweep before expiry", await store.sweep_expired(ctx.clock.epoch()))
    ctx.clock.advance(10 * 60 + 1)
    note("sweep", await store.sweep_expired(ctx.clock.epoch()))
    note("sweep again", await store.sweep_expired(ctx.clock.epoch()))
    note("swept search", await search.get_search(ctx, "res", leftover.id))
    note("purchase swept search", await purchase.purchase_search(ctx, "res", leftover.id, False))

    note("numbers by state", await fetch(url, "SELECT state, count(*) FROM numbers GROUP BY state ORDER BY state"))
    note("operations", await fetch(url, "SELECT operation_type, outcome, count(*) FROM operations GROUP BY operation_type, outcome ORDER BY operation_type, outcome"))
    note("searches", await fetch(url, "SELECT status, error, count(*) FROM searches GROUP BY status, error ORDER BY status, error"))
    await assert_invariants(url, ctx)
    return log


async def test_lifecycle(engine: str, url: str, store: Store) -> None:
    log = dict(await lifecycle(store, url))
    assert log["purchase 1, other resource"]["status"] == 404
    assert log["get search 2"]["status"] == 404
    # The service since 2025: a number not owned any more is accepted and its release fails.
    assert (log["release again"]["outcome"], log["release again"]["error_code"]) == ("failed", "BadRequest")
    assert log["update impossible"]["status"] == 400
    assert log["update not owned"]["status"] == 403
    assert log["FR purchase without agreement"]["status"] == 400
    assert log["purchase expired"]["error_code"] == "ReservationExpired"
    assert log["purchase expired again"] == log["purchase expired"]
    assert log["swept search"]["status"] == "expired"
    assert log["purchase swept search"]["error_code"] == "ReservationExpired"
    assert log["get updated"]["capabilities"] == {"calling": "inbound+outbound", "sms": "inbound+outbound"}
    assert log["FR 800 after"] == [["available", 13], ["held", 5], ["purchased", 2]]
    assert log["sweep before expiry"] == 4  # search 3's holds lapsed with search 1's clock
    assert log["sweep"] == 4 + 5  # search 4, and the lapsed-then-retaken FR holds


async def test_lifecycle_is_the_same_on_both_engines(new_url) -> None:
    transcripts = []
    for engine_name in ENGINES:
        url = await new_url(engine_name)
        opened = await open_store(url)
        try:
            transcripts.append(await lifecycle(opened, url))
        finally:
            await opened.close()
    sqlite_log, postgres_log = transcripts
    assert [step for step, _ in sqlite_log] == [step for step, _ in postgres_log]
    for (step, on_sqlite), (_, on_postgres) in zip(sqlite_log, postgres_log):
        assert on_sqlite == on_postgres, step


async def test_failed_transaction_changes_nothing(engine: str, url: str, store: Store) -> None:
    await seed_demo(store, 3)

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with store.transaction() as tx:
            taken = await tx.hold_available(Pick("US", GEO, "425", 2, T0, "h", T0 + 60))
            raise Boom
    assert await fetch(url, "SELECT count(*) FROM numbers WHERE state <> 'available'") == [(0,)]
    async with store.transaction() as tx:
        assert await tx.hold_available(Pick("US", GEO, "425", 2, T0, "h", T0 + 60)) == taken


# --- concurrency --------------------------------------------------------------------------

POOL, SEARCHES, PER_SEARCH = 50, 40, 3  # 120 numbers asked of 50


async def test_concurrent_searches_never_share_a_number(engine: str, url: str) -> None:
    opened = await open_store(url, max_size=20)
    try:
        await seed_demo(opened, POOL)
        assert await fetch(url, "SELECT count(*) FROM numbers WHERE area_code = '425' AND country = 'US'") == [(POOL,)]
        ctx = context(opened)
        request = search.SearchRequest(GEO, APP, CALLING, "425", PER_SEARCH)
        results = await asyncio.gather(*(search.start_search(ctx, "res", "US", request) for _ in range(SEARCHES)))

        handed_out = Counter(n for result in results for n in result.phone_numbers)
        assert [n for n, times in handed_out.items() if times > 1] == []
        assert len(handed_out) == POOL
        assert all(n.startswith("+1425") for n in handed_out)
        assert all(len(r.phone_numbers) <= PER_SEARCH for r in results)
        assert all(r.status == ("held" if r.phone_numbers else "failed") for r in results)
        assert any(r.status == "failed" and r.error == "OutOfStock" for r in results)
        assert await fetch(url, "SELECT count(*) FROM numbers WHERE state = 'held'") == [(POOL,)]
        await assert_invariants(url, ctx)
    finally:
        await opened.close()


async def test_searches_of_one_turn_are_recorded_as_if_one_by_one(engine: str, url: str, store: Store) -> None:
    """One turn's searches share a batch (store/search_batch.py); overlapping slices never share a number."""
    await seed_demo(store, 40)
    ctx = context(store)
    await search.start_search(ctx, "r", "US", search.SearchRequest(GEO, APP, CALLING, "425", 1))  # catalog cached
    quantities = [1, 2, 3, 1, 2, 3, 1, 2]
    found = await asyncio.gather(*(
        search.start_search(ctx, "r", "US", search.SearchRequest(GEO, APP, CALLING, "425" if i % 2 else None, q))
        for i, q in enumerate(quantities)
    ))
    assert [len(f.phone_numbers) for f in found] == quantities
    handed_out = Counter(n for f in found for n in f.phone_numbers)
    assert [n for n, times in handed_out.items() if times > 1] == []
    for made in found:
        stored = await search.get_search(ctx, "r", made.id)
        assert (stored.status, stored.phone_numbers) == ("held", made.phone_numbers)
        operation = await operations.get_operation(ctx, "r", f"search_{made.id}")
        assert operation.outcome.value == "succeeded"
    held = await fetch(url, "SELECT holder, count(*) FROM numbers WHERE state = 'held' GROUP BY holder")
    events = await fetch(url, "SELECT reference, count(*) FROM number_events WHERE event = 'held'"
                              " AND resource = 'r' GROUP BY reference")
    assert sorted(held) == sorted(events)
    assert {f.id: len(f.phone_numbers) for f in found}.items() <= dict(held).items()
    await assert_invariants(url, ctx)


async def test_concurrent_purchases_cancels_and_releases_run_as_if_one_by_one(engine: str, url: str) -> None:
    opened = await open_store(url, max_size=10)
    try:
        await seed_demo(opened, 20)
        ctx = context(opened)
        found = await search.start_search(ctx, "res", "US", search.SearchRequest(GEO, APP, CALLING, "425", 3))

        # the same purchase ten times at once: one operation, the numbers bought once
        answers = await asyncio.gather(*(purchase.purchase_search(ctx, "res", found.id, False) for _ in range(10)))
        assert all(answer == answers[0] for answer in answers) and answers[0].outcome.value == "succeeded"
        assert await fetch(url, "SELECT count(*) FROM numbers WHERE owner = 'res'") == [(3,)]

        # the same release ten times at once: all are accepted (as the service does), one succeeds and
        # the others fail: the number is not owned any more
        number = found.phone_numbers[0]
        released = await asyncio.gather(*(phone_numbers.release_number(ctx, "res", number) for _ in range(10)))
        assert sorted(r.outcome.value for r in released) == ["failed"] * 9 + ["succeeded"]
        assert {r.error_code for r in released if r.outcome.value == "failed"} == {"BadRequest"}

        # the same cancel ten times at once: one succeeds, the others find no operation
        other = await search.start_search(ctx, "res", "US", search.SearchRequest(GEO, APP, CALLING, "425", 3))
        cancelled = await asyncio.gather(
            *(outcome(operations.cancel_operation(ctx, "res", f"search_{other.id}")) for _ in range(10))
        )
        assert sum(r is None for r in cancelled) == 1
        assert all(r["status"] == 404 for r in cancelled if r is not None)
        await assert_invariants(url, ctx)
    finally:
        await opened.close()


async def test_searches_purchases_and_sweeps_racing(engine: str, url: str) -> None:
    """Searches, purchases, cancellations and sweeps all at once, with some holds lapsing meanwhile."""
    opened = await open_store(url, max_size=12)
    try:
        await seed_demo(opened, 60)  # 60 numbers in 206 for 30 searches of 2: none runs dry
        clock = FrozenClock()
        patient = Context(opened, Settings(hold_minutes=10), clock)  # holds outlast the race
        hasty = Context(opened, Settings(hold_minutes=1), clock)  # holds lapse during it
        request = search.SearchRequest(GEO, APP, CALLING, "206", 2)
        searches: list[Any] = []

        async def customer(i: int) -> None:
            ctx, resource = (hasty if i % 2 else patient), f"res{i % 3}"
            found = await search.start_search(ctx, resource, "US", request)
            searches.append(found)
            if i % 4 == 0:
                await operations.cancel_operation(ctx, resource, f"search_{found.id}")
            elif found.phone_numbers:
                await purchase.purchase_search(ctx, resource, found.id, False)

        async def sweeper() -> None:
            for _ in range(10):
                await opened.sweep_expired(clock.epoch())
                await asyncio.sleep(0)

        async def time_passes() -> None:
            for _ in range(5):
                await asyncio.sleep(0.005)
                clock.advance(30)

        await asyncio.gather(*(customer(i) for i in range(30)), sweeper(), sweeper(), time_passes())
        await assert_invariants(url, patient)
        clock.advance(3600)
        await opened.sweep_expired(clock.epoch())
        assert await fetch(url, "SELECT count(*) FROM numbers WHERE state = 'held'") == [(0,)]
        await assert_invariants(url, patient)

        # every purchased number belongs to the resource of a purchased search that found it
        async with opened.transaction() as tx:
            final = {s.id: await tx.get_search(s.id) for s in searches}
        owned = await fetch(url, "SELECT phone_number, owner FROM numbers WHERE state = 'purchased'")
        for number, owner in owned:
            assert any(
                s.status == "purchased" and s.resource == owner and number in s.phone_numbers for s in final.values()
            ), number
        bought = await fetch(
            url, "SELECT count(*) FROM operations WHERE operation_type = 'purchase' AND outcome = 'succeeded'"
        )
        # patient customers that bought: i even, not a multiple of 4 (those cancel)
        assert bought[0][0] >= sum(1 for i in range(30) if i % 2 == 0 and i % 4)
        assert len(owned) >= 2 * sum(1 for i in range(30) if i % 2 == 0 and i % 4)
    finally:
        await opened.close()


async def test_searches_hold_partly_run_out_and_take_lapsed_holds_the_same_on_every_engine(
    engine: str, url: str, store: Store
) -> None:
    """Enough available (one statement on PostgreSQL), too few (a transaction), none, then lapsed holds."""
    await seed_demo(store, 3)
    ctx = context(store)
    in_425 = [row[0] for row in await fetch(
        url, "SELECT phone_number FROM numbers WHERE area_code = '425' AND number_type = 'geographic'"
        " ORDER BY phone_number"
    )]
    assert len(in_425) == 3

    def asking(quantity: int) -> search.SearchRequest:
        return search.SearchRequest(GEO, APP, CALLING, "425", quantity)

    enough = await search.start_search(ctx, "r", "US", asking(2))
    short = await search.start_search(ctx, "r", "US", asking(2))
    none = await search.start_search(ctx, "r", "US", asking(1))
    assert (enough.status, enough.phone_numbers) == ("held", in_425[:2])
    assert (short.status, short.phone_numbers) == ("held", in_425[2:])
    assert (none.status, none.error, none.phone_numbers) == ("failed", "OutOfStock", [])
    for made in (enough, short, none):
        stored = await search.get_search(ctx, "r", made.id)
        assert (stored.status, stored.phone_numbers) == (made.status, made.phone_numbers)
        operation = await operations.get_operation(ctx, "r", f"search_{made.id}")
        assert operation.outcome.value == ("failed" if made is none else "succeeded")
    await assert_invariants(url, ctx)

    ctx.clock.advance(11 * 60)  # both holds lapse; no sweep has run
    again = await search.start_search(ctx, "r", "US", asking(3))
    assert again.phone_numbers == in_425
    await assert_invariants(url, ctx)
