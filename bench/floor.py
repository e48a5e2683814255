"""The floor: the work numberpool's signed `POST :search` and `GET` of an operation cannot skip, and nothing else.

The ceiling (`bench/ceiling.py`) answers with no work at all. This app does, per request, only
what the answer needs, the cheapest way known, on numberpool's own schema (a database that
`numberpool` created and loaded):

- the HMAC-SHA256 check of the signed request, and of the body's hash;
- a search: its JSON body read; its number picked and held, its `held` event, its search and its
  operation rows written, all the searches of one event-loop turn together, one commit per turn
  (SQLite, with the WAL checkpointed off the request path as numberpool does) or one statement
  per turn (PostgreSQL);
- a GET: the operation's row read (on PostgreSQL the reads of one turn in one statement) and its
  JSON written;
- the response headers numberpool sends (ids, `api-supported-versions`, the locations).

No api-version, validation, routing table, error shapes, logging, metrics, fault hooks or
domain objects. So `floor ÷ ceiling` bounds what numberpool itself can reach on this machine;
numberpool's own cost above the floor is what its code adds (bench/README.md).

Served by uvicorn like the ceiling, with `NUMBERPOOL_FLOOR_DATABASE` (a SQLite path or a
`postgresql://` URL) and `NUMBERPOOL_FLOOR_KEY` (the access key, base64) in the environment.
It assumes well-formed signed requests from the benchmark: anything else fails loudly.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import json
import os
import sqlite3
import time
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

from numberpool.api.auth import content_hash, sign
from numberpool.api.versions import ACCEPTED
from numberpool.core.unique_ids import UNIQUE_IDS
from numberpool.store.sqlite_wal import checkpoint_in_background

HOLD_SECONDS = 3.0
_SLICE = "country = 'US' AND number_type = 'geographic'"
_EXPOSE = (b"access-control-expose-headers", b"Location,Operation-Location,operation-id,search-id")
_VERSIONS = (b"api-supported-versions", ", ".join(ACCEPTED).encode())
_JSON = (b"content-type", b"application/json; charset=utf-8")


def _verify(method: str, path_and_query: str, headers: dict[bytes, bytes], body: bytes, key: bytes) -> None:
    _, _, params = headers[b"authorization"].decode().partition(" ")
    fields = dict(part.partition("=")[::2] for part in params.split("&"))
    if not hmac.compare_digest(headers[b"x-ms-content-sha256"].decode(), content_hash(body)):
        raise PermissionError("body hash")
    parsedate_to_datetime(headers[b"x-ms-date"].decode())  # the skew check reads the date
    signed = ";".join(headers[name.encode()].decode() for name in fields["SignedHeaders"].split(";"))
    expected = sign(key, f"{method}\n{path_and_query}\n{signed}")  # numberpool's own HMAC and body hash
    if not hmac.compare_digest(expected, base64.b64decode(fields["Signature"])):
        raise PermissionError("signature")


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat()


class _Turn:
    """Requests of one event-loop turn, written or read together at its end."""

    def __init__(self, run: Any) -> None:
        self._run = run
        self._items: list[str] = []
        self._done: asyncio.Future[Any] | None = None

    async def join(self, item: str) -> Any:
        self._items.append(item)
        if self._done is None:
            loop = asyncio.get_running_loop()
            self._done = loop.create_future()
            loop.call_soon(self._flush)
        return await asyncio.shield(self._done)

    def _flush(self) -> None:
        items, done = self._items, self._done
        self._items, self._done = [], None
        assert done is not None
        if asyncio.iscoroutinefunction(self._run):
            task = asyncio.get_running_loop().create_task(self._run(items))
            task.add_done_callback(lambda t: done.set_exception(t.exception()) if t.exception()
                                   else done.set_result(t.result()))
            return
        try:
            done.set_result(self._run(items))
        except Exception as error:
            done.set_exception(error)


class _SqliteFloor:
    def __init__(self, path: str) -> None:
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA synchronous = NORMAL")
        self._checkpointer = checkpoint_in_background(self._db, path)
        self.searches = _Turn(self._hold)

    def _hold(self, holders: list[str]) -> None:
        now = time.time()
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            picked = self._available(len(holders))
            if len(picked) < len(holders):  # holds that lapsed go back, as numberpool's sweep would
                db.execute(f"UPDATE numbers SET state = 'available', holder = NULL, hold_expires_at = NULL"
                           f" WHERE {_SLICE} AND state = 'held' AND hold_expires_at <= ?", (now,))
                picked = self._available(len(holders))
            rows = list(zip(holders, picked))
            db.executemany("UPDATE numbers SET state = 'held', holder = ?, hold_expires_at = ? WHERE phone_number = ?",
                           [(holder, now + HOLD_SECONDS, number) for holder, number in rows])
            db.executemany(
                "INSERT INTO number_events (at, event, phone_number, old_state, new_state, resource, reference, actor)"
                " VALUES (?, 'held', ?, 'available', 'held', 'floor', ?, 'floor')",
                [(now, number, holder) for holder, number in rows])
            db.executemany(
                "INSERT INTO searches (id, resource, country, number_type, assignment, calling, sms, area_code,"
                " quantity, cost, currency, created_at, expires_at, agreement_required, status, error, phone_numbers)"
                " VALUES (?, 'floor', 'US', 'geographic', 'application', 'inbound+outbound', 'none', NULL, 1, 1.0,"
                " 'USD', ?, ?, 0, 'held', '', ?)",
                [(holder, now, now + HOLD_SECONDS, json.dumps([number])) for holder, number in rows])
            db.executemany(
                "INSERT INTO operations (id, resource, operation_type, outcome, created_at, completes_at,"
                " resource_location) VALUES (?, 'floor', 'search', 'succeeded', ?, ?, ?)",
                [("search_" + holder, now, now, _result_path(holder)) for holder, _ in rows])
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def _available(self, limit: int) -> list[str]:
        return [row[0] for row in self._db.execute(
            f"SELECT phone_number FROM numbers WHERE {_SLICE} AND state = 'available'"
            " ORDER BY area_code, phone_number LIMIT ?", (limit,))]

    async def operation(self, operation_id: str) -> tuple[Any, ...]:
        return self._db.execute(
            "SELECT id, operation_type, created_at, resource_location FROM operations WHERE id = ?", (operation_id,)
        ).fetchone()


class _PostgresFloor:
    def __init__(self, url: str) -> None:
        self._url = url
        self._pool: Any = None
        self.searches = _Turn(self._hold)
        self._reads = _Turn(self._read)

    async def start(self) -> None:
        import asyncpg

        self._pool = await asyncpg.create_pool(self._url, min_size=2, max_size=10)

    async def _hold(self, holders: list[str]) -> None:
        now = time.time()
        unmet = await self._hold_some(holders, now)
        if unmet:  # holds that lapsed go back, as numberpool's sweep would
            await self._pool.execute(f"UPDATE numbers SET state = 'available', holder = NULL, hold_expires_at = NULL"
                                     f" WHERE {_SLICE} AND state = 'held' AND hold_expires_at <= $1", now)
            await self._hold_some(unmet, now)

    async def _hold_some(self, holders: list[str], now: float) -> list[str]:
        rows = await self._pool.fetch(_PG_HOLD, holders, len(holders), now, now + HOLD_SECONDS,
                                      [_result_path(h) for h in holders])
        held = {row[0] for row in rows}
        return [h for h in holders if h not in held]

    async def _read(self, ids: list[str]) -> dict[str, tuple[Any, ...]]:
        rows = await self._pool.fetch(
            "SELECT id, operation_type, created_at, resource_location FROM operations WHERE id = ANY($1)", ids)
        return {row[0]: tuple(row) for row in rows}

    async def operation(self, operation_id: str) -> tuple[Any, ...]:
        return (await self._reads.join(operation_id))[operation_id]


# One statement per turn: the turn's searches pick, hold and record their numbers, one each.
_PG_HOLD = f"""
WITH requests AS (SELECT * FROM unnest($1::text[], $5::text[]) WITH ORDINALITY AS r (holder, location, k)),
picked AS (SELECT phone_number, row_number() OVER (ORDER BY area_code, phone_number) AS k
           FROM (SELECT area_code, phone_number FROM numbers WHERE {_SLICE} AND state = 'available'
                 ORDER BY area_code, phone_number LIMIT $2 FOR UPDATE SKIP LOCKED) free),
