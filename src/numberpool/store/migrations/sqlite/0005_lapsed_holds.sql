-- A search that runs out of available numbers looks for holds that have lapsed but
-- not yet been swept. These indexes find them by expiry instead of walking every
-- live hold of the country and type (or area code). They are partial: available and
-- purchased numbers (nearly all of them) are not in them, so bulk loads stay fast.
CREATE INDEX numbers_lapsed_by_type ON numbers (country, number_type, state, hold_expires_at)
    WHERE state IN ('held', 'reserved');
CREATE INDEX numbers_lapsed_by_area ON numbers (country, number_type, area_code, state, hold_expires_at)
    WHERE state IN ('held', 'reserved');
