"""Batched searches on PostgreSQL: the searches of one turn and slice are picked and held by one statement.

Each search alone is already one statement (`_hold_and_record_sql`); the searches of one
event-loop turn (`search_batch.py`) that pick from the same slice (country, type, area code)
share one instead (`_hold_and_record_many_sql`: the requests as arrays, `unnest`ed, the
numbers picked `FOR UPDATE SKIP LOCKED` and dealt out in arrival order). That statement
commits on its own, so each search is answered once it returns. When the slice has too few
numbers for all of them, or the statement fails, it changes nothing and each search runs alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from numberpool.core.storage import Pick, SearchRecord
from numberpool.store.search_batch import HoldAlone, Request, TurnBatch, by_slice

HoldMany = Callable[[Sequence[Pick], Sequence[SearchRecord]], Awaitable["dict[str, list[str]] | None"]]


class PostgresSearchBatch(TurnBatch):
    def __init__(self, hold_many: HoldMany, hold_alone: HoldAlone) -> None:
        super().__init__(hold_alone)
        self._hold_many = hold_many
        self._running: set[asyncio.Task[None]] = set()

    def flush(self, batch: list[Request]) -> None:
        for members in by_slice(batch).values():
            if len(members) == 1:
                members[0].reply(None)  # the one-search statement
                continue
            task = asyncio.get_running_loop().create_task(self._write(members))
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    async def _write(self, members: list[Request]) -> None:
        try:
            held = await self._hold_many([r.pick for r in members], [r.found for r in members])
        except Exception:  # nothing changed: each search runs alone and fails, if at all, by itself
            held = None
        for request in members:
            request.reply(None if held is None else (held[request.pick.holder], None))
