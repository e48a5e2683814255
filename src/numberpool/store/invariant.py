"""The inventory invariant as one SQL query, the same text on every engine.

It returns one row per violation: every number is in exactly one known state; a
held number has exactly one holder, a search that still holds it (or whose hold
has lapsed and awaits the sweep); a reserved number has exactly one holder, an active reservation
that lists it (or an expired one whose numbers await the sweep); a purchased number has exactly one
owner and no holder; an available or withdrawn number has neither; an aging number has an end
(`aging_until`) and neither holder nor owner, and only an aging number has one; every purchased
number's latest event (the audit trail) leaves it purchased by its owner: its purchase, or a later
capability update; every number's locality exists (PostgreSQL leaves that to the loader, not a
foreign key); the maintained counts (store/number_counts.py) equal the numbers by country,
type, area code and state (the row names the group where the number would be). Zero rows means
the inventory is consistent.
"""

from numberpool.store.number_counts import COUNTS_DIFFER_SQL

INVARIANT_SQL = """
SELECT 'unknown state' AS rule, phone_number FROM numbers
 WHERE state NOT IN ('available', 'held', 'reserved', 'purchased', 'aging', 'withdrawn')
UNION ALL
SELECT 'held without a holding search', n.phone_number FROM numbers n
  LEFT JOIN searches s ON s.id = n.holder
 WHERE n.state = 'held' AND (s.id IS NULL OR s.status NOT IN ('held', 'expired'))
UNION ALL
SELECT 'reserved without a reservation holding it', n.phone_number FROM numbers n
  LEFT JOIN reservations r ON r.id = n.holder
 WHERE n.state = 'reserved' AND (r.id IS NULL OR r.status NOT IN ('active', 'expired'))
UNION ALL
SELECT 'reserved but not listed by its reservation', n.phone_number FROM numbers n
 WHERE n.state = 'reserved' AND NOT EXISTS (
       SELECT 1 FROM reservation_numbers rn WHERE rn.reservation_id = n.holder AND rn.phone_number = n.phone_number)
UNION ALL
SELECT 'purchased without exactly one owner', phone_number FROM numbers
 WHERE state = 'purchased' AND (owner IS NULL OR holder IS NOT NULL)
UNION ALL
SELECT 'available with a holder or owner', phone_number FROM numbers
 WHERE state = 'available' AND (holder IS NOT NULL OR owner IS NOT NULL)
UNION ALL
SELECT 'withdrawn with a holder or owner', phone_number FROM numbers
 WHERE state = 'withdrawn' AND (holder IS NOT NULL OR owner IS NOT NULL)
UNION ALL
SELECT 'owned but not purchased', phone_number FROM numbers
 WHERE owner IS NOT NULL AND state <> 'purchased'
UNION ALL
SELECT 'aging without an end, or with a holder or owner', phone_number FROM numbers
 WHERE state = 'aging' AND (aging_until IS NULL OR holder IS NOT NULL OR owner IS NOT NULL)
UNION ALL
SELECT 'an aging end on a number that is not aging', phone_number FROM numbers
 WHERE aging_until IS NOT NULL AND state <> 'aging'
UNION ALL
SELECT 'purchased but its latest event is not its purchase', n.phone_number FROM numbers n
 WHERE n.state = 'purchased' AND NOT EXISTS (
       SELECT 1 FROM number_events e
        WHERE e.id = (SELECT max(l.id) FROM number_events l WHERE l.phone_number = n.phone_number)
          AND e.new_state = 'purchased' AND e.resource = n.owner)
UNION ALL
SELECT 'in a locality that does not exist', n.phone_number FROM numbers n
 WHERE n.locality_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM localities l WHERE l.id = n.locality_id)
UNION ALL""" + COUNTS_DIFFER_SQL
