-- A search without an area code takes the first free numbers of a country and type, in
-- area code and then number order. This index yields exactly that order (and serves a
-- search with an area code too), so neither engine sorts or walks past held numbers.
CREATE INDEX numbers_free_by_type ON numbers (country, number_type, state, area_code, phone_number);
