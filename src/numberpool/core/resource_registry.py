"""Resources (tenants) at run time: create, list, show, rotate a key, delete, declare at start.

The same functions serve the admin API and the `numberpool resource` commands. Keys are
sealed before they reach the store (`key_sealing`); every write moves the keyring's
generation on, which is how each process's key cache (`resource_cache`) learns of it.
"""

from __future__ import annotations

import base64
import logging
import os
from collections.abc import Awaitable, Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Literal, Protocol

from numberpool.core.aging import aging_until
from numberpool.core.audit import record_admin_event
from numberpool.core.errors import AcsError, invalid_input
from numberpool.core.key_sealing import KeySealer, WrongSecret
from numberpool.core.model import ADMIN_ACTOR, Change, EventKind, Offering, PhoneNumber, Resource
from numberpool.core.resources import RESOURCE_ID, ResourceSpec
from numberpool.core.timeutil import Clock

log = logging.getLogger("numberpool.resources")

KeySlot = Literal["primary", "secondary"]
KEY_SLOTS: tuple[KeySlot, ...] = ("primary", "secondary")
KEY_BYTES = 64  # as ACS issues them: 64 random bytes, 88 base64 characters
_RELEASE_BATCH = 500


@dataclass(frozen=True)
class StoredResource:
    """A resource as the store keeps it: keys sealed."""

    id: str
    primary_key: bytes
    secondary_key: bytes | None
    declared: bool
    created_at: float
    updated_at: float


@dataclass(frozen=True)
class ResourceInfo:
    """What an operator sees of a resource; never its keys."""

    id: str
    declared: bool
    created_at: float
    updated_at: float
    has_secondary_key: bool
    owned_numbers: int | None = None
    last_activity: float | None = None
    """When the resource last started a long-running operation (search, purchase, release, ...)."""


@dataclass(frozen=True)
class IssuedKeys:
    """Keys just issued, shown once: base64 as a connection string carries them."""

    id: str
    primary_key: str | None
    secondary_key: str | None


class ResourceTransaction(Protocol):
    """What the registry needs of a store transaction (the engines: store/*_resources.py)."""

    async def get_resource(self, resource_id: str) -> StoredResource | None:
        """The resource, locked against concurrent changes until the transaction ends."""
        ...

    async def list_resources(self) -> list[StoredResource]: ...
    async def insert_resource(self, resource: StoredResource) -> bool:
        """False if the id is taken."""
        ...

    async def update_resource(self, resource: StoredResource) -> None: ...
    async def delete_resource(self, resource_id: str, change: Change) -> None:
        """Forget the resource with its searches, reservations and operations; its holds and
        reservations' numbers go back to the inventory, each with a `hold cancelled` event naming
        its search or reservation (`change` gives when and who). Owned numbers must be released first."""
        ...

    async def resource_usage(self, resource_id: str) -> tuple[int, float | None]:
        """(numbers it owns, when it last started an operation)."""
        ...

    async def owned_counts(self) -> dict[str, int]: ...
    async def resource_generation(self) -> int: ...
    async def keys_secret_check(self) -> bytes | None: ...
    async def set_keys_secret_check(self, value: bytes) -> None: ...

    # from the inventory's interface
    async def offerings(self, country: str) -> list[Offering]: ...
    async def owned_numbers(self, owner: str, skip: int, top: int) -> list[PhoneNumber]: ...
    async def release_number(self, phone_number: str, change: Change, aging_until: float | None) -> None: ...

    # from the audit trail's
    async def record_admin_event(self, event: EventKind | str, change: Change, detail: str | None = None) -> None: ...


class ResourceStore(Protocol):
    def transaction(self) -> AbstractAsyncContextManager[ResourceTransaction]: ...
    def read(self) -> AbstractAsyncContextManager[ResourceTransaction]: ...


def new_key() -> str:
    return base64.b64encode(os.urandom(KEY_BYTES)).decode("ascii")


def check_resource_id(resource_id: str, target: str = "id") -> str:
    if not isinstance(resource_id, str) or not RESOURCE_ID.fullmatch(resource_id):
        raise invalid_input(
            "A resource id is 1 to 63 letters, digits, '.', '_' or '-', starting with a letter or digit.",
            target=target,
        )
    return resource_id


