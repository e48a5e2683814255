"""The PostgreSQL engine's part of the resource registry's storage (core/resource_registry.py).

A write transaction reads the keyring row FOR UPDATE first (`keys_secret_check`), so resource
changes run one after the other and two processes never record different secret checks.
"""

from __future__ import annotations

import asyncpg

from numberpool.core.model import Change, EventKind
from numberpool.core.resource_registry import StoredResource
from numberpool.store.postgres_events import changing_sql, event_args

_COLUMNS = "id, primary_key, secondary_key, declared, created_at, updated_at"
_NEXT_GENERATION = "UPDATE resource_keyring SET generation = generation + 1 WHERE id = 1"


def _resource(row: asyncpg.Record) -> StoredResource:
    rid, primary, secondary, declared, created_at, updated_at = row
    return StoredResource(rid, bytes(primary), None if secondary is None else bytes(secondary), bool(declared),
                          created_at, updated_at)


class PostgresResourceQueries:
    """Mixed into PostgresTransaction: the same connection, inside its transaction."""

    _db: asyncpg.Connection
    _for_update: str

    async def get_resource(self, resource_id: str) -> StoredResource | None:
        row = await self._db.fetchrow(f"SELECT {_COLUMNS} FROM resources WHERE id = $1{self._for_update}", resource_id)
        return None if row is None else _resource(row)

    async def list_resources(self) -> list[StoredResource]:
        return [_resource(row) for row in await self._db.fetch(f"SELECT {_COLUMNS} FROM resources ORDER BY id")]

    async def insert_resource(self, resource: StoredResource) -> bool:
        status = await self._db.execute(
            f"INSERT INTO resources ({_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING",
            resource.id, resource.primary_key, resource.secondary_key, resource.declared, resource.created_at,
            resource.updated_at,
        )
        inserted = status.endswith(" 1")
        if inserted:
            await self._db.execute(_NEXT_GENERATION)
        return inserted

    async def update_resource(self, resource: StoredResource) -> None:
        await self._db.execute(
            "UPDATE resources SET primary_key = $1, secondary_key = $2, declared = $3, updated_at = $4 WHERE id = $5",
            resource.primary_key, resource.secondary_key, resource.declared, resource.updated_at, resource.id,
        )
        await self._db.execute(_NEXT_GENERATION)

    async def delete_resource(self, resource_id: str, change: Change) -> None:
        db = self._db
        # each event names the number's search or reservation and its resource, as a lapsed hold's does
        await db.execute(
            changing_sql(
                "state IN ('held', 'reserved') AND holder IN"
                " (SELECT id FROM searches WHERE resource = $1 UNION ALL SELECT id FROM reservations WHERE resource = $1)",
                "state = 'available', holder = NULL, hold_expires_at = NULL",
                2, lapsed=True,
            ),
            resource_id,
            *event_args(change, EventKind.HOLD_CANCELLED, "available", lapsed=True),
        )
        await db.execute("DELETE FROM reservations WHERE resource = $1", resource_id)  # their numbers' rows cascade
        await db.execute("DELETE FROM searches WHERE resource = $1", resource_id)
        await db.execute("DELETE FROM operations WHERE resource = $1", resource_id)
        await db.execute("DELETE FROM resources WHERE id = $1", resource_id)
        await db.execute(_NEXT_GENERATION)

    async def resource_usage(self, resource_id: str) -> tuple[int, float | None]:
        owned = await self._db.fetchval("SELECT count(*) FROM numbers WHERE owner = $1", resource_id)
        last = await self._db.fetchval("SELECT max(created_at) FROM operations WHERE resource = $1", resource_id)
        return int(owned), last

    async def owned_counts(self) -> dict[str, int]:
        rows = await self._db.fetch("SELECT owner, count(*) FROM numbers WHERE owner IS NOT NULL GROUP BY owner")
        return {owner: int(count) for owner, count in rows}

    async def resource_generation(self) -> int:
        return int(await self._db.fetchval("SELECT generation FROM resource_keyring WHERE id = 1"))

    async def keys_secret_check(self) -> bytes | None:
        value = await self._db.fetchval(f"SELECT secret_check FROM resource_keyring WHERE id = 1{self._for_update}")
        return None if value is None else bytes(value)

    async def set_keys_secret_check(self, value: bytes) -> None:
        await self._db.execute("UPDATE resource_keyring SET secret_check = $1 WHERE id = 1", value)
