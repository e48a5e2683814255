-- Resources (tenants) and their access keys, managed at run time (`numberpool resource ...`,
-- the admin API) as well as declared at start (`--resource`, `--config`).

-- Keys are sealed (AES-256-GCM under the keys secret, core/key_sealing.py): a copy of the
-- database alone does not hand them out. A resource declared with one key has no secondary
-- until one is rotated in.
CREATE TABLE resources (
    id            TEXT PRIMARY KEY,
    primary_key   BLOB NOT NULL,
    secondary_key BLOB,
    declared      INTEGER NOT NULL DEFAULT 0,
    created_at    REAL NOT NULL,
    updated_at    REAL NOT NULL
);

-- One row. `generation` moves on with every change to `resources`, so each process's key cache
-- reads one integer to learn whether it is stale. `secret_check` is a value sealed with the keys
-- secret when the first key was stored: a process with another secret is told so at start
-- instead of failing every signature.
CREATE TABLE resource_keyring (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    generation   INTEGER NOT NULL DEFAULT 0,
    secret_check BLOB
);

INSERT INTO resource_keyring (id, generation) VALUES (1, 0);
