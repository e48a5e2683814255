"""The options numberpool reads from a postgresql:// URL's query string itself.

asyncpg sends every query parameter it does not know to the server as a session setting
(`?search_path=tenant_a`), so the ones meant for numberpool are taken out here first.

`statement_cache_size=0` is for a connection pooler in transaction mode (PgBouncer before
1.21 with `pool_mode = transaction`): the server connection behind a client connection
changes between transactions, so a named prepared statement that asyncpg prepared and
cached on one server connection "does not exist" (or "already exists") on the next. With
it, asyncpg names and caches no statement: each one is parsed unnamed, described and
executed before the server reports itself idle (asyncpg sends Flush, not Sync, after the
Parse), so the pooler keeps the same server connection for all of it. Everything else the
store does already suits transaction pooling: no session state (its SET and advisory lock
are transaction-scoped, the pool resets nothing), migrations run in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

STATEMENT_CACHE_SIZE = "statement_cache_size"
DEFAULT_STATEMENT_CACHE_SIZE = 100  # asyncpg's own default


@dataclass(frozen=True)
class PostgresOptions:
    dsn: str
    """The URL without numberpool's own parameters: what asyncpg connects to."""
    statement_cache_size: int = DEFAULT_STATEMENT_CACHE_SIZE


def postgres_options(url: str) -> PostgresOptions:
    """Split `url` into what asyncpg takes and numberpool's options; ValueError names a bad one."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    ours = [value for name, value in query if name == STATEMENT_CACHE_SIZE]
    if not ours:
        return PostgresOptions(url)
    value = ours[-1]
    if not value.isdigit():
        raise ValueError(
            f"database URL: {STATEMENT_CACHE_SIZE} must be a whole number, 0 or more (0 behind PgBouncer in"
            f" transaction mode), got {value!r}"
        )
    rest = urlencode([(name, v) for name, v in query if name != STATEMENT_CACHE_SIZE])
    return PostgresOptions(urlunsplit(parts._replace(query=rest)), statement_cache_size=int(value))
