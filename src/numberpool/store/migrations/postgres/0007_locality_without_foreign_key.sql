-- Bulk loads spent about two thirds of their database time in the per-row foreign-key
-- check on `numbers.locality_id` (a COPY of 1 M new numbers: 126.6 k/s with the check,
-- 208-216 k/s without). The bulk loader is the only writer of the column, and it inserts
-- or finds the locality in the same transaction as the numbers it COPYs; localities are
-- never deleted. The inventory invariant (`store/invariant.py`) still proves every
-- number's locality exists, in the same query as the state rules.
--
-- SQLite keeps its foreign key: the check there is an in-process B-tree probe, and
-- dropping it would mean rebuilding the numbers table.
ALTER TABLE numbers DROP CONSTRAINT IF EXISTS numbers_locality_id_fkey;
