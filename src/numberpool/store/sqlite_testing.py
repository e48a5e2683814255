"""Testing mode on SQLite: fault rules, their hits, and the reset (a mixin of `SqliteStore`)."""

from __future__ import annotations

import sqlite3

from numberpool.core.faults import ListedRule, Rule
from numberpool.store.sqlite_group_commit import GroupCommit
from numberpool.store.testing_rows import FREE_NUMBER, listed_from_row, rule_to_row

_BUMP_FAULTS = "UPDATE testing_state SET faults_version = faults_version + 1 WHERE id = 1"


class SqliteTesting:
    _db: sqlite3.Connection
    _commits: GroupCommit

    async def faults_version(self) -> int:
        async with self._commits.quiet():
            return int(self._db.execute("SELECT faults_version FROM testing_state WHERE id = 1").fetchone()[0])

    async def fault_rules(self) -> tuple[int, list[ListedRule]]:
        async with self._commits.quiet():
            self._db.execute("BEGIN")  # the version and the rules of one moment
            try:
                version = int(self._db.execute("SELECT faults_version FROM testing_state WHERE id = 1").fetchone()[0])
                rows = self._db.execute(
                    "SELECT id, rule, hits, times_left FROM fault_rules ORDER BY position").fetchall()
            finally:
                self._db.execute("COMMIT")
        return version, [listed_from_row(*row) for row in rows]

    def _insert(self, rules: list[Rule]) -> None:
        start = self._db.execute("SELECT COALESCE(MAX(position), 0) FROM fault_rules").fetchone()[0]
        self._db.executemany(
            "INSERT INTO fault_rules (position, id, resource, rule, times_left) VALUES (?, ?, ?, ?, ?)",
            [(start + i + 1, *rule_to_row(rule)) for i, rule in enumerate(rules)],
        )
        self._db.execute(_BUMP_FAULTS)

    async def replace_fault_rules(self, rules: list[Rule]) -> None:
        async with self._commits.transaction():
            self._db.execute("DELETE FROM fault_rules")
            self._insert(rules)

    async def append_fault_rules(self, rules: list[Rule], limit: int) -> bool:
        async with self._commits.transaction():
            if self._db.execute("SELECT COUNT(*) FROM fault_rules").fetchone()[0] + len(rules) > limit:
                return False
            self._insert(rules)
            return True

    async def clear_fault_rules(self, resource: str | None = None) -> None:
        async with self._commits.transaction():
            if resource is None:
                self._db.execute("DELETE FROM fault_rules")
            else:
                self._db.execute("DELETE FROM fault_rules WHERE resource = ?", (resource,))
            self._db.execute(_BUMP_FAULTS)

    async def claim_fault_hit(self, rule_id: str) -> int | None:
        async with self._commits.transaction():
            row = self._db.execute(
                "UPDATE fault_rules SET hits = hits + 1, times_left = times_left - 1"
                " WHERE id = ? AND (times_left IS NULL OR times_left > 0) RETURNING times_left",
                (rule_id,),
            ).fetchone()
        if row is None:
            return None
        return -1 if row[0] is None else int(row[0])

    async def clock_state(self) -> tuple[float, int]:
        """(clock offset, reset generation), read together."""
        async with self._commits.quiet():
            row = self._db.execute(
                "SELECT c.offset_seconds, t.generation FROM service_clock c, testing_state t"
                " WHERE c.id = 1 AND t.id = 1").fetchone()
        return float(row[0]), int(row[1])

    async def reset_testing(self, resource: str | None = None) -> None:
        """Everything back to the seeded or imported inventory, for every resource or for one."""
        db = self._db
        async with self._commits.transaction():
            if resource is None:
                # Each statement by a partial index: only numbers someone holds or owns are touched.
                db.execute(f"UPDATE numbers SET {FREE_NUMBER} WHERE holder IS NOT NULL")
                db.execute(f"UPDATE numbers SET {FREE_NUMBER} WHERE owner IS NOT NULL")
                db.execute(f"UPDATE numbers SET {FREE_NUMBER} WHERE state = 'aging'")  # released numbers resting
                for table in ("reservation_numbers", "reservations", "searches", "operations", "fault_rules"):
                    db.execute(f"DELETE FROM {table}")  # noqa: S608 (fixed names)
                db.execute("UPDATE service_clock SET offset_seconds = 0 WHERE id = 1")
                db.execute("UPDATE testing_state SET faults_version = faults_version + 1,"
                           " generation = generation + 1 WHERE id = 1")
                return
            db.execute(f"UPDATE numbers SET {FREE_NUMBER} WHERE owner = ?", (resource,))
            for holders in ("searches", "reservations"):
                db.execute(
                    f"UPDATE numbers SET {FREE_NUMBER} WHERE holder IN (SELECT id FROM {holders} WHERE resource = ?)",
                    (resource,),
                )
            for table in ("reservations", "searches", "operations", "fault_rules"):
                db.execute(f"DELETE FROM {table} WHERE resource = ?", (resource,))
            db.execute(_BUMP_FAULTS)
