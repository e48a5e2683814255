-- Number aging and the audit trail.
--
-- A released number rests in state 'aging' until `aging_until` (epoch seconds), as long as
-- its offering's `aging_days` says (0: it is for sale again at once). The 0001 CHECK already
-- admits the 'aging' state.
ALTER TABLE offerings ADD COLUMN aging_days INTEGER NOT NULL DEFAULT 0;
ALTER TABLE numbers ADD COLUMN aging_until REAL;
CREATE INDEX numbers_aging ON numbers (aging_until) WHERE state = 'aging';

-- One row per change of a number's state, or per admin action (phone_number NULL), written
-- in the transaction of the change. The service only ever inserts here.
CREATE TABLE number_events (
    id           INTEGER PRIMARY KEY,
    at           REAL NOT NULL,
    event        TEXT NOT NULL,
    phone_number TEXT,
    old_state    TEXT,
    new_state    TEXT,
    resource     TEXT,
    reference    TEXT,
    actor        TEXT NOT NULL,
    detail       TEXT
);
-- A number's history, and the invariant's "latest event of a purchased number". There is no
-- index by time: an export walks the events in id order anyway (ids grow with time), and each
-- index more is one more B-tree insert on every search (measured: bench/README.md).
CREATE INDEX number_events_by_number ON number_events (phone_number, id) WHERE phone_number IS NOT NULL;

-- Numbers bought before the trail began get their purchase recorded, so that every
-- purchased number's latest event is its purchase (store/invariant.py).
INSERT INTO number_events (at, event, phone_number, old_state, new_state, resource, reference, actor, detail)
SELECT COALESCE(purchased_at, 0), 'purchased', phone_number, NULL, 'purchased', owner, NULL, 'system',
       'recorded when the audit trail began (migration 0011)'
  FROM numbers WHERE state = 'purchased' ORDER BY phone_number;
