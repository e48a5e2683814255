"""The storage interface the core is written against (the engines in `numberpool.store` implement it).

Every change the core makes happens inside `Store.transaction()`; a transaction
either commits whole or not at all, and the engines make sure two transactions
never take the same available number.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, replace
from typing import NamedTuple, Protocol

from numberpool.core.faults import ListedRule, Rule
from numberpool.core.import_job_store import ImportJobStore
from numberpool.core.inventory_store import InventoryStore
from numberpool.core.model import (
    AvailableNumber,
    Capabilities,
    Change,
    Cost,
    Country,
    EventKind,
    Locality,
    NumberEvent,
    NumberType,
    Offering,
    Operation,
    OperationStatus,
    PhoneNumber,
    Reservation,
    Search,
)

RESERVATION_RETENTION_SECONDS = 30 * 24 * 3600
"""The sweep forgets reservations older than a month, as ACS does."""


@dataclass(frozen=True)
class Pick:
    """The numbers one search takes (up to `limit` of a country and type, perhaps an area code), and its hold."""

    country: str
    number_type: NumberType
    area_code: str | None
    limit: int
    now: float
    holder: str
    expires_at: float
    resource: str | None = None
    """Who searches: the resource its `held` events name."""


SearchRecord = tuple[Search, Operation]
"""A search as stored and the operation that reports it."""

OutOfStock = Callable[[], SearchRecord]
"""Makes the record of a search that found nothing; called only when it comes to that."""


@dataclass(frozen=True)
class NumberFilter:
    """Which numbers a listing shows (api/admin/numbers.py): every given condition holds."""

    prefix: str = "+"
    """The E.164 text starts with it ('+' alone: every number)."""
    state: str | None = None
    country: str | None = None
    owner: str | None = None


class HourCount(NamedTuple):
    """Activity in one hour: searches that held numbers (distinct search ids) and numbers purchased."""

    hour: int
    """Hours since the series' start (0 is its first hour)."""
    searches: int
    purchases: int


@dataclass(frozen=True)
class OperationQuery:
    """A page of the newest operations (searches included), for the admin API."""

    now: float
    """The service time that decides what status an operation shows (`Operation.status_at`)."""
    limit: int
    resource: str | None = None
    status: OperationStatus | None = None
    before: tuple[float, str] | None = None
    """(created_at, id) of the last operation of the previous page: only older ones."""


