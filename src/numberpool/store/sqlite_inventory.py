"""The SQLite side of the operator's inventory commands (`core.inventory_store.InventoryStore`)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator, Sequence

from numberpool.core.inventory_store import CatalogChange, ExportFilter, ExportRow, ReportRow
from numberpool.core.model import (
    AssignmentType, Capabilities, Change, Cost, Country, Direction, EventKind, NumberType, Offering,
)
from numberpool.store import sqlite_events as events
from numberpool.store.number_counts import COUNTS_SQL
from numberpool.store.sqlite_group_commit import GroupCommit
from numberpool.store.rows import export_query

_BATCH = 500  # host parameters per statement, well under SQLite's limit
_EXPORT_BATCH = 10_000


class SqliteInventory:
    def __init__(self, connection: sqlite3.Connection, commits: GroupCommit) -> None:
        self._db = connection
        self._commits = commits

    async def catalog(self) -> tuple[list[Country], list[Offering]]:
        async with self._commits.quiet():
            countries = [
                Country(code, name, bool(dnr))
                for code, name, dnr in self._db.execute("SELECT code, name, do_not_resell FROM countries ORDER BY code")
            ]
            offerings = [
                Offering(c, NumberType(t), AssignmentType(a), Capabilities(Direction(ca), Direction(s)), Cost(cost, cur, f),
                         aging)
                for c, t, a, ca, s, cost, cur, f, aging in self._db.execute(
                    "SELECT country, number_type, assignment, calling, sms, cost, currency, billing_frequency,"
                    " aging_days FROM offerings ORDER BY id"
                )
            ]
        return countries, offerings

    async def available_count(self, country: str, number_type: NumberType) -> int:
        async with self._commits.quiet():
            return self._db.execute(
                "SELECT count(*) FROM numbers WHERE country = ? AND number_type = ? AND state = 'available'",
                (country, number_type.value),
            ).fetchone()[0]

    async def countries_with_numbers(self) -> set[str]:
        async with self._commits.quiet():
            # One index probe per catalog country rather than a scan of every number.
            return {
                code
                for (code,) in self._db.execute(
                    "SELECT code FROM countries c WHERE EXISTS (SELECT 1 FROM numbers n WHERE n.country = c.code)"
                )
            }

    async def apply_catalog(self, change: CatalogChange) -> None:
        async with self._commits.transaction():
            self._db.executemany(
                "INSERT INTO countries (code, name, do_not_resell) VALUES (?, ?, ?)"
                " ON CONFLICT (code) DO UPDATE SET name = excluded.name, do_not_resell = excluded.do_not_resell",
                [(c.code, c.name, int(c.do_not_resell)) for c in change.upsert_countries],
            )
            self._db.executemany(
                "DELETE FROM offerings WHERE country = ? AND number_type = ? AND assignment = ? AND calling = ?"
                " AND sms = ?",
                [_key(o) for o in change.remove_offerings],
            )
            self._db.executemany(
                "INSERT INTO offerings (country, number_type, assignment, calling, sms, cost, currency,"
                " billing_frequency, aging_days) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (country, number_type, assignment, calling, sms) DO UPDATE SET cost = excluded.cost,"
                " currency = excluded.currency, billing_frequency = excluded.billing_frequency,"
                " aging_days = excluded.aging_days",
                [(*_key(o), o.cost.amount, o.cost.currency, o.cost.billing_frequency, o.aging_days)
                 for o in change.upsert_offerings],
            )
            self._db.executemany("DELETE FROM countries WHERE code = ?", [(code,) for code in change.remove_countries])
            if change.recorded is not None:
                events.record_admin_event(self._db, EventKind.CATALOG_IMPORTED.value, change.recorded, change.detail)

    async def present(self, numbers: Sequence[str]) -> int:
        async with self._commits.quiet():
            return self._db.execute(
                "SELECT count(*) FROM numbers WHERE phone_number IN (SELECT value FROM json_each(?))",
                (json.dumps(numbers),),
            ).fetchone()[0]

    async def withdraw(self, numbers: Sequence[str], change: Change) -> dict[str, str | None]:
        wanted = list(dict.fromkeys(numbers))
        before: dict[str, str | None] = dict.fromkeys(wanted)
        async with self._commits.transaction():
            for start in range(0, len(wanted), _BATCH):
                batch = wanted[start : start + _BATCH]
                marks = ", ".join("?" * len(batch))
                for number, state in self._db.execute(
                    f"SELECT phone_number, state FROM numbers WHERE phone_number IN ({marks})", batch
                ):
                    before[number] = state
                where = f"phone_number IN ({marks}) AND state = 'available'"
                events.record_numbers(self._db, change, EventKind.WITHDRAWN, "available", "withdrawn",
                                      [number for number in batch if before[number] == "available"])
                self._db.execute(f"UPDATE numbers SET state = 'withdrawn', state_since = ? WHERE {where}",
                                 (change.at, *batch))
        return before

    async def export(self, where: ExportFilter) -> AsyncIterator[list[ExportRow]]:
        sql, params = export_query(where, lambda n: "?", page=_EXPORT_BATCH)
        # A page at a time after the last number sent: the connection is free between pages, so a
        # server streaming an export to a slow client goes on answering everyone else.
        while True:
            async with self._commits.quiet():
                rows = self._db.execute(sql, params).fetchall()
            if rows:
                yield rows
            if len(rows) < _EXPORT_BATCH:
                return
            params[0] = rows[-1][0]

    async def report(self) -> list[ReportRow]:
        async with self._commits.quiet():
            return self._db.execute(COUNTS_SQL).fetchall()


def _key(o: Offering) -> tuple[str, str, str, str, str]:
    return o.country, o.number_type.value, o.assignment.value, o.capabilities.calling.value, o.capabilities.sms.value
