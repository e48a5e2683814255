-- Times are seconds since the epoch (UTC) as REAL.

CREATE TABLE countries (
    code          TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    do_not_resell INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE offerings (
    id                INTEGER PRIMARY KEY,
    country           TEXT NOT NULL REFERENCES countries (code),
    number_type       TEXT NOT NULL,
    assignment        TEXT NOT NULL,
    calling           TEXT NOT NULL,
    sms               TEXT NOT NULL,
    cost              REAL NOT NULL,
    currency          TEXT NOT NULL,
    billing_frequency TEXT NOT NULL DEFAULT 'monthly',
    UNIQUE (country, number_type, assignment, calling, sms)
);

CREATE TABLE localities (
    id            INTEGER PRIMARY KEY,
    country       TEXT NOT NULL,
    number_type   TEXT NOT NULL,
    area_code     TEXT NOT NULL,
    name          TEXT,
    division_abbr TEXT,
    division_name TEXT,
    UNIQUE (country, number_type, area_code, name, division_abbr)
);

CREATE TABLE numbers (
    phone_number    TEXT PRIMARY KEY,
    country         TEXT NOT NULL,
    number_type     TEXT NOT NULL,
    area_code       TEXT NOT NULL,
    locality_id     INTEGER REFERENCES localities (id),
    state           TEXT NOT NULL DEFAULT 'available'
                    CHECK (state IN ('available', 'held', 'reserved', 'purchased', 'aging')),
    holder          TEXT,
    hold_expires_at REAL,
    owner           TEXT,
    assignment      TEXT,
    calling         TEXT,
    sms             TEXT,
    cost            REAL,
    currency        TEXT,
    purchased_at    REAL,
    CHECK ((state IN ('held', 'reserved')) = (holder IS NOT NULL)),
    CHECK ((state = 'purchased') = (owner IS NOT NULL))
) WITHOUT ROWID;

CREATE INDEX numbers_free ON numbers (country, number_type, area_code, state, phone_number);
CREATE INDEX numbers_owned ON numbers (owner, phone_number) WHERE owner IS NOT NULL;
CREATE INDEX numbers_held ON numbers (holder) WHERE holder IS NOT NULL;

CREATE TABLE searches (
    id                 TEXT PRIMARY KEY,
    resource           TEXT NOT NULL,
    country            TEXT NOT NULL,
    number_type        TEXT NOT NULL,
    assignment         TEXT NOT NULL,
    calling            TEXT NOT NULL,
    sms                TEXT NOT NULL,
    area_code          TEXT,
    quantity           INTEGER NOT NULL,
    cost               REAL NOT NULL,
    currency           TEXT NOT NULL,
    created_at         REAL NOT NULL,
    expires_at         REAL NOT NULL,
    agreement_required INTEGER NOT NULL,
    status             TEXT NOT NULL,
    error              TEXT NOT NULL,
    phone_numbers      TEXT NOT NULL
);

CREATE INDEX searches_held ON searches (expires_at) WHERE status = 'held';

CREATE TABLE operations (
    id                TEXT PRIMARY KEY,
    resource          TEXT NOT NULL,
    operation_type    TEXT NOT NULL,
    outcome           TEXT NOT NULL,
    created_at        REAL NOT NULL,
    completes_at      REAL NOT NULL,
    resource_location TEXT,
    error_code        TEXT,
    error_message     TEXT
);
