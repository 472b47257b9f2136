-- Credential lifecycle (issue 8): disable, expiry, rotation with a grace
-- period, compromise reports, and each organization's key lifetime policy.
-- Times are Unix microseconds; 0 means "not set".

-- disabled_time: 0 = enabled. compromised_time: reported compromised (the key
-- is disabled too, and cannot be enabled again). expire_time: 0 = never.
-- rotated_to: the key that replaced this one; the old key keeps working
-- until grace_end, then is refused.
ALTER TABLE keys ADD COLUMN disabled_time INTEGER NOT NULL DEFAULT 0;
ALTER TABLE keys ADD COLUMN compromised_time INTEGER NOT NULL DEFAULT 0;
ALTER TABLE keys ADD COLUMN expire_time INTEGER NOT NULL DEFAULT 0;
ALTER TABLE keys ADD COLUMN rotated_to TEXT NOT NULL DEFAULT '';
ALTER TABLE keys ADD COLUMN grace_end INTEGER NOT NULL DEFAULT 0;
-- The purge of expired keys looks them up by time.
CREATE INDEX keys_by_expiry ON keys (expire_time) WHERE expire_time > 0;
CREATE INDEX keys_by_grace_end ON keys (grace_end) WHERE rotated_to <> '';

-- A disabled account is refused on every path, whatever its keys.
ALTER TABLE service_accounts ADD COLUMN disabled_time INTEGER NOT NULL DEFAULT 0;

-- Key lifetimes in seconds; 0 = no default / no maximum.
CREATE TABLE organization_settings (
    organization_id      TEXT    PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
    default_key_lifetime INTEGER NOT NULL DEFAULT 0,
    max_key_lifetime     INTEGER NOT NULL DEFAULT 0,
    update_time          INTEGER NOT NULL
) STRICT;
