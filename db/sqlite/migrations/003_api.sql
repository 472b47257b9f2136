-- Access tokens from the token endpoint: only a SHA-256 hash is stored.
-- They die with their key or account (ON DELETE CASCADE).
CREATE TABLE access_tokens (
    token_hash         TEXT    PRIMARY KEY,
    key_id             TEXT    NOT NULL REFERENCES keys (id) ON DELETE CASCADE,
    service_account_id TEXT    NOT NULL REFERENCES service_accounts (id) ON DELETE CASCADE,
    expire_time        INTEGER NOT NULL
) STRICT;
CREATE INDEX access_tokens_by_key ON access_tokens (key_id);
CREATE INDEX access_tokens_by_account ON access_tokens (service_account_id);
CREATE INDEX access_tokens_by_expiry ON access_tokens (expire_time);

-- Last use of a key, written at most once a minute per key.
ALTER TABLE keys ADD COLUMN last_used_time INTEGER NOT NULL DEFAULT 0;
ALTER TABLE keys ADD COLUMN last_used_via TEXT NOT NULL DEFAULT '';
ALTER TABLE keys ADD COLUMN last_used_from TEXT NOT NULL DEFAULT '';
