-- Maintained inventory counts (issues 11 and 14): how many numbers each country, type, area code
-- and state has, kept exact by the database itself on every write to `numbers`, so that
-- `inventory report`, the metrics gauge and the console sum a few hundred rows instead of
-- counting millions.
--
-- One counter row per group would be updated by every search of that country and type, and
-- its row lock would queue concurrent searches one behind the other. So the counts are
-- append-only deltas instead: each statement that changes `numbers` inserts one row per group
-- it changed (a statement trigger over its transition tables), which locks nothing another
-- transaction wants. A count is the sum of its group's deltas; the sweep compacts them
-- (`compact_counts` in store/postgres.py) so that the sum stays short.
CREATE TABLE number_count_deltas (
    country     TEXT COLLATE "C" NOT NULL,
    number_type TEXT NOT NULL,
    area_code   TEXT COLLATE "C" NOT NULL,
    state       TEXT NOT NULL,
    delta       BIGINT NOT NULL
);

-- The counts by group, under the name and columns of SQLite's counter table, so that every
-- query reading them (store/number_counts.py, the invariant) is the same text on both engines.
CREATE VIEW number_counts AS
SELECT country, number_type, area_code, state, sum(delta)::bigint AS count FROM number_count_deltas
 GROUP BY country, number_type, area_code, state;

-- The counts start from the numbers there are; writers wait for this migration's transaction.
LOCK TABLE numbers IN SHARE MODE;
INSERT INTO number_count_deltas (country, number_type, area_code, state, delta)
SELECT country, number_type, area_code, state, count(*) FROM numbers
 GROUP BY country, number_type, area_code, state;

CREATE FUNCTION numbers_counted_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO number_count_deltas (country, number_type, area_code, state, delta)
    SELECT country, number_type, area_code, state, count(*) FROM added
     GROUP BY country, number_type, area_code, state;
    RETURN NULL;
END $$;

CREATE FUNCTION numbers_counted_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO number_count_deltas (country, number_type, area_code, state, delta)
    SELECT country, number_type, area_code, state, -count(*) FROM removed
     GROUP BY country, number_type, area_code, state;
    RETURN NULL;
END $$;

-- An update that moves no number to another group (a hold changing hands, a capability
-- update, a new `state_since`) nets to zero and inserts nothing.
CREATE FUNCTION numbers_counted_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO number_count_deltas (country, number_type, area_code, state, delta)
    SELECT country, number_type, area_code, state, sum(delta) FROM (
        SELECT country, number_type, area_code, state, 1 AS delta FROM after_update
        UNION ALL
        SELECT country, number_type, area_code, state, -1 FROM before_update
    ) moved
     GROUP BY country, number_type, area_code, state
    HAVING sum(delta) <> 0;
    RETURN NULL;
END $$;

CREATE FUNCTION numbers_counted_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM number_count_deltas;
    RETURN NULL;
END $$;

CREATE TRIGGER numbers_counted_insert AFTER INSERT ON numbers
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION numbers_counted_insert();
CREATE TRIGGER numbers_counted_delete AFTER DELETE ON numbers
    REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION numbers_counted_delete();
CREATE TRIGGER numbers_counted_update AFTER UPDATE ON numbers
    REFERENCING OLD TABLE AS before_update NEW TABLE AS after_update
    FOR EACH STATEMENT EXECUTE FUNCTION numbers_counted_update();
CREATE TRIGGER numbers_counted_truncate AFTER TRUNCATE ON numbers
    FOR EACH STATEMENT EXECUTE FUNCTION numbers_counted_truncate();
