"""Time as the service sees it: UTC, and clocks that tests can move."""

from __future__ import annotations

import math
import time
from datetime import datetime, timezone
from typing import Protocol

# How far one move of the clock may go: enough for any expiry or aging period, and far from overflow.
MAX_ADVANCE_SECONDS = 10 * 366 * 24 * 3600.0


def from_epoch(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


def to_epoch(moment: datetime) -> float:
    return moment.timestamp()


def check_advance(seconds: float) -> float:
    """`seconds` if it is a forward move the clock can make; ValueError otherwise."""
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or not math.isfinite(seconds):
        raise ValueError("the clock moves by a finite number of seconds")
    if seconds < 0:
        raise ValueError("the clock only moves forward")
    if seconds > MAX_ADVANCE_SECONDS:
        raise ValueError(f"the clock moves at most {MAX_ADVANCE_SECONDS:.0f} seconds at once")
    return float(seconds)


class Clock:
    """Wall-clock time plus an offset that can only move forward; this process's own."""

    def __init__(self) -> None:
        self.offset = 0.0

    def epoch(self) -> float:
        return time.time() + self.offset

    def now(self) -> datetime:
        return from_epoch(self.epoch())

    def advance(self, seconds: float) -> None:
        self.offset += check_advance(seconds)

    async def sync(self) -> None:
        """Catch up with time kept elsewhere; a process's own clock has nothing to catch up with."""


class OffsetStore(Protocol):
    """Where a shared clock keeps its offset (the `Store`)."""

    async def clock_offset(self) -> float: ...
    async def advance_clock(self, seconds: float) -> float: ...
    async def clock_state(self) -> tuple[float, int]:
        """(offset, reset generation): a reset may move the offset back to 0, nothing else may."""
        ...


class SharedClock(Clock):
    """Wall-clock time plus an offset kept in the database, so that every process agrees on it.

    The offset is read again when the copy here is older than `max_age` seconds (`sync`, before each
    request and each sweep), and moving the clock in one process moves it in all of them within that
    time. This is the clock of `serve --test-clock`: tests move time instead of sleeping.
    """

    def __init__(self, store: OffsetStore | None = None, max_age: float = 0.2) -> None:
        super().__init__()
        self.store = store
        self.max_age = max_age
        self._synced_at = -math.inf
        self._generation: int | None = None

    async def sync(self, *, force: bool = False) -> None:
        if self.store is None or (not force and time.monotonic() - self._synced_at < self.max_age):
            return
        offset, generation = await self.store.clock_state()
        if generation != self._generation:  # a reset (testing mode) sets the offset back to zero
            self.offset, self._generation = offset, generation
        else:
            self.offset = max(self.offset, offset)  # never backwards, even against a stale read
        self._synced_at = time.monotonic()

    def advance(self, seconds: float) -> None:
        raise TypeError("a shared clock moves through the store: use `await advance_shared(seconds)`")

    async def advance_shared(self, seconds: float) -> float:
        """Move the clock of every process forward by `seconds`; returns the new offset."""
        if self.store is None:
            raise RuntimeError("the shared clock has no store yet")
        self.offset = max(self.offset, await self.store.advance_clock(check_advance(seconds)))
        self._synced_at = time.monotonic()
        return self.offset
