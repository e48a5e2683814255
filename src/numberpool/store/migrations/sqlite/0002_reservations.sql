-- Reservations (api-version 2025-04-01 and later): numbers a resource sets aside to buy
-- later. A reserved number has state 'reserved', holder = the reservation id and
-- hold_expires_at = the reservation's expiry, so a lapsed reservation frees its numbers
-- exactly as a lapsed search hold does.

CREATE TABLE reservations (
    id           TEXT PRIMARY KEY,
    resource     TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('active', 'expired', 'completed')),
    created_at   REAL NOT NULL,
    expires_at   REAL NOT NULL,
    completes_at REAL,
    CHECK ((status = 'completed') = (completes_at IS NOT NULL))
);

CREATE INDEX reservations_by_resource ON reservations (resource, created_at, id);
CREATE INDEX reservations_active ON reservations (expires_at) WHERE status = 'active';

-- The numbers of a reservation and the offering each was reserved under. Rows stay
-- after the reservation expires or is purchased: they are its history.
CREATE TABLE reservation_numbers (
    reservation_id     TEXT NOT NULL REFERENCES reservations (id) ON DELETE CASCADE,
    phone_number       TEXT NOT NULL,
    country            TEXT NOT NULL,
    number_type        TEXT NOT NULL,
    assignment         TEXT NOT NULL,
    calling            TEXT NOT NULL,
    sms                TEXT NOT NULL,
    cost               REAL NOT NULL,
    currency           TEXT NOT NULL,
    agreement_required INTEGER NOT NULL,
    PRIMARY KEY (reservation_id, phone_number)
) WITHOUT ROWID;

CREATE INDEX numbers_reserved_lapsing ON numbers (hold_expires_at) WHERE state = 'reserved';
