"""The searches of one event-loop turn, collected to be written together (each engine's batch says how).

Under load many searches arrive in the same turn of the event loop. Each is queued here, and
once the tasks already scheduled in that turn have run, the engine's `flush` gets them all.
It answers each search with its numbers (and what to await before telling its client), or
with None: the search then runs alone, by the engine's one-search path.

A search is isolated from the others of its batch without a savepoint of its own: what could
make the batch's statements fail for it (an id another search of the batch also uses) is
checked before writing, and such a search runs alone. A batch whose statements fail anyway
changes nothing, and every search of it runs alone, so one bad search never fails another.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from numberpool.core.model import NumberType
from numberpool.core.storage import OutOfStock, Pick, SearchRecord

HoldAlone = Callable[[Pick, SearchRecord, OutOfStock], Awaitable[list[str]]]
Written = tuple[list[str], "asyncio.Future[None] | None"]
"""A search's numbers, and the commit to await before answering (None: already committed)."""
SliceKey = tuple[str, NumberType, "str | None"]


@dataclass
class Request:
    pick: Pick
    found: SearchRecord
    out_of_stock: OutOfStock
    answer: asyncio.Future[Written | None]

    @property
    def slice(self) -> SliceKey:
        return self.pick.country, self.pick.number_type, self.pick.area_code

    def reply(self, written: Written | None) -> None:
        if not self.answer.done():  # a cancelled request has nobody to answer
            self.answer.set_result(written)


class TurnBatch:
    def __init__(self, hold_alone: HoldAlone) -> None:
        self._hold_alone = hold_alone
        self._pending: list[Request] = []

    async def hold(self, pick: Pick, found: SearchRecord, out_of_stock: OutOfStock) -> list[str]:
        """`Store.hold_for_search`, in the batch of this turn; returns once its search is committed."""
        loop = asyncio.get_running_loop()
        request = Request(pick, found, out_of_stock, loop.create_future())
        self._pending.append(request)
        if len(self._pending) == 1:
            # Every request task already scheduled in this turn runs (and joins the batch) first.
            loop.call_soon(self._flush_turn)
        written = await request.answer
        if written is None:
            return await self._hold_alone(pick, found, out_of_stock)
        numbers, commit = written
        if commit is not None:
            await asyncio.shield(commit)
        return numbers

    def ready(self) -> bool:
        """Whether the batch can be written now (else it is tried again in the next turn)."""
        return True

    def flush(self, batch: list[Request]) -> None:
        """Write the batch and reply to each of its requests."""
        raise NotImplementedError

    def _flush_turn(self) -> None:
        if not self.ready():
            asyncio.get_running_loop().call_soon(self._flush_turn)
            return
        pending, self._pending = self._pending, []
        batch: list[Request] = []
        ids: set[str] = set()
        for request in pending:
            search, operation = request.found
            own = {request.pick.holder, search.id, operation.id}
            if request.answer.done():
                continue
            if request.pick.limit < 1 or own & ids or search.id != request.pick.holder:
                request.reply(None)
            else:
                ids |= own
                batch.append(request)
        if batch:
            self.flush(batch)


def by_slice(batch: list[Request]) -> dict[SliceKey, list[Request]]:
    """The requests of a batch by the slice they pick from, in arrival order."""
    slices: dict[SliceKey, list[Request]] = {}
    for request in batch:
        slices.setdefault(request.slice, []).append(request)
    return slices
