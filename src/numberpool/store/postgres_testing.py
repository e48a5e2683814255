"""Testing mode on PostgreSQL: fault rules, their hits, and the reset (a mixin of `PostgresStore`)."""

from __future__ import annotations

import asyncpg

from numberpool.core.faults import ListedRule, Rule
from numberpool.store.testing_rows import FREE_NUMBER, listed_from_row, rule_to_row

_BUMP_FAULTS = "UPDATE testing_state SET faults_version = faults_version + 1 WHERE id = 1"
# Writers of the rule set take the version row's lock first, so positions never collide.
_LOCK_RULES = "SELECT faults_version FROM testing_state WHERE id = 1 FOR UPDATE"


class PostgresTesting:
    _pool: asyncpg.Pool

    async def faults_version(self) -> int:
        return int(await self._pool.fetchval("SELECT faults_version FROM testing_state WHERE id = 1"))

    async def fault_rules(self) -> tuple[int, list[ListedRule]]:
        async with self._pool.acquire() as db, db.transaction(isolation="repeatable_read", readonly=True):
            version = int(await db.fetchval("SELECT faults_version FROM testing_state WHERE id = 1"))
            rows = await db.fetch("SELECT id, rule, hits, times_left FROM fault_rules ORDER BY position")
        return version, [listed_from_row(*row) for row in rows]

    @staticmethod
    async def _insert(db: asyncpg.Connection, rules: list[Rule]) -> None:
        start = await db.fetchval("SELECT COALESCE(MAX(position), 0) FROM fault_rules")
        await db.executemany(
            "INSERT INTO fault_rules (position, id, resource, rule, times_left) VALUES ($1, $2, $3, $4, $5)",
            [(start + i + 1, *rule_to_row(rule)) for i, rule in enumerate(rules)],
        )
        await db.execute(_BUMP_FAULTS)

    async def replace_fault_rules(self, rules: list[Rule]) -> None:
        async with self._pool.acquire() as db, db.transaction():
            await db.execute(_LOCK_RULES)
            await db.execute("DELETE FROM fault_rules")
            await self._insert(db, rules)

    async def append_fault_rules(self, rules: list[Rule], limit: int) -> bool:
        async with self._pool.acquire() as db, db.transaction():
            await db.execute(_LOCK_RULES)
            if await db.fetchval("SELECT COUNT(*) FROM fault_rules") + len(rules) > limit:
                return False
            await self._insert(db, rules)
            return True

    async def clear_fault_rules(self, resource: str | None = None) -> None:
        async with self._pool.acquire() as db, db.transaction():
            await db.execute(_LOCK_RULES)
            if resource is None:
                await db.execute("DELETE FROM fault_rules")
            else:
                await db.execute("DELETE FROM fault_rules WHERE resource = $1", resource)
            await db.execute(_BUMP_FAULTS)

    async def claim_fault_hit(self, rule_id: str) -> int | None:
        row = await self._pool.fetchrow(
            "UPDATE fault_rules SET hits = hits + 1, times_left = times_left - 1"
            " WHERE id = $1 AND (times_left IS NULL OR times_left > 0) RETURNING times_left",
            rule_id,
        )
        if row is None:
            return None
        return -1 if row[0] is None else int(row[0])

    async def clock_state(self) -> tuple[float, int]:
        """(clock offset, reset generation), read together."""
        row = await self._pool.fetchrow(
            "SELECT c.offset_seconds, t.generation FROM service_clock c, testing_state t WHERE c.id = 1 AND t.id = 1")
        return float(row[0]), int(row[1])

    async def reset_testing(self, resource: str | None = None) -> None:
        """Everything back to the seeded or imported inventory, for every resource or for one."""
        async with self._pool.acquire() as db, db.transaction():
            await db.execute(_LOCK_RULES)
            if resource is None:
                # Each statement by a partial index: only numbers someone holds or owns are touched.
                await db.execute(f"UPDATE numbers SET {FREE_NUMBER} WHERE holder IS NOT NULL")
                await db.execute(f"UPDATE numbers SET {FREE_NUMBER} WHERE owner IS NOT NULL")
                await db.execute(f"UPDATE numbers SET {FREE_NUMBER} WHERE state = 'aging'")  # released numbers resting
                # DELETE, not TRUNCATE: these tables hold a test's few rows, and TRUNCATE's new files
                # cost more than deleting them (measured: a reset took 250 ms with TRUNCATE).
                for table in ("reservation_numbers", "reservations", "searches", "operations", "fault_rules"):
                    await db.execute(f"DELETE FROM {table}")  # noqa: S608 (fixed names)
                await db.execute("UPDATE service_clock SET offset_seconds = 0 WHERE id = 1")
                await db.execute("UPDATE testing_state SET faults_version = faults_version + 1,"
                                 " generation = generation + 1 WHERE id = 1")
                return
            await db.execute(f"UPDATE numbers SET {FREE_NUMBER} WHERE owner = $1", resource)
            for holders in ("searches", "reservations"):
                await db.execute(
                    f"UPDATE numbers SET {FREE_NUMBER} WHERE holder IN (SELECT id FROM {holders} WHERE resource = $1)",
                    resource,
                )
            for table in ("reservations", "searches", "operations", "fault_rules"):
                await db.execute(f"DELETE FROM {table} WHERE resource = $1", resource)
            await db.execute(_BUMP_FAULTS)
