"""The SQLite write-ahead log stays short under steady writes (store/sqlite_wal.py).

A writer that is inside a transaction nearly all the time (the serving connection under load:
a group commit per event-loop turn) never lets a PASSIVE checkpoint rewind the log; before the
RESTART round, the log of a server under search load grew by about 23 MiB a second, without
bound (bench/README.md).
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from numberpool.store.sqlite_wal import WalCheckpointer

ROW = b"x" * 1000


def _writer(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = NORMAL")
    connection.execute("PRAGMA wal_autocheckpoint = 0")  # as the store: checkpoints are the thread's
    connection.execute("PRAGMA journal_size_limit = 0")  # a rewound log gives its space back at once
    connection.execute("CREATE TABLE rows (id INTEGER PRIMARY KEY, payload BLOB NOT NULL)")
    return connection


def test_a_writer_almost_always_in_a_transaction_still_gets_its_log_rewound(tmp_path: Path) -> None:
    path = tmp_path / "busy.db"
    writer = _writer(path)
    checkpointer = WalCheckpointer(str(path), every=0.05).start()
    written = 0
    largest_log = 0
    try:
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            writer.execute("BEGIN IMMEDIATE")
            writer.executemany("INSERT INTO rows (payload) VALUES (?)", [(ROW,)] * 20)
            time.sleep(0.002)  # the rest of the turn, with the transaction open
            writer.execute("COMMIT")
            written += 20 * len(ROW)
            largest_log = max(largest_log, (tmp_path / "busy.db-wal").stat().st_size)
            time.sleep(0.0005)  # between two turns
    finally:
        checkpointer.stop()
        writer.close()
    assert checkpointer.rounds_caught_up >= 3
    assert written >= 8 * 2**20, written  # enough written for a log that is never rewound to show it
    assert largest_log < written / 4, (largest_log, written)
    with sqlite3.connect(path) as reader:  # and nothing was lost on the way
        assert reader.execute("SELECT count(*) FROM rows").fetchone()[0] == written // len(ROW)
