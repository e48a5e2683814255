"""Checkpointing the SQLite write-ahead log off the request path.

SQLite's automatic checkpoint runs inside whichever commit crosses the threshold,
so one request in a few hundred pays for copying the log back into the database
and syncing it. With `wal_autocheckpoint = 0` on the serving connection, this
thread does that work instead: a PASSIVE checkpoint on its own connection, which
never blocks readers or writers.
"""

from __future__ import annotations

import logging
import sqlite3
import threading

log = logging.getLogger("numberpool.store")

CHECKPOINT_SECONDS = 1.0


class WalCheckpointer:
    def __init__(self, path: str, every: float = CHECKPOINT_SECONDS) -> None:
        self._path = path
        self._every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqlite-wal-checkpoint", daemon=True)

    def start(self) -> WalCheckpointer:
        self._thread.start()
        return self

    def _run(self) -> None:
        connection = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        try:
            while not self._stop.wait(self._every):
                try:
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except sqlite3.Error:  # busy or locked: the next round tries again
                    log.debug("WAL checkpoint skipped", exc_info=True)
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            connection.close()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
