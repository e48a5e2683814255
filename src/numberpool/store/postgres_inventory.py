"""The PostgreSQL side of the operator's inventory commands (`core.inventory_store.InventoryStore`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

import asyncpg

from numberpool.core.inventory_store import CatalogChange, ExportFilter, ExportRow, ReportRow
from numberpool.core.model import (
    AssignmentType, Capabilities, Change, Cost, Country, Direction, EventKind, NumberType, Offering,
)
from numberpool.store import postgres_events as events
from numberpool.store.number_counts import COUNTS_SQL
from numberpool.store.rows import export_query

_EXPORT_BATCH = 10_000


class PostgresInventory:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def catalog(self) -> tuple[list[Country], list[Offering]]:
        async with self._pool.acquire() as db:
            countries = [
                Country(code, name, bool(dnr))
                for code, name, dnr in await db.fetch("SELECT code, name, do_not_resell FROM countries ORDER BY code")
            ]
            offerings = [
                Offering(c, NumberType(t), AssignmentType(a), Capabilities(Direction(ca), Direction(s)), Cost(cost, cur, f),
                         aging)
                for c, t, a, ca, s, cost, cur, f, aging in await db.fetch(
                    "SELECT country, number_type, assignment, calling, sms, cost, currency, billing_frequency,"
                    " aging_days FROM offerings ORDER BY id"
                )
            ]
        return countries, offerings

    async def available_count(self, country: str, number_type: NumberType) -> int:
        return await self._pool.fetchval(
            "SELECT count(*) FROM numbers WHERE country = $1 AND number_type = $2 AND state = 'available'",
            country, number_type.value,
        )

    async def countries_with_numbers(self) -> set[str]:
        rows = await self._pool.fetch(
            "SELECT code FROM countries c WHERE EXISTS (SELECT 1 FROM numbers n WHERE n.country = c.code)"
        )
        return {row[0] for row in rows}

    async def apply_catalog(self, change: CatalogChange) -> None:
        async with self._pool.acquire() as db, db.transaction():
            await db.executemany(
                "INSERT INTO countries (code, name, do_not_resell) VALUES ($1, $2, $3)"
                " ON CONFLICT (code) DO UPDATE SET name = excluded.name, do_not_resell = excluded.do_not_resell",
                [(c.code, c.name, bool(c.do_not_resell)) for c in change.upsert_countries],
            )
            await db.executemany(
                "DELETE FROM offerings WHERE country = $1 AND number_type = $2 AND assignment = $3 AND calling = $4"
                " AND sms = $5",
                [_key(o) for o in change.remove_offerings],
            )
            await db.executemany(
                "INSERT INTO offerings (country, number_type, assignment, calling, sms, cost, currency,"
                " billing_frequency, aging_days) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
                " ON CONFLICT (country, number_type, assignment, calling, sms) DO UPDATE SET cost = excluded.cost,"
                " currency = excluded.currency, billing_frequency = excluded.billing_frequency,"
                " aging_days = excluded.aging_days",
                [(*_key(o), float(o.cost.amount), o.cost.currency, o.cost.billing_frequency, o.aging_days)
                 for o in change.upsert_offerings],
            )
            await db.executemany("DELETE FROM countries WHERE code = $1", [(code,) for code in change.remove_countries])
            if change.recorded is not None:
                await events.record_admin_event(db, EventKind.CATALOG_IMPORTED.value, change.recorded, change.detail)

    async def present(self, numbers: Sequence[str]) -> int:
        return await self._pool.fetchval(
            "SELECT count(*) FROM numbers WHERE phone_number = ANY($1::text[])", list(dict.fromkeys(numbers))
        )

    async def withdraw(self, numbers: Sequence[str], change: Change) -> dict[str, str | None]:
        wanted = sorted(set(numbers))
        before: dict[str, str | None] = dict.fromkeys(numbers)
        async with self._pool.acquire() as db, db.transaction():
            # Locked in number order, as every other writer of several numbers does.
            rows = await db.fetch(
                "SELECT phone_number, state FROM numbers WHERE phone_number = ANY($1::text[])"
                " ORDER BY phone_number FOR UPDATE",
                wanted,
            )
            for number, state in rows:
                before[number] = state
            await db.execute(
                events.changing_sql("phone_number = ANY($1::text[]) AND state = 'available'",
                                    "state = 'withdrawn', state_since = $2", 3),
                wanted, float(change.at), *events.event_args(change, EventKind.WITHDRAWN, "withdrawn"),
            )
        return before

    async def export(self, where: ExportFilter) -> AsyncIterator[list[ExportRow]]:
        sql, params = export_query(where, lambda n: f"${n}")
        # A server-side cursor: the rows stream from the database, never all in memory.
        async with self._pool.acquire() as db, db.transaction():
            cursor = await db.cursor(sql, *params)
            while rows := await cursor.fetch(_EXPORT_BATCH):
                yield [tuple(row) for row in rows]

    async def report(self) -> list[ReportRow]:
        return [tuple(row) for row in await self._pool.fetch(COUNTS_SQL)]


def _key(o: Offering) -> tuple[str, str, str, str, str]:
    return o.country, o.number_type.value, o.assignment.value, o.capabilities.calling.value, o.capabilities.sms.value
