"""The SQLite engine's part of the resource registry's storage (core/resource_registry.py)."""

from __future__ import annotations

import sqlite3

from numberpool.core.model import Change, EventKind
from numberpool.core.resource_registry import StoredResource
from numberpool.store import sqlite_events as events

_COLUMNS = "id, primary_key, secondary_key, declared, created_at, updated_at"
_NEXT_GENERATION = "UPDATE resource_keyring SET generation = generation + 1 WHERE id = 1"


def _resource(row: tuple) -> StoredResource:
    rid, primary, secondary, declared, created_at, updated_at = row
    return StoredResource(rid, bytes(primary), None if secondary is None else bytes(secondary), bool(declared),
                          created_at, updated_at)


class SqliteResourceQueries:
    """Mixed into SqliteTransaction: the same connection, inside its transaction."""

    _db: sqlite3.Connection

    async def get_resource(self, resource_id: str) -> StoredResource | None:
        row = self._db.execute(f"SELECT {_COLUMNS} FROM resources WHERE id = ?", (resource_id,)).fetchone()
        return None if row is None else _resource(row)

    async def list_resources(self) -> list[StoredResource]:
        return [_resource(row) for row in self._db.execute(f"SELECT {_COLUMNS} FROM resources ORDER BY id")]

    async def insert_resource(self, resource: StoredResource) -> bool:
        cursor = self._db.execute(
            f"INSERT OR IGNORE INTO resources ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
            (resource.id, resource.primary_key, resource.secondary_key, int(resource.declared), resource.created_at,
             resource.updated_at),
        )
        if cursor.rowcount == 1:
            self._db.execute(_NEXT_GENERATION)
        return cursor.rowcount == 1

    async def update_resource(self, resource: StoredResource) -> None:
        self._db.execute(
            "UPDATE resources SET primary_key = ?, secondary_key = ?, declared = ?, updated_at = ? WHERE id = ?",
            (resource.primary_key, resource.secondary_key, int(resource.declared), resource.updated_at, resource.id),
        )
        self._db.execute(_NEXT_GENERATION)

    async def delete_resource(self, resource_id: str, change: Change) -> None:
        db = self._db
        where = (
            "state IN ('held', 'reserved') AND holder IN (SELECT id FROM searches WHERE resource = :resource"
            " UNION ALL SELECT id FROM reservations WHERE resource = :resource)"
        )
        params = {"resource": resource_id}
        # each event names the number's search or reservation and its resource, as a lapsed hold's does
        events.record_where(db, change, EventKind.HOLD_CANCELLED, "available", where, params, lapsed=True)
        db.execute(f"UPDATE numbers SET state = 'available', holder = NULL, hold_expires_at = NULL WHERE {where}", params)
        db.execute("DELETE FROM reservations WHERE resource = ?", (resource_id,))  # their numbers' rows cascade
        db.execute("DELETE FROM searches WHERE resource = ?", (resource_id,))
        db.execute("DELETE FROM operations WHERE resource = ?", (resource_id,))
        db.execute("DELETE FROM resources WHERE id = ?", (resource_id,))
        db.execute(_NEXT_GENERATION)

    async def resource_usage(self, resource_id: str) -> tuple[int, float | None]:
        owned = self._db.execute("SELECT count(*) FROM numbers WHERE owner = ?", (resource_id,)).fetchone()[0]
        last = self._db.execute("SELECT max(created_at) FROM operations WHERE resource = ?", (resource_id,)).fetchone()[0]
        return int(owned), last

    async def owned_counts(self) -> dict[str, int]:
        rows = self._db.execute("SELECT owner, count(*) FROM numbers WHERE owner IS NOT NULL GROUP BY owner")
        return {owner: int(count) for owner, count in rows}

    async def resource_generation(self) -> int:
        return int(self._db.execute("SELECT generation FROM resource_keyring WHERE id = 1").fetchone()[0])

    async def keys_secret_check(self) -> bytes | None:
        value = self._db.execute("SELECT secret_check FROM resource_keyring WHERE id = 1").fetchone()[0]
        return None if value is None else bytes(value)

    async def set_keys_secret_check(self, value: bytes) -> None:
        self._db.execute("UPDATE resource_keyring SET secret_check = ? WHERE id = 1", (value,))
