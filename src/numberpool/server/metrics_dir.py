"""The multiprocess metrics directory of `serve --workers N`, and the bookkeeping of dead workers.

prometheus-client's multiprocess mode keeps each worker's samples in files under
`PROMETHEUS_MULTIPROC_DIR`. The server makes a private directory before any worker starts
(and before prometheus-client is imported), removes it at exit, and marks each worker that
uvicorn replaces as dead, so its live gauges disappear (counters and histograms keep what
the dead worker counted: totals never go down).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator

from uvicorn.supervisors import Multiprocess

ENV = "PROMETHEUS_MULTIPROC_DIR"


@contextlib.contextmanager
def multiprocess_metrics() -> Iterator[str]:
    directory = tempfile.mkdtemp(prefix="numberpool-metrics-")
    previous = os.environ.get(ENV)
    os.environ[ENV] = directory
    try:
        yield directory
    finally:
        if previous is None:
            os.environ.pop(ENV, None)
        else:
            os.environ[ENV] = previous
        shutil.rmtree(directory, ignore_errors=True)


class MetricsMultiprocess(Multiprocess):
    """uvicorn's worker supervisor, marking each worker it replaces as dead in the metrics directory."""

    def keep_subprocess_alive(self) -> None:
        before = self._pids()
        super().keep_subprocess_alive()
        self._mark_dead(before - self._pids())

    def restart_all(self) -> None:
        before = self._pids()
        super().restart_all()
        self._mark_dead(before - self._pids())

    def _pids(self) -> set[int]:
        return {process.pid for process in self.processes if process.pid is not None}

    @staticmethod
    def _mark_dead(pids: set[int]) -> None:
        if pids:
            from prometheus_client.multiprocess import mark_process_dead

            for pid in pids:
                mark_process_dead(pid)
