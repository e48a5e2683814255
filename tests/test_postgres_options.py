"""numberpool's own query parameters of a postgresql:// URL (store/postgres_options.py)."""

from __future__ import annotations

import pytest

from numberpool.store.postgres_options import DEFAULT_STATEMENT_CACHE_SIZE, postgres_options
from tests.support import postgres


def test_statement_cache_size_is_taken_out_of_what_asyncpg_sees() -> None:
    options = postgres_options("postgresql://u@h:6432/db?statement_cache_size=0&search_path=tenant_a")
    assert options.statement_cache_size == 0
    assert options.dsn == "postgresql://u@h:6432/db?search_path=tenant_a"
    assert postgres_options("postgresql://u@h/db?statement_cache_size=20").dsn == "postgresql://u@h/db"


def test_a_url_without_it_is_passed_on_unchanged() -> None:
    url = "postgresql://u:p%40ss@h/db?sslmode=disable"
    assert postgres_options(url).dsn == url
    assert postgres_options(url).statement_cache_size == DEFAULT_STATEMENT_CACHE_SIZE


@pytest.mark.parametrize("value", ["off", "-1", "", "1.5"])
def test_a_bad_value_is_named(value: str) -> None:
    with pytest.raises(ValueError, match=f"statement_cache_size must be a whole number.*got {value!r}"):
        postgres_options(f"postgresql://h/db?statement_cache_size={value}")


async def _named_statements(url: str) -> int:
    """How many named prepared statements the store's connection holds after a few reads."""
    from numberpool.store import open_store

    store = await open_store(url, max_size=1)
    try:
        assert await store.is_empty()
        async with store.transaction() as tx:
            assert await tx.countries() == []
        async with store._pool.acquire() as db:  # type: ignore[attr-defined]
            return int(await db.fetchval("SELECT count(*) FROM pg_prepared_statements"))
    finally:
        await store.close()


async def test_without_a_statement_cache_the_store_names_no_prepared_statement() -> None:
    """Direct to PostgreSQL (the PgBouncer topology itself: tests/test_scale_out.py)."""
    url = postgres.create_database()
    try:
        assert await _named_statements(url) > 0  # asyncpg's default: a named statement per query
        assert await _named_statements(url + "?statement_cache_size=0") == 0
    finally:
        postgres.drop_database(url)
