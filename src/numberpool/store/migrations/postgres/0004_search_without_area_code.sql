-- A search without an area code takes the first free numbers of a country and type in
-- number order; without this index that is a sort of every matching number.
CREATE INDEX numbers_free_by_type ON numbers (country, number_type, state, phone_number);
