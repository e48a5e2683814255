"""Aging and the audit trail at the store contract, on both engines (fixtures in tests/support/stores.py).

Every change of a number's state leaves one event written in the change's own transaction: a
rolled-back change leaves none. The core functions run here as the API calls them, on a frozen
clock that the tests move.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from numberpool.core import activity, aging, audit, operations, phone_numbers, purchase, reservations, search
from numberpool.core.context import Context, Settings
from numberpool.core.errors import AcsError
from numberpool.core.model import (
    AssignmentType,
    Capabilities,
    Change,
    Direction,
    EventKind,
    NumberState,
    NumberType,
)
from numberpool.core.seed import seed_demo
from numberpool.store import Store
from tests.support.stores import T0, FrozenClock, fetch

pytestmark = pytest.mark.asyncio(loop_scope="session")

GEO, TF = NumberType.GEOGRAPHIC, NumberType.TOLL_FREE
APP = AssignmentType.APPLICATION
CALLING = Capabilities(Direction.BOTH, Direction.NONE)
DAY = 24 * 3600.0


def context(store: Store) -> Context:
    return Context(store, Settings(hold_minutes=10.0), FrozenClock())


def rows(events: list) -> list[tuple]:
    """(event, old state, new state, resource, reference, actor) of each event."""
    return [(e.event, e.old_state, e.new_state, e.resource, e.reference, e.actor) for e in events]


async def history(store: Store, number: str) -> list:
    async with store.read() as tx:
        return await tx.history(number)


async def test_a_lifecycle_leaves_one_event_per_change(store: Store) -> None:
    await seed_demo(store, 4)
    ctx = context(store)
    found = await search.start_search(ctx, "res", "US", search.SearchRequest(TF, APP, CALLING, "800", 1))
    number = found.phone_numbers[0]
    bought = await purchase.purchase_search(ctx, "res", found.id, False)
    ctx.clock.advance(60)
    updated = await phone_numbers.update_capabilities(ctx, "res", number, None, Direction.BOTH)
    ctx.clock.advance(60)
    released = await phone_numbers.release_number(ctx, "res", number)

    events = await history(store, number)
    assert rows(events) == [
        ("held", "available", "held", "res", found.id, "res"),
        ("purchased", "held", "purchased", "res", bought.id, "res"),
        ("capabilities updated", "purchased", "purchased", "res", updated.id, "res"),
        # The demo catalog does not age numbers: a released number is available at once.
        ("released", "purchased", "available", "res", released.id, "res"),
    ]
    assert [e.at.timestamp() for e in events] == [T0, T0, T0 + 60, T0 + 120]
    assert events[2].detail == "calling=inbound+outbound sms=inbound+outbound"
    assert [e.id for e in events] == sorted(e.id for e in events)
    async with store.read() as tx:
        assert (await tx.get_number(number)).state is NumberState.AVAILABLE
    assert await store.violations() == []


async def test_no_event_exists_for_a_change_that_rolled_back(store: Store, url: str) -> None:
    await seed_demo(store, 4)
    ctx = context(store)
    found = await search.start_search(ctx, "res", "US", search.SearchRequest(TF, APP, CALLING, "800", 2))

    class Abandon(Exception):
        pass

    with pytest.raises(Abandon):
        async with store.transaction() as tx:
            searched = await tx.get_search(found.id)
            assert await tx.purchase_held(found.id, "res", searched, Change(T0, "res", "res", "purchase_x")) == 2
            raise Abandon  # after the purchase and its events were written: both roll back

    for number in found.phone_numbers:
        assert [e.event for e in await history(store, number)] == ["held"]
    assert await fetch(url, "SELECT count(*) FROM number_events WHERE event = 'purchased'") == [(0,)]

    # A purchase the rules refuse (do-not-resell without the agreement) records nothing either.
    fr = await search.start_search(ctx, "res", "FR", search.SearchRequest(TF, APP, CALLING, "800", 1))
    with pytest.raises(AcsError):
        await purchase.purchase_search(ctx, "res", fr.id, False)
    assert [e.event for e in await history(store, fr.phone_numbers[0])] == ["held"]
    assert await store.violations() == []


async def test_cancelled_and_lapsed_holds_and_reservations(store: Store) -> None:
    await seed_demo(store, 6)
    ctx = context(store)
    cancelled = await search.start_search(ctx, "res", "US", search.SearchRequest(TF, APP, CALLING, "800", 1))
    await operations.cancel_operation(ctx, "res", f"search_{cancelled.id}")
    assert rows(await history(store, cancelled.phone_numbers[0]))[-1] == (
        "hold cancelled", "held", "available", "res", cancelled.id, "res")

    lapsing = await search.start_search(ctx, "res", "US", search.SearchRequest(TF, APP, CALLING, "800", 1))
    number = lapsing.phone_numbers[0]
    ctx.clock.advance(11 * 60)
    # Lazy expiry: the lapsed hold is free without a write, so no event yet...
    assert [e.event for e in await history(store, number)][-1] == "held"
    # ...until the sweep returns it for good, as the system.
    await store.sweep_expired(ctx.clock.epoch())
    assert rows(await history(store, number))[-1] == ("hold lapsed", "held", "available", "res", lapsing.id, "system")

    # Reservations: reserved, cancelled (removed), purchased; a lapsed one returns as the system.
    rid = "0b7c6f4e-5a3c-4d5e-8f00-00000000000a"
    free = await search.start_search(ctx, "res", "US", search.SearchRequest(TF, APP, CALLING, "800", 3))
    await operations.cancel_operation(ctx, "res", f"search_{free.id}")
    a, b, c = free.phone_numbers
    await reservations.create_or_update(ctx, "res", rid, {a: reservations.NumberRequest(), b: reservations.NumberRequest()})
    await reservations.create_or_update(ctx, "res", rid, {b: None})
    bought = await purchase_reservation(ctx, rid)
    assert [r[:4] for r in rows(await history(store, a))[-2:]] == [
        ("reserved", "available", "reserved", "res"), ("purchased", "reserved", "purchased", "res")]
    assert rows(await history(store, a))[-1][4] == bought
    assert rows(await history(store, b))[-1] == ("hold cancelled", "reserved", "available", "res", rid, "res")

    other = "0b7c6f4e-5a3c-4d5e-8f00-00000000000b"
    await reservations.create_or_update(ctx, "res", other, {c: reservations.NumberRequest()})
    ctx.clock.advance(16 * 60)
    await store.sweep_expired(ctx.clock.epoch())
    assert rows(await history(store, c))[-1] == ("hold lapsed", "reserved", "available", "res", other, "system")
    assert await store.violations() == []


async def purchase_reservation(ctx: Context, rid: str) -> str:
    operation = await reservations.purchase_reservation(ctx, "res", rid, False)
    assert operation.outcome.value == "succeeded"
    return operation.id


async def test_a_released_number_ages_for_its_offerings_days(store: Store, url: str) -> None:
    await seed_demo(store, 4)
    await _set_aging_days(url, 30)
    ctx = context(store)
    found = await search.start_search(ctx, "res", "US", search.SearchRequest(TF, APP, CALLING, "800", 2))
    await purchase.purchase_search(ctx, "res", found.id, False)
    first, second = found.phone_numbers
    ctx.catalog = type(ctx.catalog)()  # the offerings changed under the cache
    for number in found.phone_numbers:
        await phone_numbers.release_number(ctx, "res", number)
    async with store.read() as tx:
        aged = await tx.get_number(first)
    assert aged.state is NumberState.AGING and aged.owner is None
    assert aged.aging_until.timestamp() == T0 + 30 * DAY
    assert rows(await history(store, first))[-1][:3] == ("released", "purchased", "aging")
    assert await store.violations() == []

    # While aging, no search, browse or reservation gets it.
    everything = await search.start_search(ctx, "res", "US", search.SearchRequest(TF, APP, CALLING, "800", 100))
    assert first not in everything.phone_numbers and second not in everything.phone_numbers
    await operations.cancel_operation(ctx, "res", f"search_{everything.id}")
    refused = await reservations.create_or_update(
        ctx, "res", "0b7c6f4e-5a3c-4d5e-8f00-00000000000c", {first: reservations.NumberRequest()})
    assert [f.phone_number for f in refused.failed] == [first]

    # The operator ends one number's aging early; the sweep ends the other's when its time comes.
    assert await aging.release_aging(store, [first, "+14255550000"], ctx.clock.epoch()) == [first]
    assert rows(await history(store, first))[-1] == ("aging ended", "aging", "available", None, None, "admin")
    ctx.clock.advance(30 * DAY - 1)
    await store.sweep_expired(ctx.clock.epoch())
    async with store.read() as tx:
        assert (await tx.get_number(second)).state is NumberState.AGING
    ctx.clock.advance(1)
    await store.sweep_expired(ctx.clock.epoch())
    async with store.read() as tx:
        back = await tx.get_number(second)
    assert back.state is NumberState.AVAILABLE and back.aging_until is None
    assert rows(await history(store, second))[-1] == ("aging ended", "aging", "available", None, None, "system")
    assert await store.violations() == []


async def _set_aging_days(url: str, days: int) -> None:
    await fetch(url, f"UPDATE offerings SET aging_days = {days}")


async def test_admin_events_and_the_export(store: Store, url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    await seed_demo(store, 4)
    ctx = context(store)
    async with store.transaction() as tx:
        await audit.record_admin_event(tx, EventKind.RESOURCE_CREATED, T0 - 10, resource="tenant9")
    with pytest.raises(RuntimeError):
        async with store.transaction() as tx:
            await audit.record_admin_event(tx, EventKind.KEY_ROTATED, T0 - 5, resource="tenant9", detail="primary")
            raise RuntimeError("the rotation failed")
    found = await search.start_search(ctx, "res", "US", search.SearchRequest(TF, APP, CALLING, "800", 3))

    monkeypatch.setattr(audit, "EXPORT_PAGE", 2)  # several pages, one at a time
    every = [e async for e in audit.export_events(store, None, None)]
    assert [e.event for e in every] == ["resource created", "held", "held", "held"]
    assert every[0].phone_number is None and every[0].actor == "admin" and every[0].resource == "tenant9"
    assert [e.phone_number for e in every[1:]] == found.phone_numbers
    since = [e async for e in audit.export_events(store, every[1].at, None)]
    assert [e.id for e in since] == [e.id for e in every[1:]]
    until = [e async for e in audit.export_events(store, None, every[1].at)]
    assert [e.id for e in until] == [every[0].id]
    assert [e async for e in audit.export_events(store, every[1].at + timedelta(seconds=1), None)] == []

    writer = audit.EventWriter("csv")
    text = writer.header() + "".join(writer.line(e) for e in every)
    assert text.splitlines()[0] == ",".join(audit.FIELDS)
    assert text.splitlines()[1].endswith(",,,,tenant9,,admin,")
    assert await store.violations() == []


async def test_the_invariant_names_aging_and_purchase_breaches(store: Store, url: str) -> None:
    await seed_demo(store, 4)
    ctx = context(store)
    found = await search.start_search(ctx, "res", "US", search.SearchRequest(TF, APP, CALLING, "800", 3))
    await purchase.purchase_search(ctx, "res", found.id, False)
    bought, aging_number, stale = found.phone_numbers
    assert await store.violations() == []
    # A later event that does not leave the number purchased by its owner.
    await fetch(url, "INSERT INTO number_events (at, event, phone_number, old_state, new_state, resource, actor)"
                     f" VALUES ({T0}, 'released', '{bought}', 'purchased', 'available', 'res', 'res')")
    # An aging number without an end; an end on a number that is not aging.
    await fetch(url, "UPDATE numbers SET state = 'aging', owner = NULL, assignment = NULL, calling = NULL,"
                     " sms = NULL, cost = NULL, currency = NULL, purchased_at = NULL"
                     f" WHERE phone_number = '{aging_number}'")
    await fetch(url, f"UPDATE numbers SET aging_until = {T0} WHERE phone_number = '{stale}'")
    assert sorted(await store.violations()) == sorted([
        ("purchased but its latest event is not its purchase", bought),
        ("aging without an end, or with a holder or owner", aging_number),
        ("an aging end on a number that is not aging", stale),
    ])


async def test_an_events_printed_moment_bounds_the_export_as_printed(store: Store) -> None:
    # Stored as float seconds, printed rounded to the microsecond: this one prints 0.3 µs late.
    at = T0 + 0.0000007
    async with store.transaction() as tx:
        await audit.record_admin_event(tx, EventKind.RESOURCE_CREATED, at, resource="tenant9")
    [event] = [e async for e in audit.export_events(store, None, None)]
    assert event.at.microsecond == 125001

    assert [e.id async for e in audit.export_events(store, event.at, None)] == [event.id]
    assert [e.id async for e in audit.export_events(store, None, event.at)] == []


async def test_hourly_activity_is_a_straightforward_count_of_the_trail(store: Store, url: str) -> None:
    """Per hour, exactly the searches that held numbers and the numbers bought, at the hours' edges too,
    however the events' times run: after a reset of the test clock a later event (higher id) can carry
    an earlier time, inside the 24 hours or before them."""
    await seed_demo(store, 40)
    ctx = context(store)
    this_hour = T0 // 3600 * 3600
    first_hour = this_hour - 23 * 3600
    searches = [  # (time, numbers held, bought?): events 1 and 2 before the 24 hours, 3 inside, 4 before
        (this_hour - 3 * DAY, 1, True), (this_hour - 5 * 3600 + 10, 1, False),
        (this_hour - 2 * DAY, 1, False),  # the clock was reset: before the 24 hours again
        (this_hour - 5 * 3600 + 20, 2, True),
        (first_hour, 1, False), (first_hour - 0.001, 1, True),  # on and just before the first hour's start
        (this_hour, 2, True), (this_hour + 3599.999, 1, False), (this_hour + 3600, 1, True),  # the last hour's edges
    ]
    for at, quantity, bought in searches:
        ctx.clock.offset = at - T0  # as a reset and a move of the shared test clock would put it
        found = await search.start_search(ctx, "res", "US", search.SearchRequest(TF, APP, CALLING, "800", quantity))
        if bought:
            await purchase.purchase_search(ctx, "res", found.id, False)

    series = await activity.hourly_activity(store, this_hour + 1800)
    trail = await fetch(url, "SELECT at, event, reference FROM number_events WHERE event IN ('held', 'purchased')")
    expected = []
    for hour in range(24):
        start = first_hour + hour * 3600
        inside = [(event, reference) for at, event, reference in trail if start <= at < start + 3600]
        expected.append((start, len({r for e, r in inside if e == "held"}), sum(e == "purchased" for e, _ in inside)))
    assert [(h.start, h.searches, h.purchases) for h in series] == expected
    assert [(h.searches, h.purchases) for h in series if h.searches or h.purchases] == [(1, 0), (2, 2), (2, 2)]
