-- The PostgreSQL twin of sqlite/0002_reservations.sql: same tables, columns,
-- constraints and indexes.

CREATE TABLE reservations (
    id           TEXT PRIMARY KEY,
    resource     TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('active', 'expired', 'completed')),
    created_at   DOUBLE PRECISION NOT NULL,
    expires_at   DOUBLE PRECISION NOT NULL,
    completes_at DOUBLE PRECISION,
    CONSTRAINT reservations_completes_iff_completed CHECK ((status = 'completed') = (completes_at IS NOT NULL))
);

CREATE INDEX reservations_by_resource ON reservations (resource, created_at, id);
CREATE INDEX reservations_active ON reservations (expires_at) WHERE status = 'active';

CREATE TABLE reservation_numbers (
    reservation_id     TEXT NOT NULL REFERENCES reservations (id) ON DELETE CASCADE,
    phone_number       TEXT COLLATE "C" NOT NULL,
    country            TEXT COLLATE "C" NOT NULL,
    number_type        TEXT NOT NULL,
    assignment         TEXT NOT NULL,
    calling            TEXT NOT NULL,
    sms                TEXT NOT NULL,
    cost               DOUBLE PRECISION NOT NULL,
    currency           TEXT NOT NULL,
    agreement_required BOOLEAN NOT NULL,
    PRIMARY KEY (reservation_id, phone_number)
);

CREATE INDEX numbers_reserved_lapsing ON numbers (hold_expires_at) WHERE state = 'reserved';
