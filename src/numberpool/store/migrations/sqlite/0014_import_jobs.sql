-- Inventory imports run by the admin API in the background (core/import_jobs.py), and the
-- index behind its list of recent operations.
--
-- A job's row is shared by every process: the one that runs it writes its progress and a
-- heartbeat every second or so; any process that reads a running job whose heartbeat is older
-- than core/import_jobs.py STALE_AFTER marks it 'interrupted' (its process died), and the
-- process that ran it, should it still be alive, then stops at its next heartbeat.
CREATE TABLE import_jobs (
    id            TEXT PRIMARY KEY,
    state         TEXT NOT NULL CHECK (state IN ('running', 'succeeded', 'failed', 'interrupted')),
    name          TEXT,
    dry_run       INTEGER NOT NULL,
    header        TEXT NOT NULL,
    bytes_total   INTEGER NOT NULL,
    bytes_read    INTEGER NOT NULL DEFAULT 0,
    rows_read     INTEGER NOT NULL DEFAULT 0,
    added         INTEGER NOT NULL DEFAULT 0,
    present       INTEGER NOT NULL DEFAULT 0,
    rejected      INTEGER NOT NULL DEFAULT 0,
    created_at    REAL NOT NULL,
    heartbeat_at  REAL NOT NULL,
    finished_at   REAL,
    error_code    TEXT,
    error_message TEXT
);
CREATE INDEX import_jobs_recent ON import_jobs (created_at, id);
CREATE INDEX import_jobs_running ON import_jobs (heartbeat_at) WHERE state = 'running';

-- The rejected rows of a job as lines of its rejects CSV (the input columns plus `error`), in order.
CREATE TABLE import_rejects (
    job_id TEXT NOT NULL REFERENCES import_jobs (id) ON DELETE CASCADE,
    seq    INTEGER NOT NULL,
    line   TEXT NOT NULL,
    PRIMARY KEY (job_id, seq)
);

-- The admin API's recent operations, newest first, of all resources or of one.
CREATE INDEX operations_recent ON operations (created_at, id);
CREATE INDEX operations_by_resource ON operations (resource, created_at, id);
