"""Persistence: one `Store` interface, one module per database engine."""

from __future__ import annotations

from typing import Any

from numberpool.core.storage import Store, Transaction

_POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres_url(url: str) -> bool:
    return url.startswith(_POSTGRES_SCHEMES)


def _sqlite_path(url: str) -> str:
    if url in ("memory", ":memory:", "sqlite://", "sqlite:///:memory:"):
        return ":memory:"
    if url.startswith("sqlite:///"):
        return url.removeprefix("sqlite:///")
    if "://" in url:
        scheme = url.split("://", 1)[0]
        raise ValueError(
            f"unsupported database URL scheme {scheme!r}: use a SQLite file path, 'memory' or a postgresql:// URL"
        )
    return url


async def _open(url: str, *, upgrade: bool, min_size: int | None, max_size: int | None) -> Any:
    if is_postgres_url(url):
        from numberpool.store.postgres import DEFAULT_MAX_POOL_SIZE, DEFAULT_MIN_POOL_SIZE, PostgresStore

        return await PostgresStore.open(
            url,
            min_size=DEFAULT_MIN_POOL_SIZE if min_size is None else min_size,
            max_size=DEFAULT_MAX_POOL_SIZE if max_size is None else max_size,
            upgrade=upgrade,
        )
    from numberpool.store.sqlite import SqliteStore

    return await SqliteStore.open(_sqlite_path(url), upgrade=upgrade)


async def open_store(url: str, *, min_size: int | None = None, max_size: int | None = None) -> Store:
    """Open the store named by `url`, applying any pending migrations.

    `memory`, a SQLite file path or `sqlite:///path`; or `postgresql://...` /
    `postgres://...` for PostgreSQL, whose connection pool is `min_size`..`max_size`
    connections (default 1..10; ignored by SQLite).
    """
    return await _open(url, upgrade=True, min_size=min_size, max_size=max_size)


async def upgrade(url: str) -> list[int]:
    """Apply the migrations the database at `url` lacks (either engine); returns the versions applied."""
    store = await _open(url, upgrade=False, min_size=1, max_size=1)
    try:
        if is_postgres_url(url):
            return await store.upgrade()
        return store.upgrade()
    finally:
        await store.close()


__all__ = ["Store", "Transaction", "is_postgres_url", "open_store", "upgrade"]
