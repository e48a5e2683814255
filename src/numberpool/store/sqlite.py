"""The embedded engine: SQLite through the standard library, file or memory.

One connection per process, used from the event loop; SQLite work here takes
microseconds, so it runs inline rather than in a thread. Write transactions run
under BEGIN IMMEDIATE, which takes the database write lock up front: two
processes (or two tasks) can never pick the same available number. Those of one
turn of the event loop share a commit (`sqlite_group_commit.py`).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager

from numberpool.core.model import (
    AssignmentType,
    AvailableNumber,
    Capabilities,
    Change,
    Cost,
    Country,
    Direction,
    EventKind,
    Locality,
    NumberEvent,
    NumberType,
    Offering,
    Operation,
    PhoneNumber,
    Reservation,
    Search,
)
from numberpool.core.model import SYSTEM_ACTOR
from numberpool.core.timeutil import to_epoch
from numberpool.core.audit import imported_detail
from numberpool.core.storage import (
    OperationQuery,
    RESERVATION_RETENTION_SECONDS,
    HourCount,
    NumberFilter,
    OutOfStock,
    Pick,
    SearchRecord,
    hold_and_record,
)
from numberpool.store.invariant import INVARIANT_SQL
from numberpool.store.operation_list import recent_operations_sql
from numberpool.store.migrations import migrations
from numberpool.store.rows import (
    capabilities_detail,
    number_from_row,
    OPERATION_COLUMNS,
    operation_from_row,
    reservation_from_row,
    reservation_to_row,
    reserved_from_row,
    operation_to_row,
    reserved_to_row,
    search_from_row,
    search_to_row,
)
from numberpool.store import admin_queries
from numberpool.store import sqlite_events as events
from numberpool.store.sqlite_group_commit import GroupCommit
from numberpool.store.sqlite_import_jobs import SqliteImportJobs
from numberpool.store.sqlite_inventory import SqliteInventory
from numberpool.store.sqlite_search_batch import SqliteSearchBatch
from numberpool.store.sqlite_testing import SqliteTesting
from numberpool.store.sqlite_resources import SqliteResourceQueries
from numberpool.store.sqlite_wal import WalCheckpointer, checkpoint_in_background

_BUSY_TIMEOUT_MS = 10_000


class SqliteTransaction(SqliteResourceQueries):
    def __init__(self, connection: sqlite3.Connection) -> None:
        self._db = connection

    # catalog

    async def countries(self) -> list[Country]:
        rows = self._db.execute("SELECT code, name, do_not_resell FROM countries ORDER BY code").fetchall()
        return [Country(code, name, bool(dnr)) for code, name, dnr in rows]

    async def offerings(self, country: str) -> list[Offering]:
        rows = self._db.execute(
            "SELECT country, number_type, assignment, calling, sms, cost, currency, billing_frequency, aging_days"
            " FROM offerings WHERE country = ? ORDER BY id",
            (country,),
        ).fetchall()
        return [
            Offering(
                c, NumberType(t), AssignmentType(a), Capabilities(Direction(ca), Direction(s)), Cost(cost, cur, freq),
                int(aging),
            )
            for c, t, a, ca, s, cost, cur, freq, aging in rows
        ]

    async def localities(self, country: str) -> list[Locality]:
        rows = self._db.execute(
            "SELECT country, number_type, area_code, name, division_abbr, division_name"
            " FROM localities WHERE country = ? ORDER BY id",
            (country,),
        ).fetchall()
        return [Locality(c, NumberType(t), ac, n, da, dn) for c, t, ac, n, da, dn in rows]

    # inventory

    async def hold_available(self, pick: Pick) -> list[str]:
        country, number_type, area_code, limit = pick.country, pick.number_type, pick.area_code, pick.limit
        picked = self.available(country, number_type, area_code, limit)
        if len(picked) < limit and self.return_lapsed(country, number_type, area_code, pick.now):
            picked = self.available(country, number_type, area_code, limit)
        self.hold([(pick, picked)])
        self.record_held([(pick, picked)])
        return picked

    def hold(self, picked: Iterable[tuple[Pick, list[str]]]) -> None:
        """Mark numbers held by their picks (one executemany for all); their events are the caller's."""
        self._db.executemany(
            "UPDATE numbers SET state = 'held', holder = ?, hold_expires_at = ? WHERE phone_number = ?",
            [(pick.holder, pick.expires_at, number) for pick, numbers in picked for number in numbers],
        )

    def record_held(self, picked: Iterable[tuple[Pick, list[str]]]) -> None:
        """The `held` events of searches' holds (one executemany for all)."""
        changes = [(Change(p.now, p.resource or "", p.resource, p.holder), numbers) for p, numbers in picked]
        events.record_changes(self._db, EventKind.HELD, "available", "held", changes)

    def available(self, country: str, number_type: NumberType, area_code: str | None, limit: int) -> list[str]:
        # Area code, then number: the same order as the PostgreSQL engine (see there why).
        if area_code is None:
            rows = self._db.execute(
                "SELECT phone_number FROM numbers WHERE country = ? AND number_type = ? AND state = 'available'"
                " ORDER BY area_code, phone_number LIMIT ?",
                (country, number_type.value, limit),
            )
        else:
            rows = self._db.execute(
                "SELECT phone_number FROM numbers WHERE country = ? AND number_type = ? AND area_code = ?"
                " AND state = 'available' ORDER BY phone_number LIMIT ?",
                (country, number_type.value, area_code, limit),
            )
        return [row[0] for row in rows]

    def return_lapsed(self, country: str, number_type: NumberType, area_code: str | None, now: float) -> int:
        """Put this slice's lapsed holds back in the inventory, as the sweep would; returns how many."""
        area_clause = "" if area_code is None else " AND area_code = :area_code"
        where = (
            f"country = :country AND number_type = :number_type{area_clause}"
            " AND state IN ('held', 'reserved') AND hold_expires_at <= :now"
        )
        params = {"country": country, "number_type": number_type.value, "area_code": area_code, "now": now}
        events.record_where(
            self._db, Change(now, SYSTEM_ACTOR), EventKind.HOLD_LAPSED, "available", where, params, lapsed=True
        )
        cursor = self._db.execute(
            f"UPDATE numbers SET state = 'available', holder = NULL, hold_expires_at = NULL WHERE {where}", params
        )
        return cursor.rowcount

    async def release_holds(self, holder: str, change: Change, event: EventKind = EventKind.HOLD_CANCELLED) -> int:
        where, params = "holder = :holder AND state = 'held'", {"holder": holder}
        events.record_where(self._db, change, event, "available", where, params)
        cursor = self._db.execute(
            f"UPDATE numbers SET state = 'available', holder = NULL, hold_expires_at = NULL WHERE {where}", params
        )
        return cursor.rowcount

    async def purchase_held(self, holder: str, owner: str, search: Search, change: Change) -> int:
        events.record_where(
            self._db, change, EventKind.PURCHASED, "purchased", "holder = :holder AND state = 'held'", {"holder": holder}
        )
        cursor = self._db.execute(
            "UPDATE numbers SET state = 'purchased', holder = NULL, hold_expires_at = NULL, owner = ?,"
            " assignment = ?, calling = ?, sms = ?, cost = ?, currency = ?, purchased_at = ?"
            " WHERE holder = ? AND state = 'held'",
            (
                owner,
                search.assignment.value,
                search.capabilities.calling.value,
                search.capabilities.sms.value,
                search.cost.amount,
                search.cost.currency,
                change.at,
                holder,
            ),
        )
        return cursor.rowcount

    async def free_numbers(
        self, country: str, number_type: NumberType, area_code: str, low: str, high: str, limit: int, now: float
    ) -> list[str]:
        where = "country = ? AND number_type = ? AND area_code = ? AND phone_number >= ? AND phone_number < ?"
        params = (country, number_type.value, area_code, low, high)
        free = self._db.execute(
            f"SELECT phone_number FROM numbers WHERE {where} AND state = 'available' ORDER BY phone_number LIMIT ?",
            (*params, limit),
        ).fetchall()
        # Lapsed holds are few (the sweep returns them) and their index finds them by expiry.
        # With statistics SQLite otherwise prefers walking the number range by primary key,
        # through every held and sold number of it (measured: 8-18 ms against 0.05 ms, 1 M numbers).
        lapsed = self._db.execute(
            f"SELECT phone_number FROM numbers INDEXED BY numbers_lapsed_by_area WHERE {where}"
            " AND state IN ('held', 'reserved') AND hold_expires_at <= ? ORDER BY phone_number LIMIT ?",
            (*params, now, limit),
        ).fetchall()
        return sorted(row[0] for row in free + lapsed)[:limit]

    async def get_number(self, phone_number: str) -> PhoneNumber | None:
        row = self._db.execute(f"SELECT {_NUMBER_COLUMNS} FROM numbers WHERE phone_number = ?", (phone_number,)).fetchone()
        return number_from_row(row) if row else None

    async def owned_numbers(self, owner: str, skip: int, top: int) -> list[PhoneNumber]:
        rows = self._db.execute(
            f"SELECT {_NUMBER_COLUMNS} FROM numbers WHERE owner = ? ORDER BY phone_number LIMIT ? OFFSET ?",
            (owner, top, skip),
        ).fetchall()
        return [number_from_row(row) for row in rows]

    async def set_capabilities(self, phone_number: str, capabilities: Capabilities, cost: Cost, change: Change) -> None:
        where, params = "phone_number = :number AND state = 'purchased'", {"number": phone_number}
        detail = capabilities_detail(capabilities)
        events.record_where(self._db, change, EventKind.CAPABILITIES_UPDATED, "purchased", where, params, detail=detail)
        self._db.execute(
            f"UPDATE numbers SET calling = :calling, sms = :sms, cost = :cost, currency = :currency WHERE {where}",
            {**params, "calling": capabilities.calling.value, "sms": capabilities.sms.value, "cost": cost.amount,
             "currency": cost.currency},
        )

    async def release_number(self, phone_number: str, change: Change, aging_until: float | None) -> None:
        where, params = "phone_number = :number AND state = 'purchased'", {"number": phone_number}
        state = "available" if aging_until is None else "aging"
        events.record_where(self._db, change, EventKind.RELEASED, state, where, params)
        self._db.execute(
            "UPDATE numbers SET state = :state, aging_until = :aging_until, owner = NULL, assignment = NULL,"
            f" calling = NULL, sms = NULL, cost = NULL, currency = NULL, purchased_at = NULL, state_since = NULL WHERE {where}",
            {**params, "state": state, "aging_until": aging_until},
        )

    async def end_aging(self, phone_numbers: Sequence[str], change: Change) -> list[str]:
        ended = []
        for number in sorted(set(phone_numbers)):
            where, params = "phone_number = :number AND state = 'aging'", {"number": number}
            if events.record_where(self._db, change, EventKind.AGING_ENDED, "available", where, params):
                self._db.execute(f"UPDATE numbers SET state = 'available', aging_until = NULL WHERE {where}", params)
                ended.append(number)
        return ended

    # audit trail

    async def record_admin_event(self, event: EventKind | str, change: Change, detail: str | None = None) -> None:
        events.record_admin_event(self._db, EventKind(event).value if isinstance(event, EventKind) else event,
                                  change, detail)

    async def history(self, phone_number: str) -> list[NumberEvent]:
        return events.history(self._db, phone_number)

    async def events_page(
        self, since: float | None, until: float | None, after_id: int, limit: int
    ) -> list[NumberEvent]:
        return events.events_page(self._db, since, until, after_id, limit)

    async def numbers_page(self, where: NumberFilter, after: str, limit: int) -> list[PhoneNumber]:
        sql, args = admin_queries.numbers_page_sql(_NUMBER_COLUMNS, where, after, limit, lambda n: "?")
        return [number_from_row(row) for row in self._db.execute(sql, args).fetchall()]

    async def hourly_activity(self, since: float, hours: int) -> list[HourCount]:
        return [HourCount(*row) for row in self._db.execute(_HOURLY_ACTIVITY, (since, hours)).fetchall()]

    # searches

    async def record_search(self, search: Search, operation: Operation) -> None:
        self.record_searches([(search, operation)])

    def record_searches(self, records: Sequence[SearchRecord]) -> None:
        """Insert searches and their operations: one executemany per table."""
        self._db.executemany(_INSERT_SEARCH, [(*search_to_row(s), json.dumps(s.phone_numbers)) for s, _ in records])
        self._db.executemany(_INSERT_OPERATION, [operation_to_row(operation) for _, operation in records])

    async def get_search(self, search_id: str) -> Search | None:
        row = self._db.execute(
            "SELECT id, resource, country, number_type, assignment, calling, sms, area_code, quantity, cost,"
            " currency, created_at, expires_at, agreement_required, status, error, phone_numbers"
            " FROM searches WHERE id = ?",
            (search_id,),
        ).fetchone()
        if row is None:
            return None
        return search_from_row(row, json.loads(row[-1]))

    async def set_search_status(self, search_id: str, status: str) -> None:
        self._db.execute("UPDATE searches SET status = ? WHERE id = ?", (status, search_id))

    # reservations

    async def insert_reservation(self, reservation: Reservation) -> bool:
        cursor = self._db.execute(
            "INSERT OR IGNORE INTO reservations (id, resource, status, created_at, expires_at, completes_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            reservation_to_row(reservation),
        )
        return cursor.rowcount == 1

    async def get_reservation(self, reservation_id: str) -> Reservation | None:
        row = self._db.execute(
            f"SELECT {_RESERVATION_COLUMNS} FROM reservations WHERE id = ?", (reservation_id,)
        ).fetchone()
        if row is None:
            return None
        reservation = reservation_from_row(row)
        rows = self._db.execute(
            f"SELECT {_RESERVED_COLUMNS} FROM reservation_numbers WHERE reservation_id = ? ORDER BY phone_number",
            (reservation_id,),
        ).fetchall()
        reservation.phone_numbers = [reserved_from_row(r) for r in rows]
        return reservation

    async def list_reservations(self, resource: str, skip: int, top: int) -> list[Reservation]:
        rows = self._db.execute(
            f"SELECT {_RESERVATION_COLUMNS} FROM reservations WHERE resource = ?"
            " ORDER BY created_at, id LIMIT ? OFFSET ?",
            (resource, top, skip),
        ).fetchall()
        return [reservation_from_row(row) for row in rows]

    async def update_reservation(self, reservation: Reservation) -> None:
        expires_at = to_epoch(reservation.expires_at)
        self._db.execute(
            "UPDATE reservations SET status = ?, expires_at = ?, completes_at = ? WHERE id = ?",
            (
                reservation.status,
                expires_at,
                to_epoch(reservation.completes_at) if reservation.completes_at else None,
                reservation.id,
            ),
        )
        self._db.execute(
            "UPDATE numbers SET hold_expires_at = ? WHERE holder = ? AND state = 'reserved'",
            (expires_at, reservation.id),
        )

    async def delete_reservation(self, reservation_id: str) -> None:
        self._db.execute("DELETE FROM reservations WHERE id = ?", (reservation_id,))

    async def lock_free_numbers(self, phone_numbers: Sequence[str], now: float) -> list[PhoneNumber]:
        wanted = sorted(set(phone_numbers))
        found: list[PhoneNumber] = []
        for start in range(0, len(wanted), _BATCH):
            batch = wanted[start : start + _BATCH]
            rows = self._db.execute(
                f"SELECT {_NUMBER_COLUMNS} FROM numbers WHERE phone_number IN ({', '.join('?' * len(batch))})"
                " AND (state = 'available' OR (state IN ('held', 'reserved') AND hold_expires_at <= ?))"
                " ORDER BY phone_number",
                (*batch, now),
            ).fetchall()
            found.extend(number_from_row(row) for row in rows)
        return found

    async def reserve(
        self, reservation_id: str, numbers: Sequence[AvailableNumber], expires_at: float, now: float, change: Change
    ) -> None:
        free = (
            "phone_number = :number"
            " AND (state = 'available' OR (state IN ('held', 'reserved') AND hold_expires_at <= :now))"
        )
        for number in numbers:
            params = {"number": number.phone_number, "now": now}
            events.record_where(self._db, change, EventKind.RESERVED, "reserved", free, params)
            cursor = self._db.execute(
                f"UPDATE numbers SET state = 'reserved', holder = :holder, hold_expires_at = :expires WHERE {free}",
                {**params, "holder": reservation_id, "expires": expires_at},
            )
            if cursor.rowcount != 1:
                raise RuntimeError(
                    f"reserve: {number.phone_number} is not free; reserve what lock_free_numbers returned"
                )
        self._db.executemany(
            f"INSERT INTO reservation_numbers (reservation_id, {_RESERVED_COLUMNS})"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(reservation_id, *reserved_to_row(number)) for number in numbers],
        )

    async def release_reserved(
        self, reservation_id: str, change: Change, event: EventKind, phone_numbers: Sequence[str] | None = None
    ) -> int:
        reserved = "holder = :holder AND state = 'reserved'"
        wheres = (
            [(reserved, {"holder": reservation_id})]
            if phone_numbers is None
            else [(reserved + " AND phone_number = :number", {"holder": reservation_id, "number": n})
                  for n in phone_numbers]
        )
        released = 0
        for where, params in wheres:
            events.record_where(self._db, change, event, "available", where, params)
            released += self._db.execute(
                f"UPDATE numbers SET state = 'available', holder = NULL, hold_expires_at = NULL WHERE {where}", params
            ).rowcount
        return released

    async def remove_from_reservation(self, reservation_id: str, phone_numbers: Sequence[str]) -> None:
        self._db.executemany(
            "DELETE FROM reservation_numbers WHERE reservation_id = ? AND phone_number = ?",
            [(reservation_id, number) for number in phone_numbers],
        )

    async def purchase_reserved(self, reservation_id: str, owner: str, change: Change) -> int:
        events.record_where(
            self._db, change, EventKind.PURCHASED, "purchased",
            "holder = :holder AND state = 'reserved' AND EXISTS (SELECT 1 FROM reservation_numbers rn"
            " WHERE rn.reservation_id = :holder AND rn.phone_number = numbers.phone_number)",
            {"holder": reservation_id},
        )
        cursor = self._db.execute(_PURCHASE_RESERVED, (reservation_id, owner, change.at))
        return cursor.rowcount

    # operations

    async def insert_operation(self, operation: Operation) -> None:
        self._db.execute(_INSERT_OPERATION, operation_to_row(operation))

    async def get_operation(self, operation_id: str) -> Operation | None:
        return _operation(self._db, operation_id)

    async def delete_operation(self, operation_id: str) -> None:
        self._db.execute("DELETE FROM operations WHERE id = ?", (operation_id,))

    async def recent_operations(self, query: OperationQuery) -> list[Operation]:
        sql, params = recent_operations_sql(query)
        return [operation_from_row(row) for row in self._db.execute(sql, params)]