held AS (UPDATE numbers SET state = 'held', holder = r.holder, hold_expires_at = $4
         FROM picked p JOIN requests r ON r.k = p.k WHERE numbers.phone_number = p.phone_number
         RETURNING numbers.phone_number, numbers.holder, r.location),
events AS (INSERT INTO number_events (at, event, phone_number, old_state, new_state, resource, reference, actor)
           SELECT $3, 'held', phone_number, 'available', 'held', 'floor', holder, 'floor' FROM held),
search AS (INSERT INTO searches (id, resource, country, number_type, assignment, calling, sms, area_code, quantity,
           cost, currency, created_at, expires_at, agreement_required, status, error, phone_numbers)
           SELECT holder, 'floor', 'US', 'geographic', 'application', 'inbound+outbound', 'none', NULL, 1, 1.0, 'USD',
           $3, $4, false, 'held', '', ARRAY[phone_number] FROM held),
operation AS (INSERT INTO operations (id, resource, operation_type, outcome, created_at, completes_at,
              resource_location) SELECT 'search_' || holder, 'floor', 'search', 'succeeded', $3, $3, location FROM held)
SELECT holder FROM held
"""


def _result_path(search_id: str) -> str:
    return f"/availablePhoneNumbers/searchResults/{search_id}?api-version=2025-06-01"


class Floor:
    """The ASGI app."""

    def __init__(self, database: str, key: str) -> None:
        self._key = base64.b64decode(key)
        self._store: Any = _PostgresFloor(database) if database.startswith("postgres") else _SqliteFloor(database)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        query = scope["query_string"].decode()
        _verify(scope["method"], f"{scope['raw_path'].decode()}?{query}", dict(scope["headers"]), body, self._key)
        request_id = UNIQUE_IDS.next_uuid().encode()
        ids = [_VERSIONS, (b"x-ms-request-id", request_id), (b"ms-cv", request_id[:22] + b".0")]
        if scope["method"] == "POST":
            json.loads(body)
            search_id = UNIQUE_IDS.next_uuid()
            await self._store.searches.join(search_id)
            found = search_id.encode()
            headers = [
                _EXPOSE, (b"content-length", b"0"), *ids,
                (b"location", _result_path(search_id).encode()),
                (b"operation-location", b"/phoneNumbers/operations/search_" + found + b"?" + query.encode()),
                (b"operation-id", b"search_" + found), (b"search-id", found),
            ]
            await send({"type": "http.response.start", "status": 202, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        operation_id, operation_type, created_at, location = await self._store.operation(scope["path"].rsplit("/", 1)[1])
        out = json.dumps({
            "operationType": operation_type, "status": "succeeded", "resourceLocation": location,
            "createdDateTime": _iso(created_at), "id": operation_id, "lastActionDateTime": _iso(created_at),
        }, separators=(",", ":")).encode()
        headers = [(b"location", location.encode()), (b"access-control-expose-headers", b"Location"),
                   (b"content-length", str(len(out)).encode()), _JSON, *ids]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": out})

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                if isinstance(self._store, _PostgresFloor):
                    await self._store.start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return


def app() -> Floor:
    """uvicorn's factory (`--factory`)."""
    return Floor(os.environ["NUMBERPOOL_FLOOR_DATABASE"], os.environ["NUMBERPOOL_FLOOR_KEY"])
