-- Operator inventory (issue 11): the terminal state `withdrawn`, and `state_since`, when a
-- number entered its state as far as the inventory commands know it (set by import and
-- withdraw, cleared by a release; a purchase has purchased_at). SQLite cannot change a
-- CHECK constraint in place, so the numbers table is rebuilt with the same columns, checks
-- and indexes: a one-off copy (about 10 s per million numbers).

CREATE TABLE numbers_0008 (
    phone_number    TEXT PRIMARY KEY,
    country         TEXT NOT NULL,
    number_type     TEXT NOT NULL,
    area_code       TEXT NOT NULL,
    locality_id     INTEGER REFERENCES localities (id),
    state           TEXT NOT NULL DEFAULT 'available'
                    CHECK (state IN ('available', 'held', 'reserved', 'purchased', 'aging', 'withdrawn')),
    holder          TEXT,
    hold_expires_at REAL,
    owner           TEXT,
    assignment      TEXT,
    calling         TEXT,
    sms             TEXT,
    cost            REAL,
    currency        TEXT,
    purchased_at    REAL,
    state_since     REAL,
    CHECK ((state IN ('held', 'reserved')) = (holder IS NOT NULL)),
    CHECK ((state = 'purchased') = (owner IS NOT NULL))
) WITHOUT ROWID;

INSERT INTO numbers_0008 (phone_number, country, number_type, area_code, locality_id, state, holder,
                          hold_expires_at, owner, assignment, calling, sms, cost, currency, purchased_at)
SELECT phone_number, country, number_type, area_code, locality_id, state, holder,
       hold_expires_at, owner, assignment, calling, sms, cost, currency, purchased_at
  FROM numbers;

DROP TABLE numbers;
ALTER TABLE numbers_0008 RENAME TO numbers;

CREATE INDEX numbers_owned ON numbers (owner, phone_number) WHERE owner IS NOT NULL;
CREATE INDEX numbers_held ON numbers (holder) WHERE holder IS NOT NULL;
CREATE INDEX numbers_reserved_lapsing ON numbers (hold_expires_at) WHERE state = 'reserved';
CREATE INDEX numbers_free_by_type ON numbers (country, number_type, state, area_code, phone_number);
CREATE INDEX numbers_lapsed_by_type ON numbers (country, number_type, state, hold_expires_at)
    WHERE state IN ('held', 'reserved');
CREATE INDEX numbers_lapsed_by_area ON numbers (country, number_type, area_code, state, hold_expires_at)
    WHERE state IN ('held', 'reserved');
