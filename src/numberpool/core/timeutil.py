"""Time as the service sees it: UTC, and a clock that tests can move."""

from __future__ import annotations

import time
from datetime import datetime, timezone


def from_epoch(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


def to_epoch(moment: datetime) -> float:
    return moment.timestamp()


class Clock:
    """Wall-clock time plus an offset that can only move forward."""

    def __init__(self) -> None:
        self.offset = 0.0

    def epoch(self) -> float:
        return time.time() + self.offset

    def now(self) -> datetime:
        return from_epoch(self.epoch())

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self.offset += seconds
