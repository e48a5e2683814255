-- The twin of sqlite/0014_import_jobs.sql: the admin API's background inventory imports
-- (core/import_jobs.py), their rejected rows, and the index of its recent operations.
CREATE TABLE import_jobs (
    id            TEXT PRIMARY KEY,
    state         TEXT NOT NULL CHECK (state IN ('running', 'succeeded', 'failed', 'interrupted')),
    name          TEXT,
    dry_run       BOOLEAN NOT NULL,
    header        TEXT NOT NULL,
    bytes_total   BIGINT NOT NULL,
    bytes_read    BIGINT NOT NULL DEFAULT 0,
    rows_read     BIGINT NOT NULL DEFAULT 0,
    added         BIGINT NOT NULL DEFAULT 0,
    present       BIGINT NOT NULL DEFAULT 0,
    rejected      BIGINT NOT NULL DEFAULT 0,
    created_at    DOUBLE PRECISION NOT NULL,
    heartbeat_at  DOUBLE PRECISION NOT NULL,
    finished_at   DOUBLE PRECISION,
    error_code    TEXT,
    error_message TEXT
);
CREATE INDEX import_jobs_recent ON import_jobs (created_at, id);
CREATE INDEX import_jobs_running ON import_jobs (heartbeat_at) WHERE state = 'running';

-- The rejected rows of a job as lines of its rejects CSV (the input columns plus `error`), in order.
CREATE TABLE import_rejects (
    job_id TEXT NOT NULL REFERENCES import_jobs (id) ON DELETE CASCADE,
    seq    BIGINT NOT NULL,
    line   TEXT NOT NULL,
    PRIMARY KEY (job_id, seq)
);

-- The admin API's recent operations, newest first, of all resources or of one.
CREATE INDEX operations_recent ON operations (created_at, id);
CREATE INDEX operations_by_resource ON operations (resource, created_at, id);
