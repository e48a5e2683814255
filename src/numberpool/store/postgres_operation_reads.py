"""GETs of operations in one event-loop turn, answered by one PostgreSQL statement.

Clients poll their long-running operations, so under load many `GET /phoneNumbers/operations/{id}`
arrive in the same turn. Each is queued here; once the tasks already scheduled in that turn have
run, one pooled connection fetches all of them (`id = ANY($1)`), where each would otherwise take
a connection from the pool and a round trip of its own. A failed fetch fails every request of
the batch with its error, as the same failure would have failed each alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from numberpool.core.model import Operation
from numberpool.store.rows import OPERATION_COLUMNS, operation_from_row

FetchMany = Callable[[list[str]], Awaitable[Sequence[Any]]]

SELECT_OPERATIONS = f"SELECT {OPERATION_COLUMNS} FROM operations WHERE id = ANY($1::text[])"


class OperationReads:
    def __init__(self, fetch_many: FetchMany) -> None:
        self._fetch_many = fetch_many
        self._waiting: dict[str, list[asyncio.Future[Operation | None]]] = {}

    async def get(self, operation_id: str) -> Operation | None:
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[Operation | None] = loop.create_future()
        if not self._waiting:
            # Every request task already scheduled in this turn runs (and joins the batch) first.
            loop.call_soon(self._fetch_turn)
        self._waiting.setdefault(operation_id, []).append(answer)
        return await answer

    def _fetch_turn(self) -> None:
        waiting, self._waiting = self._waiting, {}
        asyncio.get_running_loop().create_task(self._fetch(waiting))

    async def _fetch(self, waiting: dict[str, list[asyncio.Future[Operation | None]]]) -> None:
        try:
            rows = await self._fetch_many(list(waiting))
        except asyncio.CancelledError:  # the server is stopping
            for answers in waiting.values():
                for answer in answers:
                    answer.cancel()
            raise
        except Exception as exc:  # each waiting request gets the failure, as it would alone
            for answers in waiting.values():
                for answer in answers:
                    if not answer.done():
                        answer.set_exception(exc)
            return
        found = {operation.id: operation for operation in map(operation_from_row, rows)}
        for operation_id, answers in waiting.items():
            for answer in answers:
                if not answer.done():  # a cancelled request has nobody to answer
                    answer.set_result(found.get(operation_id))