class Transaction(Protocol):
    # catalog
    async def countries(self) -> list[Country]: ...
    async def offerings(self, country: str) -> list[Offering]: ...
    async def localities(self, country: str) -> list[Locality]: ...

    # inventory
    async def hold_available(self, pick: Pick) -> list[str]:
        """Hold up to `pick.limit` numbers that are free now for `pick.holder` until `pick.expires_at`.

        Free is available, or held or reserved past expiry: when available numbers run
        short, the lapsed holds of the same country and type (and area code) go back to
        the inventory first. The numbers come in area code, then number order.
        """
        ...

    async def release_holds(self, holder: str, change: Change, event: EventKind = EventKind.HOLD_CANCELLED) -> int:
        """Return the numbers the search `holder` holds to the inventory, each with an `event` event."""
        ...

    async def purchase_held(self, holder: str, owner: str, search: Search, change: Change) -> int:
        """Turn the numbers `holder` still holds into purchases of `owner`; returns how many."""
        ...

    async def free_numbers(
        self, country: str, number_type: NumberType, area_code: str, low: str, high: str, limit: int, now: float
    ) -> list[str]:
        """Up to `limit` numbers of one area code that are free now, `low <= number < high`, in order; no locks."""
        ...

    async def get_number(self, phone_number: str) -> PhoneNumber | None: ...
    async def owned_numbers(self, owner: str, skip: int, top: int) -> list[PhoneNumber]: ...
    async def set_capabilities(
        self, phone_number: str, capabilities: Capabilities, cost: Cost, change: Change
    ) -> None: ...

    async def release_number(self, phone_number: str, change: Change, aging_until: float | None) -> None:
        """The owner gives the number up: it ages until `aging_until`, or is available at once when None."""
        ...

    async def end_aging(self, phone_numbers: Sequence[str], change: Change) -> list[str]:
        """Make those of `phone_numbers` that are aging available now; returns them."""
        ...

    # audit trail (append-only: the service never updates or deletes an event)
    async def record_admin_event(self, event: EventKind | str, change: Change, detail: str | None = None) -> None:
        """Append an event about no number (resource created or deleted, key rotated, catalog imported).

        Written in this transaction, so it exists exactly when the admin action commits. Never
        put a key or token in `detail`."""
        ...

    async def history(self, phone_number: str) -> list[NumberEvent]:
        """The number's events, oldest first."""
        ...

    async def events_page(
        self, since: float | None, until: float | None, after_id: int, limit: int
    ) -> list[NumberEvent]:
        """Up to `limit` events with id > `after_id` and `since <= at < until` (either bound optional), by id."""
        ...

    async def numbers_page(self, where: NumberFilter, after: str, limit: int) -> list[PhoneNumber]:
        """Up to `limit` numbers matching `where` with phone_number > `after`, by phone_number (keyset paging)."""
        ...

    async def hourly_activity(self, since: float, hours: int) -> list[HourCount]:
        """Held and purchased events with `since + h hours <= at < since + (h + 1) hours`, for each of
        the `hours` hours h, oldest first: distinct searches that held numbers, numbers purchased."""
        ...

    # searches
    async def record_search(self, search: Search, operation: Operation) -> None:
        """Insert a search and the operation that reports it."""
        ...

    async def get_search(self, search_id: str) -> Search | None: ...
    async def set_search_status(self, search_id: str, status: str) -> None: ...

    # reservations
    async def insert_reservation(self, reservation: Reservation) -> bool:
        """Store a new reservation (its numbers are added by `reserve`); False if the id is taken."""
        ...

    async def get_reservation(self, reservation_id: str) -> Reservation | None:
        """The reservation with its numbers, locked against concurrent changes until the transaction ends."""
        ...

    async def list_reservations(self, resource: str, skip: int, top: int) -> list[Reservation]:
        """The resource's reservations, oldest first, without their numbers."""
        ...

    async def update_reservation(self, reservation: Reservation) -> None:
        """Store status and times; the numbers it reserves are held until its new expiry."""
        ...

    async def delete_reservation(self, reservation_id: str) -> None: ...

    async def lock_free_numbers(self, phone_numbers: Sequence[str], now: float) -> list[PhoneNumber]:
        """Lock and return those of `phone_numbers` that are free now and that no other transaction is changing."""
        ...

    async def reserve(
        self, reservation_id: str, numbers: Sequence[AvailableNumber], expires_at: float, now: float, change: Change
    ) -> None:
        """Reserve numbers `lock_free_numbers` returned in this transaction, and list them in the reservation."""
        ...

    async def release_reserved(
        self, reservation_id: str, change: Change, event: EventKind, phone_numbers: Sequence[str] | None = None
    ) -> int:
        """Return the reservation's reserved numbers (those of `phone_numbers`, or all) to the inventory."""
        ...

    async def remove_from_reservation(self, reservation_id: str, phone_numbers: Sequence[str]) -> None: ...

    async def purchase_reserved(self, reservation_id: str, owner: str, change: Change) -> int:
        """Turn the numbers the reservation still reserves into purchases of `owner`, each under its offering."""
        ...

    # operations
    async def insert_operation(self, operation: Operation) -> None: ...
    async def get_operation(self, operation_id: str) -> Operation | None: ...
    async def delete_operation(self, operation_id: str) -> None: ...
    async def recent_operations(self, query: OperationQuery) -> list[Operation]:
        """Up to `query.limit` operations it selects, newest first (by created_at, then id)."""
        ...


