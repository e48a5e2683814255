"""The resource registry (core/resource_registry.py) on both engines: sealed keys, declaring at
start, rotation, deletion with what a resource holds, and the keys secret check."""

from __future__ import annotations

import base64

import pytest

from numberpool.core import purchase, search
from numberpool.core.context import Context, Settings
from numberpool.core.errors import AcsError
from numberpool.core.key_sealing import KeySealer, WrongSecret, new_secret
from numberpool.core.model import AssignmentType, Capabilities, Direction, NumberState, NumberType
from numberpool.core.resource_cache import ResourceCache
from numberpool.core.resource_registry import KeysSecretMismatch, ResourceRegistry, StoredResource
from numberpool.core.resources import DEV_ACCESS_KEY, DEV_RESOURCE, ResourceSpec
from numberpool.core.seed import seed_demo
from numberpool.store import Store
from tests.support.stores import T0, FrozenClock, fetch

pytestmark = pytest.mark.asyncio(loop_scope="session")

SECRET = new_secret()
KEY_A = base64.b64encode(b"a" * 32).decode()
KEY_B = base64.b64encode(b"b" * 32).decode()
US_TOLL_FREE = search.SearchRequest(NumberType.TOLL_FREE, AssignmentType.APPLICATION,
                                    Capabilities(Direction.BOTH, Direction.NONE), None, 2)


def registry(store: Store, secret: bytes = SECRET) -> ResourceRegistry:
    return ResourceRegistry(store, KeySealer(secret), FrozenClock())


async def test_keys_are_not_in_the_database_as_they_are(url: str, store: Store) -> None:
    reg = registry(store)
    issued = await reg.create("contoso")
    await reg.declare([ResourceSpec("declared", (KEY_A, KEY_B))])
    rows = await fetch(url, "SELECT id, primary_key, secondary_key FROM resources ORDER BY id")
    assert [row[0] for row in rows] == ["contoso", "declared"]
    plain = [issued.primary_key, issued.secondary_key, KEY_A, KEY_B]
    raw = [base64.b64decode(k) for k in plain]  # type: ignore[arg-type]
    for _, *sealed in rows:
        for value in sealed:
            blob = bytes(value)
            assert all(key not in blob for key in raw) and all(k.encode() not in blob for k in plain)  # type: ignore[union-attr]
    opened = {r.id: r.keys for r in (reg.open(s) for s in await _stored(store))}
    assert opened["declared"] == tuple(base64.b64decode(k) for k in (KEY_A, KEY_B))
    assert opened["contoso"] == tuple(base64.b64decode(k) for k in plain[:2])  # type: ignore[arg-type]


async def _stored(store: Store) -> list[StoredResource]:
    async with store.read() as tx:
        return await tx.list_resources()  # type: ignore[attr-defined]


async def test_a_sealed_key_opens_only_in_its_own_row_and_slot(store: Store) -> None:
    reg = registry(store)
    await reg.create("one")
    await reg.create("two")
    one, two = await _stored(store)
    sealer = KeySealer(SECRET)
    with pytest.raises(WrongSecret):
        sealer.open("two", "primary", one.primary_key)
    with pytest.raises(WrongSecret):
        sealer.open("one", "secondary", one.primary_key)
    with pytest.raises(WrongSecret):
        KeySealer(new_secret()).open("one", "primary", one.primary_key)
    assert sealer.open("one", "primary", one.primary_key)


async def test_declaring_is_idempotent_and_declared_keys_win_at_each_start(store: Store) -> None:
    reg = registry(store)
    specs = [DEV_RESOURCE, ResourceSpec("tenant", (KEY_A,))]
    assert await reg.declare(specs) == ["devresource", "tenant"]
    async with store.read() as tx:
        generation = await tx.resource_generation()  # type: ignore[attr-defined]
    assert await reg.declare(specs) == []
    async with store.read() as tx:
        assert await tx.resource_generation() == generation  # type: ignore[attr-defined]
    rotated = await reg.rotate_key("tenant", "secondary")
    assert rotated.primary_key is None and rotated.secondary_key
    assert (await reg.show("tenant")).has_secondary_key
    assert await reg.declare(specs) == ["tenant"]  # the declaration is the source of truth for its keys
    tenant = next(s for s in await _stored(store) if s.id == "tenant")
    assert reg.open(tenant).keys == (base64.b64decode(KEY_A),) and tenant.declared
    assert reg.open(next(s for s in await _stored(store) if s.id == "devresource")).keys == (
        base64.b64decode(DEV_ACCESS_KEY),)


async def test_rotation_replaces_one_key_and_keeps_the_other(store: Store) -> None:
    reg = registry(store)
    issued = await reg.create("r")
    new = await reg.rotate_key("r", "primary")
    assert new.secondary_key is None and new.primary_key not in (issued.primary_key, issued.secondary_key)
    (stored,) = await _stored(store)
    assert reg.open(stored).keys == (base64.b64decode(new.primary_key), base64.b64decode(issued.secondary_key))  # type: ignore[arg-type]
    with pytest.raises(AcsError) as bad_slot:
        await reg.rotate_key("r", "tertiary")
    assert bad_slot.value.status == 400 and bad_slot.value.target == "key"
    with pytest.raises(AcsError) as missing:
        await reg.rotate_key("nobody", "primary")
    assert missing.value.status == 404


