-- Maintained inventory counts (issues 11 and 14): how many numbers each country, type, area code
-- and state has, kept exact by the database itself on every write to `numbers`, so that
-- `inventory report`, the metrics gauge and the console read a few hundred rows instead of
-- counting millions. SQLite has one writer, so a counter row per group updated by a row trigger
-- costs one small B-tree update per changed number and contends with nothing. A group whose
-- numbers all left it stays at 0 (the report leaves it out).
CREATE TABLE number_counts (
    country     TEXT NOT NULL,
    number_type TEXT NOT NULL,
    area_code   TEXT NOT NULL,
    state       TEXT NOT NULL,
    count       INTEGER NOT NULL,
    PRIMARY KEY (country, number_type, area_code, state)
) WITHOUT ROWID;

INSERT INTO number_counts (country, number_type, area_code, state, count)
SELECT country, number_type, area_code, state, count(*) FROM numbers
 GROUP BY country, number_type, area_code, state;

-- A bulk load (`Store.load_numbers`) adds each batch's count itself, with this trigger
-- dropped and created again inside its transaction (see there).
CREATE TRIGGER numbers_counted_insert AFTER INSERT ON numbers
BEGIN
    INSERT INTO number_counts (country, number_type, area_code, state, count)
    VALUES (NEW.country, NEW.number_type, NEW.area_code, NEW.state, 1)
    ON CONFLICT DO UPDATE SET count = count + 1;
END;

CREATE TRIGGER numbers_counted_delete AFTER DELETE ON numbers
BEGIN
    UPDATE number_counts SET count = count - 1
     WHERE country = OLD.country AND number_type = OLD.number_type AND area_code = OLD.area_code
       AND state = OLD.state;
END;

-- Only an update that moves a number to another group: a hold that changes hands, a capability
-- update or a new `state_since` leaves the counts alone.
CREATE TRIGGER numbers_counted_update AFTER UPDATE OF country, number_type, area_code, state ON numbers
WHEN NEW.state IS NOT OLD.state OR NEW.country IS NOT OLD.country OR NEW.number_type IS NOT OLD.number_type
  OR NEW.area_code IS NOT OLD.area_code
BEGIN
    UPDATE number_counts SET count = count - 1
     WHERE country = OLD.country AND number_type = OLD.number_type AND area_code = OLD.area_code
       AND state = OLD.state;
    INSERT INTO number_counts (country, number_type, area_code, state, count)
    VALUES (NEW.country, NEW.number_type, NEW.area_code, NEW.state, 1)
    ON CONFLICT DO UPDATE SET count = count + 1;
END;
