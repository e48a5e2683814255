-- The twin of sqlite/0008_inventory.sql: the terminal state `withdrawn`, and `state_since`,
-- when a number entered its state as far as the inventory commands know it (set by import
-- and withdraw, cleared by a release; a purchase has purchased_at).
ALTER TABLE numbers DROP CONSTRAINT IF EXISTS numbers_state_check;
ALTER TABLE numbers ADD CONSTRAINT numbers_state_check
    CHECK (state IN ('available', 'held', 'reserved', 'purchased', 'aging', 'withdrawn'));
ALTER TABLE numbers ADD COLUMN state_since DOUBLE PRECISION;
