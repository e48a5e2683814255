-- Testing mode (`serve --testing`): fault rules, shared by every process on this database.

-- The rules in the order they are tried (position). `rule` is the validated rule as JSON;
-- `times_left` counts down the hits a rule with `times` has left (NULL: no limit), and a rule at
-- 0 no longer matches but stays listed with its hits until the rules are replaced or cleared.
CREATE TABLE fault_rules (
    position   INTEGER PRIMARY KEY,
    id         TEXT NOT NULL UNIQUE,
    resource   TEXT,
    rule       TEXT NOT NULL,
    hits       INTEGER NOT NULL DEFAULT 0 CHECK (hits >= 0),
    times_left INTEGER CHECK (times_left >= 0)
);

-- One row: `faults_version` grows with every change to the rule set (not with hits), so a
-- process reads one number to learn whether its copy of the rules is current; `generation`
-- grows with every reset, so a process accepts the clock offset going back to zero.
CREATE TABLE testing_state (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    faults_version INTEGER NOT NULL DEFAULT 0,
    generation     INTEGER NOT NULL DEFAULT 0
);

INSERT INTO testing_state (id, faults_version, generation) VALUES (1, 0, 0);