def _operation(db: sqlite3.Connection, operation_id: str) -> Operation | None:
    row = db.execute(f"SELECT {OPERATION_COLUMNS} FROM operations WHERE id = ?", (operation_id,)).fetchone()
    return None if row is None else operation_from_row(row)


_INSERT_SEARCH = (
    "INSERT INTO searches (id, resource, country, number_type, assignment, calling, sms, area_code,"
    " quantity, cost, currency, created_at, expires_at, agreement_required, status, error, phone_numbers)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_OPERATION = f"INSERT INTO operations ({OPERATION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"


_NUMBER_COLUMNS = (
    "phone_number, country, number_type, area_code, state, holder, hold_expires_at, owner, assignment,"
    " calling, sms, cost, currency, purchased_at, aging_until"
)
_BATCH = 500  # host parameters per statement, well under SQLite's limit
_HOURLY_ACTIVITY = admin_queries.hourly_activity_sql("REAL", lambda n: "?")
_RESERVATION_COLUMNS = "id, resource, status, created_at, expires_at, completes_at"
_RESERVED_COLUMNS = "phone_number, country, number_type, assignment, calling, sms, cost, currency, agreement_required"
# Each reserved number is bought under the offering it was reserved with (?1 id, ?2 owner, ?3 now).
_ITS_OFFERING = (
    "(SELECT {} FROM reservation_numbers rn WHERE rn.reservation_id = ?1 AND rn.phone_number = numbers.phone_number)"
)
_PURCHASE_RESERVED = (
    "UPDATE numbers SET state = 'purchased', holder = NULL, hold_expires_at = NULL, owner = ?2, purchased_at = ?3, "
    + ", ".join(f"{c} = {_ITS_OFFERING.format(c)}" for c in ("assignment", "calling", "sms", "cost", "currency"))
    + " WHERE holder = ?1 AND state = 'reserved' AND EXISTS " + _ITS_OFFERING.format("1")
)


class SqliteStore(SqliteTesting):
    # Every other request waits for the load in hand on the one connection: 2,000 numbers take
    # some 30 ms; 10,000 kept requests waiting up to 0.4 s, 500 cost more CPU per number under
    # load (bench/README.md, "An import beside the ACS API").
    background_load_batch = 2_000

    def __init__(self, connection: sqlite3.Connection, path: str = ":memory:") -> None:
        self._db = connection
        self._path = path
        self._commits = GroupCommit(connection)
        self._searches = SqliteSearchBatch(self._commits, SqliteTransaction(connection), self._hold_alone)
        self._checkpointer: WalCheckpointer | None = None

    @classmethod
    async def open(cls, path: str, *, upgrade: bool = True) -> SqliteStore:
        connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        connection.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
        if path != ":memory:":
            connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = NORMAL")
        connection.execute("PRAGMA foreign_keys = ON")
        connection.execute("PRAGMA temp_store = MEMORY")  # savepoint journals of group commits
        store = cls(connection, path)
        if path != ":memory:":
            store._checkpointer = checkpoint_in_background(connection, path)
        if upgrade:
            store.upgrade()
        return store

    def upgrade(self) -> list[int]:
        """Apply the migrations this database lacks; returns the versions applied."""
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL)")
            done = {row[0] for row in db.execute("SELECT version FROM schema_migrations")}
            applied = []
            for migration in migrations("sqlite"):
                if migration.version in done:
                    continue
                for statement in _statements(migration.sql):
                    db.execute(statement)
                db.execute("INSERT INTO schema_migrations VALUES (?, ?)", (migration.version, migration.name))
                applied.append(migration.version)
            db.execute("COMMIT")
            return applied
        except BaseException:
            db.execute("ROLLBACK")
            raise

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqliteTransaction]:
        async with self._commits.transaction():
            yield SqliteTransaction(self._db)

    async def hold_for_search(self, pick: Pick, found: SearchRecord, out_of_stock: OutOfStock) -> list[str]:
        return await self._searches.hold(pick, found, out_of_stock)

    async def _hold_alone(self, pick: Pick, found: SearchRecord, out_of_stock: OutOfStock) -> list[str]:
        """One search in its own savepoint: a batch that failed replays its searches this way."""
        async with self.transaction() as tx:
            return await hold_and_record(tx, pick, found, out_of_stock)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[SqliteTransaction]:
        # Without BEGIN each statement reads the latest committed state; `quiet` commits
        # what other tasks wrote first, so no read sees a change before it is durable.
        async with self._commits.quiet():
            yield SqliteTransaction(self._db)

    async def find_operation(self, operation_id: str) -> Operation | None:
        if self._commits.busy():
            async with self.read() as tx:
                return await tx.get_operation(operation_id)
        # Nobody holds the connection, and this read does not await: what `read()` does, without
        # its lock and context managers.
        self._commits.commit()
        return _operation(self._db, operation_id)

    async def is_empty(self) -> bool:
        async with self._commits.quiet():
            return self._db.execute("SELECT NOT EXISTS (SELECT 1 FROM numbers)").fetchone()[0] == 1

    async def load_catalog(self, countries: Iterable[Country], offerings: Iterable[Offering]) -> None:
        async with self.transaction():
            self._db.executemany(
                "INSERT OR IGNORE INTO countries (code, name, do_not_resell) VALUES (?, ?, ?)",
                [(c.code, c.name, int(c.do_not_resell)) for c in countries],
            )
            self._db.executemany(
                "INSERT OR IGNORE INTO offerings (country, number_type, assignment, calling, sms, cost, currency,"
                " billing_frequency, aging_days) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        o.country, o.number_type.value, o.assignment.value, o.capabilities.calling.value,
                        o.capabilities.sms.value, o.cost.amount, o.cost.currency, o.cost.billing_frequency,
                        o.aging_days,
                    )
                    for o in offerings
                ],
            )

    async def load_numbers(self, locality: Locality, numbers: Sequence[str], change: Change | None = None) -> int:
        async with self.transaction():
            # Look up before inserting: the UNIQUE constraint treats NULLs as distinct, so
            # INSERT OR IGNORE alone would add a town-less locality again on every load.
            found = self._db.execute(
                "SELECT id FROM localities WHERE country = ? AND number_type = ? AND area_code = ?"
                " AND name IS ? AND division_abbr IS ? ORDER BY id LIMIT 1",
                (locality.country, locality.number_type.value, locality.area_code, locality.name, locality.division_abbr),
            ).fetchone()
            if found is not None:
                locality_id = found[0]
            else:
                locality_id = self._db.execute(
                    "INSERT INTO localities (country, number_type, area_code, name, division_abbr, division_name)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        locality.country, locality.number_type.value, locality.area_code, locality.name,
                        locality.division_abbr, locality.division_name,
                    ),
                ).lastrowid
            # The batch counts what it adds itself, without the per-row count trigger (migration 0012):
            # dropped and created again inside this transaction, so no other connection ever
            # sees it missing, and a failed load gets it back with its rollback. Firing it cost
            # the load about 40 % of its rows/s, even when its WHEN clause skipped it.
            trigger = self._db.execute(
                "SELECT sql FROM sqlite_schema WHERE type = 'trigger' AND name = 'numbers_counted_insert'"
            ).fetchone()
            if trigger is not None:
                self._db.execute("DROP TRIGGER numbers_counted_insert")
            # One statement over a JSON array, not an executemany: binding five parameters per
            # row in Python cost more than SQLite's own insert (about 2.5x the rows/s, bench/README).
            added = self._db.execute(
                "INSERT OR IGNORE INTO numbers (phone_number, country, number_type, area_code, locality_id)"
                " SELECT value, ?, ?, ?, ? FROM json_each(?)",
                (locality.country, locality.number_type.value, locality.area_code, locality_id, json.dumps(numbers)),
            ).rowcount
            if trigger is not None:
                self._db.execute(trigger[0])
            self._db.execute(
                "INSERT INTO number_counts (country, number_type, area_code, state, count) VALUES (?, ?, ?, 'available', ?)"
                " ON CONFLICT DO UPDATE SET count = count + excluded.count",
                (locality.country, locality.number_type.value, locality.area_code, added),
            )
            if change is not None and added:
                events.record_admin_event(self._db, EventKind.IMPORTED.value, change, imported_detail(locality, added))
            return added

    async def sweep_expired(self, now: float) -> int:
        async with self.transaction():
            system = Change(now, SYSTEM_ACTOR)
            lapsed, params = "state IN ('held', 'reserved') AND hold_expires_at <= :now", {"now": now}
            events.record_where(self._db, system, EventKind.HOLD_LAPSED, "available", lapsed, params, lapsed=True)
            cursor = self._db.execute(
                f"UPDATE numbers SET state = 'available', holder = NULL, hold_expires_at = NULL WHERE {lapsed}", params
            )
            returned = cursor.rowcount
            aged = "state = 'aging' AND aging_until <= :now"
            events.record_where(self._db, system, EventKind.AGING_ENDED, "available", aged, params)
            returned += self._db.execute(
                f"UPDATE numbers SET state = 'available', aging_until = NULL WHERE {aged}", params
            ).rowcount
            self._db.execute("UPDATE searches SET status = 'expired' WHERE status = 'held' AND expires_at <= ?", (now,))
            self._db.execute(
                "UPDATE reservations SET status = 'expired' WHERE status = 'active' AND expires_at <= ?", (now,)
            )
            self._db.execute(
                "DELETE FROM reservations WHERE created_at <= ? AND status <> 'active'"
                " AND NOT EXISTS (SELECT 1 FROM numbers WHERE holder = reservations.id)",
                (now - RESERVATION_RETENTION_SECONDS,),
            )
            return returned

    async def violations(self) -> list[tuple[str, str]]:
        """Rows of the inventory invariant query; empty when the inventory is consistent."""
        async with self._commits.quiet():
            return [(rule, number) for rule, number in self._db.execute(INVARIANT_SQL).fetchall()]

    async def pending_migrations(self) -> int:
        async with self._commits.quiet():
            applied = {row[0] for row in self._db.execute("SELECT version FROM schema_migrations")}
        return len({m.version for m in migrations("sqlite")} - applied)

    async def clock_offset(self) -> float:
        async with self._commits.quiet():
            return float(self._db.execute("SELECT offset_seconds FROM service_clock WHERE id = 1").fetchone()[0])

    async def advance_clock(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        async with self.transaction():
            row = self._db.execute(
                "UPDATE service_clock SET offset_seconds = offset_seconds + ? WHERE id = 1 RETURNING offset_seconds",
                (float(seconds),),
            ).fetchone()
            return float(row[0])

    async def demo_seed(self) -> tuple[int, bool] | None:
        async with self._commits.quiet():
            row = self._db.execute("SELECT per_area_code, completed_at FROM demo_seed WHERE id = 1").fetchone()
        return None if row is None else (int(row[0]), row[1] is not None)

    async def record_demo_seed(self, per_area_code: int, now: float, *, complete: bool) -> None:
        async with self.transaction():
            self._db.execute(
                "INSERT INTO demo_seed (id, per_area_code, started_at, completed_at) VALUES (1, ?, ?, ?)"
                " ON CONFLICT (id) DO UPDATE SET per_area_code = excluded.per_area_code,"
                " completed_at = excluded.completed_at",
                (per_area_code, now, now if complete else None),
            )

    def inventory(self) -> SqliteInventory:
        """What the operator's inventory commands use (`core.inventory_store.InventoryStore`)."""
        return SqliteInventory(self._db, self._commits)

    def import_jobs(self) -> SqliteImportJobs:
        """The admin API's background inventory imports (`core.import_job_store.ImportJobStore`)."""
        return SqliteImportJobs(self._db, self._commits)

    async def close(self) -> None:
        self._commits.commit()
        if self._checkpointer is not None:
            self._checkpointer.stop()
        self._db.close()


def _statements(sql: str) -> list[str]:
    """The statements of a migration file; `--` comments are dropped first, so they may say anything.
    A trigger's body holds `;` of its own: a statement ends at the `;` that completes it."""
    code = "\n".join(line.split("--", 1)[0] for line in sql.splitlines())
    statements, pending = [], ""
    for piece in code.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n;"):
                statements.append(pending.strip().removesuffix(";"))
            pending = ""
    if pending.strip(" \n;"):
        statements.append(pending.strip().removesuffix(";"))
    return statements
