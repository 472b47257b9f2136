-- Support staff find accounts by the start of their display name too
-- (issue 16): a range on these indexes, as for emails. Service accounts
-- compare name_key (lower-cased in Go); users, whose rows have no name_key,
-- compare display_name without ASCII case.
CREATE INDEX service_accounts_by_name ON service_accounts (name_key, id);
CREATE INDEX users_by_name ON users (display_name COLLATE NOCASE, id);
