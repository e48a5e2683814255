"""Batched searches on SQLite: the searches of one event-loop turn are held and recorded by a few statements.

Run one by one, each search pays its own statements and a savepoint of the group commit
(`sqlite_group_commit.py`). Here the searches of a turn (`search_batch.py`) are written
together, in one savepoint of the open group commit: one `SELECT` of available numbers and
one `UPDATE` per distinct slice (country, type, area code), then one insert each for the
events, searches and operations of the whole batch. The numbers of a slice go to its
searches in arrival order, each taking up to its quantity, which is what running them one
after the other would give. If the statements fail, the savepoint is undone and each search
runs alone in its own. Nobody is answered before the commit that holds their search.
"""

from __future__ import annotations

from typing import Protocol

from numberpool.core.model import NumberType
from numberpool.core.storage import Pick, SearchRecord, search_record
from numberpool.store.search_batch import HoldAlone, Request, TurnBatch, by_slice
from numberpool.store.sqlite_group_commit import GroupCommit


class BatchWriter(Protocol):
    """The statements a batch runs (`SqliteTransaction`'s)."""

    def available(self, country: str, number_type: NumberType, area_code: str | None, limit: int) -> list[str]: ...
    def return_lapsed(self, country: str, number_type: NumberType, area_code: str | None, now: float) -> int: ...
    def hold(self, picked: list[tuple[Pick, list[str]]]) -> None: ...
    def record_held(self, picked: list[tuple[Pick, list[str]]]) -> None: ...
    def record_searches(self, records: list[SearchRecord]) -> None: ...


class SqliteSearchBatch(TurnBatch):
    def __init__(self, commits: GroupCommit, writer: BatchWriter, hold_alone: HoldAlone) -> None:
        super().__init__(hold_alone)
        self._commits = commits
        self._writer = writer

    def ready(self) -> bool:
        return not self._commits.busy()  # a transaction is between statements: write after it

    def flush(self, batch: list[Request]) -> None:
        try:
            numbers, commit = self._commits.write_now(lambda _: self._write(batch))
        except Exception:  # undone: each search runs alone and fails, if at all, by itself
            for request in batch:
                request.reply(None)
            return
        for request, held in zip(batch, numbers):
            request.reply((held, commit))

    def _write(self, batch: list[Request]) -> list[list[str]]:
        writer = self._writer
        numbers: dict[int, list[str]] = {}
        # Slice by slice, picked then held, so a later slice that overlaps (one without an
        # area code, another with) no longer sees the numbers an earlier one took.
        for (country, number_type, area_code), members in by_slice(batch).items():
            wanted = sum(r.pick.limit for r in members)
            picked = writer.available(country, number_type, area_code, wanted)
            now = min(r.pick.now for r in members)
            if len(picked) < wanted and writer.return_lapsed(country, number_type, area_code, now):
                picked = writer.available(country, number_type, area_code, wanted)
            start = 0
            for request in members:
                numbers[id(request)] = picked[start:start + request.pick.limit]
                start += request.pick.limit
            writer.hold([(r.pick, numbers[id(r)]) for r in members])
        held = [numbers[id(r)] for r in batch]
        writer.record_held([(r.pick, h) for r, h in zip(batch, held)])
        writer.record_searches([search_record(h, r.found, r.out_of_stock) for r, h in zip(batch, held)])
        return held
