"""Checkpointing the SQLite write-ahead log off the request path, and keeping the log short.

SQLite's automatic checkpoint runs inside whichever commit crosses the threshold,
so one request in a few hundred pays for copying the log back into the database
and syncing it. With `wal_autocheckpoint = 0` on the serving connection, this
thread does that work instead: PASSIVE checkpoints on its own connection, which
never block readers or writers.

A log is rewound (written again from its start) only by a writer whose transaction
began with every frame of it copied back. Under steady writes the serving connection
is inside a transaction nearly all the time (a group commit per event-loop turn), so a
PASSIVE pass, however complete, almost never ends between two of them: the log was never
rewound and grew without bound (about 23 MiB a second under search load, bench/README.md),
until the disk filled. So each round is a PASSIVE pass, which copies the bulk without blocking
anyone, then a RESTART checkpoint: it waits for the writer's transaction to end, copies
what came since the pass while new writers wait (a short stall of the serving thread,
once a round), and leaves the log to be rewound by the next writer.
`journal_size_limit` (on the serving connection) then gives the file's space back.
"""

from __future__ import annotations

import logging
import sqlite3
import threading

log = logging.getLogger("numberpool.store")

CHECKPOINT_SECONDS = 1.0
WAIT_MS = 50
"""How long a round's RESTART checkpoint waits for the writer, or for readers of the log, before
it gives up until the next round (new writers wait meanwhile)."""
JOURNAL_SIZE_LIMIT = 64 * 2**20
"""Bytes of log file kept once the log is rewound (`PRAGMA journal_size_limit`)."""


class WalCheckpointer:
    def __init__(self, path: str, every: float = CHECKPOINT_SECONDS) -> None:
        self._path = path
        self._every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqlite-wal-checkpoint", daemon=True)
        self.rounds_caught_up = 0
        """Rounds that ended with the whole log copied back (for tests)."""

    def start(self) -> WalCheckpointer:
        self._thread.start()
        return self

    def _run(self) -> None:
        connection = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        connection.execute(f"PRAGMA busy_timeout = {WAIT_MS}")
        try:
            while not self._stop.wait(self._every):
                self.checkpoint(connection)
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            connection.close()

    def checkpoint(self, connection: sqlite3.Connection) -> bool:
        """One round; True when the whole log was copied back and the next writer rewinds it."""
        try:
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
            busy, frames, copied = connection.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()
        except sqlite3.Error:  # locked: the next round tries again
            log.debug("WAL checkpoint skipped", exc_info=True)
            return False
        if busy or copied < frames:
            return False
        self.rounds_caught_up += 1
        return True

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


def checkpoint_in_background(connection: sqlite3.Connection, path: str) -> WalCheckpointer:
    """Hand the checkpoints of `connection`, the serving connection of the database at `path`,
    to a new checkpointer thread: no automatic checkpoint in its commits, and the log file cut
    back to `JOURNAL_SIZE_LIMIT` when rewound."""
    connection.execute("PRAGMA wal_autocheckpoint = 0")
    connection.execute(f"PRAGMA journal_size_limit = {JOURNAL_SIZE_LIMIT}")
    return WalCheckpointer(path).start()
