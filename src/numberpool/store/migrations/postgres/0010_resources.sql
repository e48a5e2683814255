-- The twin of sqlite/0010_resources.sql: resources (tenants) and their sealed access keys.

CREATE TABLE resources (
    id            TEXT PRIMARY KEY,
    primary_key   BYTEA NOT NULL,
    secondary_key BYTEA,
    declared      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    DOUBLE PRECISION NOT NULL,
    updated_at    DOUBLE PRECISION NOT NULL
);

CREATE TABLE resource_keyring (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    generation   BIGINT NOT NULL DEFAULT 0,
    secret_check BYTEA
);

INSERT INTO resource_keyring (id, generation) VALUES (1, 0);
