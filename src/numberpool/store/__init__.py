"""Persistence: one `Store` interface, one module per database engine."""

from numberpool.store.base import Store, Transaction


async def open_store(url: str) -> Store:
    """Open the store named by `url`: `memory`, a SQLite file path or `sqlite:///path`."""
    from numberpool.store.sqlite import SqliteStore

    if url in ("memory", ":memory:", "sqlite://", "sqlite:///:memory:"):
        return await SqliteStore.open(":memory:")
    if url.startswith("sqlite:///"):
        return await SqliteStore.open(url.removeprefix("sqlite:///"))
    if "://" in url:
        scheme = url.split("://", 1)[0]
        raise ValueError(f"unsupported database URL scheme {scheme!r}: use a SQLite file path or 'memory'")
    return await SqliteStore.open(url)


__all__ = ["Store", "Transaction", "open_store"]