class Store(Protocol):
    background_load_batch: int
    """Numbers per `load_numbers` for an import running beside the server's requests (an admin API
    job): as small as keeps those requests from waiting long behind a load, as big as keeps the
    import fast."""

    def transaction(self) -> AbstractAsyncContextManager[Transaction]: ...

    async def hold_for_search(self, pick: Pick, found: SearchRecord, out_of_stock: OutOfStock) -> list[str]:
        """In one transaction: hold numbers as `Transaction.hold_available`, then record `found`
        with those numbers, or `out_of_stock()` when there were none; returns the numbers."""
        ...

    def read(self) -> AbstractAsyncContextManager[Transaction]:
        """A view for answering reads: sees committed data, takes no write or row locks.

        Only the read methods of the Transaction may be used in it.
        """
        ...

    async def find_operation(self, operation_id: str) -> Operation | None:
        """The operation as committed (a read, as in `read()`), or None."""
        ...

    async def is_empty(self) -> bool: ...

    async def load_catalog(self, countries: Iterable[Country], offerings: Iterable[Offering]) -> None: ...

    async def load_numbers(self, locality: Locality, numbers: Sequence[str], change: Change | None = None) -> int:
        """Bulk-add available numbers of one locality; returns how many were new.

        With `change` (an operator's import), one `imported` admin event in the same transaction
        records how many numbers this batch added (none when it added none); without (seeding,
        benchmarks), no event. One event per batch rather than per number: per-number events
        took a third or more off the import's speed (bench/README.md)."""
        ...

    async def sweep_expired(self, now: float) -> int:
        """Return expired holds and reservations, and numbers whose aging has ended, to the inventory for good;
        returns how many numbers. Each one's event names the actor `system`.

        Also marks lapsed reservations expired and forgets reservations older than a month."""
        ...

    async def violations(self) -> list[tuple[str, str]]:
        """(rule, phone number) for every breach of the inventory invariant; empty when consistent."""
        ...

    async def pending_migrations(self) -> int:
        """How many of this version's schema migrations the database lacks (a query: it also proves it answers)."""
        ...

    # state every process shares
    async def clock_offset(self) -> float:
        """Seconds the shared service clock runs ahead of the wall clock (0 unless `serve --test-clock` moved it)."""
        ...

    async def advance_clock(self, seconds: float) -> float:
        """Move the shared clock's offset forward by `seconds` (>= 0), atomically; returns the new offset."""
        ...

    async def clock_state(self) -> tuple[float, int]:
        """(clock offset, reset generation): the generation grows with every testing-mode reset."""
        ...

    # testing mode (`serve --testing`): fault rules (core.faults.FaultStore) and the reset
    async def faults_version(self) -> int: ...
    async def fault_rules(self) -> tuple[int, list[ListedRule]]: ...
    async def replace_fault_rules(self, rules: list[Rule]) -> None: ...
    async def append_fault_rules(self, rules: list[Rule], limit: int) -> bool: ...
    async def clear_fault_rules(self, resource: str | None = None) -> None: ...
    async def claim_fault_hit(self, rule_id: str) -> int | None: ...
    async def reset_testing(self, resource: str | None = None) -> None:
        """Drop every hold, reservation, purchase, operation, search and fault rule (of `resource`, or all);
        the numbers go back to their seeded or imported state and, for all, the clock offset to 0."""
        ...

    async def demo_seed(self) -> tuple[int, bool] | None:
        """(numbers per area code, complete?) of the demo seeding this database began; None if it never did."""
        ...

    async def record_demo_seed(self, per_area_code: int, now: float, *, complete: bool) -> None:
        """Record that the demo seeding of `per_area_code` numbers per area code began, or completed, at `now`."""
        ...

    def inventory(self) -> InventoryStore:
        """The operations of the operator's inventory and catalog commands."""
        ...

    def import_jobs(self) -> ImportJobStore:
        """The admin API's background inventory imports (core/import_jobs.py)."""
        ...

    async def close(self) -> None: ...


async def hold_and_record(tx: Transaction, pick: Pick, found: SearchRecord, out_of_stock: OutOfStock) -> list[str]:
    """`Store.hold_for_search` within a transaction the caller opened."""
    numbers = await tx.hold_available(pick)
    await tx.record_search(*search_record(numbers, found, out_of_stock))
    return numbers


def search_record(numbers: list[str], found: SearchRecord, out_of_stock: OutOfStock) -> SearchRecord:
    """What a search that held `numbers` stores: `found` with those numbers, or `out_of_stock()` when none."""
    if not numbers:
        return out_of_stock()
    search, operation = found
    return replace(search, phone_numbers=numbers), operation
