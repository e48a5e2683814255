-- The twin of sqlite/0003_clock_and_seed.sql: service state that every process on this
-- database shares.

-- The service clock's offset from the wall clock. Only `serve --test-clock` reads or moves it;
-- it stays 0 otherwise. One row, forward only.
CREATE TABLE service_clock (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    offset_seconds DOUBLE PRECISION NOT NULL DEFAULT 0 CHECK (offset_seconds >= 0)
);

INSERT INTO service_clock (id, offset_seconds) VALUES (1, 0);

-- The demo inventory's seeding: recorded before the first number is loaded and completed after
-- the last, so a process stopped half-way is resumed by the next start. No row: never seeded
-- (or seeded before this table existed).
CREATE TABLE demo_seed (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    per_area_code INTEGER NOT NULL CHECK (per_area_code > 0),
    started_at    DOUBLE PRECISION NOT NULL,
    completed_at  DOUBLE PRECISION
);