async def test_the_cache_reloads_only_when_something_changed(store: Store) -> None:
    reg = registry(store)
    cache = ResourceCache(reg)
    assert await cache.refresh() and cache.resources == ()
    assert not await cache.refresh()
    issued = await reg.create("cached")
    assert await cache.refresh()
    assert [r.id for r in cache.resources] == ["cached"]
    await reg.rotate_key("cached", "primary")
    assert await cache.refresh()
    assert base64.b64decode(issued.primary_key) not in cache.resources[0].keys  # type: ignore[arg-type]
    await reg.delete("cached")
    assert await cache.refresh() and cache.resources == ()


async def test_delete_releases_what_the_resource_owns_and_holds(url: str, store: Store) -> None:
    await seed_demo(store, 5)
    ctx = Context(store, Settings(hold_minutes=10), FrozenClock())
    reg = registry(store)
    await reg.create("buyer")
    bought = await search.start_search(ctx, "buyer", "US", US_TOLL_FREE)
    await purchase.purchase_search(ctx, "buyer", bought.id, False)
    held = await search.start_search(ctx, "buyer", "US", US_TOLL_FREE)
    assert (await reg.show("buyer")).owned_numbers == 2
    assert (await reg.show("buyer")).last_activity is not None
    assert {r.id: r.owned_numbers for r in await reg.list()} == {"buyer": 2}
    with pytest.raises(AcsError) as refused:
        await reg.delete("buyer")
    assert refused.value.status == 409 and refused.value.code == "ResourceOwnsNumbers"
    assert (await reg.show("buyer")).owned_numbers == 2  # nothing changed
    assert await reg.delete("buyer", release_numbers=True) == 2
    numbers = bought.phone_numbers + held.phone_numbers
    states = await fetch(url, "SELECT phone_number, state FROM numbers WHERE state <> 'available' OR owner IS NOT NULL")
    assert not [n for n, _ in states if n in numbers]
    for table in ("searches", "operations", "reservations"):
        assert await fetch(url, f"SELECT count(*) FROM {table} WHERE resource = 'buyer'") == [(0,)]
    assert await store.violations() == []
    async with store.read() as tx:  # the same events as an ACS release and a cancelled hold, by the admin
        released = [(e.event, e.old_state, e.new_state, e.actor, e.resource)
                    for e in await tx.history(bought.phone_numbers[0])][-1]
        cancelled = [(e.event, e.old_state, e.new_state, e.actor, e.resource, e.reference)
                     for e in await tx.history(held.phone_numbers[0])][-1]
    assert released == ("released", "purchased", "available", "admin", "buyer")
    assert cancelled == ("hold cancelled", "held", "available", "admin", "buyer", held.id)
    with pytest.raises(AcsError) as gone:
        await reg.show("buyer")
    assert gone.value.status == 404


async def test_numbers_released_by_a_delete_age_for_their_offerings_days(url: str, store: Store) -> None:
    await seed_demo(store, 5)
    await fetch(url, "UPDATE offerings SET aging_days = 30")
    ctx = Context(store, Settings(hold_minutes=10), FrozenClock())
    reg = registry(store)
    await reg.create("ager")
    bought = await search.start_search(ctx, "ager", "US", US_TOLL_FREE)
    await purchase.purchase_search(ctx, "ager", bought.id, False)
    assert await reg.delete("ager", release_numbers=True) == 2
    async with store.read() as tx:
        number = await tx.get_number(bought.phone_numbers[0])
        last = (await tx.history(bought.phone_numbers[0]))[-1]
    assert number is not None and number.state is NumberState.AGING and number.owner is None
    assert number.aging_until is not None and number.aging_until.timestamp() == T0 + 30 * 24 * 3600
    assert (last.event, last.old_state, last.new_state, last.actor) == ("released", "purchased", "aging", "admin")
    assert await store.violations() == []


async def test_another_secret_is_refused_before_it_seals_anything(store: Store) -> None:
    await registry(store).create("first")
    stranger = registry(store, new_secret())
    for change in (stranger.create("second"), stranger.rotate_key("first", "primary"),
                   stranger.declare([DEV_RESOURCE]), stranger.check_secret()):
        with pytest.raises(KeysSecretMismatch):
            await change
    assert [s.id for s in await _stored(store)] == ["first"]


@pytest.mark.parametrize("bad", ["", "-x", "a b", "x" * 64, "é", "a/b"])
async def test_bad_ids_are_refused(store: Store, bad: str) -> None:
    with pytest.raises(AcsError) as refused:
        await registry(store).create(bad)
    assert refused.value.status == 400 and refused.value.target == "id"
    with pytest.raises(ValueError):
        await registry(store).declare([ResourceSpec(bad, (KEY_A,))])
