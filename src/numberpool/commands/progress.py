"""Progress of a long command on stderr: a `rich` bar on a terminal, plain periodic lines otherwise."""

from __future__ import annotations

import sys
import time
from types import TracebackType

from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

PLAIN_EVERY_SECONDS = 5.0


class ImportProgress:
    """Rows per second and time left, from rows and bytes read out of a file of `total_bytes`."""

    def __init__(self, label: str, total_bytes: int | None) -> None:
        self._label = label
        self._total = total_bytes or None
        self._started = time.monotonic()
        self._last_line = self._started
        self._bar: Progress | None = None
        self._task = None
        if sys.stderr.isatty():
            self._bar = Progress(
                TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[rows]} rows"),
                TextColumn("{task.fields[rate]} rows/s"), TimeRemainingColumn(), transient=True,
            )

    def __enter__(self) -> ImportProgress:
        if self._bar is not None:
            self._bar.start()
            self._task = self._bar.add_task(self._label, total=self._total, rows=0, rate=0)
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        if self._bar is not None:
            self._bar.stop()

    def __call__(self, rows: int, bytes_read: int) -> None:
        now = time.monotonic()
        rate = int(rows / max(now - self._started, 1e-9))
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, completed=bytes_read, rows=f"{rows:,}", rate=f"{rate:,}")
            return
        if now - self._last_line >= PLAIN_EVERY_SECONDS:
            self._last_line = now
            share = f" ({100 * bytes_read / self._total:.0f} %)" if self._total else ""
            print(f"numberpool: {self._label}: {rows:,} rows{share}, {rate:,} rows/s", file=sys.stderr, flush=True)