def resource_not_found(resource_id: str) -> AcsError:
    return AcsError("ResourceNotFound", f"No resource {resource_id!r} exists.", status=404, target="id")


class KeysSecretMismatch(ValueError):
    """This process's keys secret is not the one the database's keys were sealed with."""


class ResourceRegistry:
    def __init__(self, store: ResourceStore, sealer: KeySealer, clock: Clock | None = None) -> None:
        self.store = store
        self.sealer = sealer
        self.clock = clock or Clock()
        self.changed: Callable[[], Awaitable[object]] | None = None
        """Called after each committed change: a server refreshes its own key cache at once, so a
        key it just issued opens its next request (other processes catch up within seconds)."""

    async def _after_change(self) -> None:
        if self.changed is None:
            return
        try:
            await self.changed()
        except Exception:  # the change is committed; the periodic refresh catches up
            log.exception("refreshing the resources after a change failed")

    async def create(self, resource_id: str) -> IssuedKeys:
        check_resource_id(resource_id)
        primary, secondary = new_key(), new_key()
        now = self.clock.epoch()
        async with self.store.transaction() as tx:
            await self._check_secret(tx)
            stored = StoredResource(
                resource_id, self._seal(resource_id, "primary", primary), self._seal(resource_id, "secondary", secondary),
                declared=False, created_at=now, updated_at=now,
            )
            if not await tx.insert_resource(stored):
                raise AcsError("ResourceExists", f"A resource {resource_id!r} already exists.", status=409, target="id")
            await record_admin_event(tx, EventKind.RESOURCE_CREATED, now, resource=resource_id)
        await self._after_change()
        return IssuedKeys(resource_id, primary, secondary)

    async def list(self) -> list[ResourceInfo]:
        async with self.store.read() as tx:
            stored = await tx.list_resources()
            owned = await tx.owned_counts()
        return [_info(r, owned.get(r.id, 0)) for r in stored]

    async def show(self, resource_id: str) -> ResourceInfo:
        check_resource_id(resource_id)
        async with self.store.read() as tx:
            stored = await tx.get_resource(resource_id)
            if stored is None:
                raise resource_not_found(resource_id)
            owned, last_activity = await tx.resource_usage(resource_id)
        return _info(stored, owned, last_activity)

    async def rotate_key(self, resource_id: str, slot: str) -> IssuedKeys:
        """A new key in `slot`; the other key keeps working (ACS regenerateKey)."""
        check_resource_id(resource_id)
        if slot not in KEY_SLOTS:
            raise invalid_input("The key to rotate is 'primary' or 'secondary'.", target="key")
        key = new_key()
        now = self.clock.epoch()
        async with self.store.transaction() as tx:
            await self._check_secret(tx)
            stored = await tx.get_resource(resource_id)
            if stored is None:
                raise resource_not_found(resource_id)
            sealed = self._seal(resource_id, slot, key)
            await tx.update_resource(StoredResource(
                resource_id,
                sealed if slot == "primary" else stored.primary_key,
                sealed if slot == "secondary" else stored.secondary_key,
                stored.declared, stored.created_at, now,
            ))
            await record_admin_event(tx, EventKind.KEY_ROTATED, now, resource=resource_id, detail=f"key={slot}")
        await self._after_change()
        return IssuedKeys(resource_id, key if slot == "primary" else None, key if slot == "secondary" else None)

    async def delete(self, resource_id: str, *, release_numbers: bool = False) -> int:
        """Delete the resource; refused while it owns numbers unless `release_numbers`. Returns how many were released."""
        check_resource_id(resource_id)
        released = 0
        await self.clock.sync()
        now = self.clock.epoch()
        change = Change(now, ADMIN_ACTOR, resource_id)
        async with self.store.transaction() as tx:
            if await tx.get_resource(resource_id) is None:
                raise resource_not_found(resource_id)
            owned, _ = await tx.resource_usage(resource_id)
            if owned and not release_numbers:
                raise AcsError(
                    "ResourceOwnsNumbers",
                    f"Resource {resource_id!r} owns {owned} phone number(s); release them first, or delete with"
                    " releaseNumbers (--release-numbers).",
                    status=409, target="id",
                )
            offerings: dict[str, list[Offering]] = {}
            while True:  # through the inventory's own release (aging, `released` event) whoever asks
                batch = await tx.owned_numbers(resource_id, 0, _RELEASE_BATCH)
                for number in batch:
                    if number.country not in offerings:
                        offerings[number.country] = await tx.offerings(number.country)
                    rests_until = aging_until(offerings[number.country], number, now)
                    await tx.release_number(number.phone_number, change, rests_until)
                released += len(batch)
                if len(batch) < _RELEASE_BATCH:
                    break
            await tx.delete_resource(resource_id, change)  # its holds and reservations go back, with their events
            await record_admin_event(tx, EventKind.RESOURCE_DELETED, now, resource=resource_id,
                                     detail=f"released={released}" if released else None)
        await self._after_change()
        return released

    async def declare(self, specs: Iterable[ResourceSpec]) -> list[str]:
        """Make the database hold each declared resource with exactly its declared keys (idempotent).

        Returns the ids created or whose keys changed. A declaration is the source of truth for
        its resource's keys: a key rotated at run time is replaced by the declared one at the next
        start that declares it (docs/operators.md).
        """
        changed = []
        now = self.clock.epoch()
        async with self.store.transaction() as tx:
            await self._check_secret(tx)
            for spec in specs:
                keys = spec.to_resource().keys  # ValueError for a bad id or key
                primary, secondary = keys[0], (keys[1] if len(keys) > 1 else None)
                stored = await tx.get_resource(spec.id)
                if stored is None:
                    await tx.insert_resource(StoredResource(
                        spec.id, self.sealer.seal(spec.id, "primary", primary),
                        None if secondary is None else self.sealer.seal(spec.id, "secondary", secondary),
                        declared=True, created_at=now, updated_at=now,
                    ))
                    await record_admin_event(tx, EventKind.RESOURCE_CREATED, now, resource=spec.id, detail="declared")
                    changed.append(spec.id)
                elif self._keys(stored) != (primary, secondary) or not stored.declared:
                    await tx.update_resource(StoredResource(
                        spec.id, self.sealer.seal(spec.id, "primary", primary),
                        None if secondary is None else self.sealer.seal(spec.id, "secondary", secondary),
                        declared=True, created_at=stored.created_at, updated_at=now,
                    ))
                    await record_admin_event(tx, EventKind.KEY_ROTATED, now, resource=spec.id, detail="declared")
                    changed.append(spec.id)
        return changed

    async def check_secret(self) -> None:
        """Raise KeysSecretMismatch unless this secret opens the database's keys (records it if none is)."""
        async with self.store.transaction() as tx:
            await self._check_secret(tx)

    def open(self, stored: StoredResource) -> Resource:
        """The resource with its keys opened, primary first."""
        primary, secondary = self._keys(stored)
        return Resource(stored.id, (primary,) if secondary is None else (primary, secondary))

    def _keys(self, stored: StoredResource) -> tuple[bytes, bytes | None]:
        primary = self.sealer.open(stored.id, "primary", stored.primary_key)
        secondary = None if stored.secondary_key is None else self.sealer.open(stored.id, "secondary", stored.secondary_key)
        return primary, secondary

    def _seal(self, resource_id: str, slot: str, key: str) -> bytes:
        return self.sealer.seal(resource_id, slot, base64.b64decode(key))

    async def _check_secret(self, tx: ResourceTransaction) -> None:
        check = await tx.keys_secret_check()
        if check is None:
            await tx.set_keys_secret_check(self.sealer.check_value())
        elif not self.sealer.matches(check):
            raise KeysSecretMismatch(
                "the keys secret is not the one this database's access keys were sealed with"
                " (give every process the same NUMBERPOOL_KEYS_SECRET or --keys-secret-file)"
            )


def _info(stored: StoredResource, owned: int | None = None, last_activity: float | None = None) -> ResourceInfo:
    return ResourceInfo(stored.id, stored.declared, stored.created_at, stored.updated_at,
                        stored.secondary_key is not None, owned, last_activity)


def opened_resources(registry: ResourceRegistry, stored: Sequence[StoredResource]) -> tuple[list[Resource], list[str]]:
    """The resources whose keys open, and an error line for each that does not."""
    opened, failed = [], []
    for record in stored:
        try:
            opened.append(registry.open(record))
        except WrongSecret as exc:
            failed.append(str(exc))
    return opened, failed
