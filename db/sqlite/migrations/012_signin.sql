-- Issue 19: second factors (authenticator app codes, recovery codes,
-- passkeys), the sign-in in progress between the password and the second
-- factor, organization sign-in policies, and single sign-on (OpenID Connect).
-- Every secret here is sealed with the server key (TOTP seeds, passkey
-- records, client secrets, PKCE verifiers) or hashed (recovery codes, the
-- tokens of sign-ins in progress); none is stored as it was shown.

-- An authenticator app (TOTP, RFC 6238). confirm_time is 0 while the user
-- is still setting it up: it counts as a second factor only once confirmed
-- with a code. last_step is the newest time step whose code was accepted:
-- a code is accepted once, and never one older than that.
CREATE TABLE totp_factors (
    user_id       INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret_sealed BLOB    NOT NULL,
    create_time   INTEGER NOT NULL,
    confirm_time  INTEGER NOT NULL DEFAULT 0,
    last_step     INTEGER NOT NULL DEFAULT 0
) STRICT;

-- One-time recovery codes, as keyed hashes (HMAC-SHA-256 under a key
-- derived from the server key). used_time is 0 until the code is used.
CREATE TABLE recovery_codes (
    id        INTEGER PRIMARY KEY,
    user_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash TEXT    NOT NULL,
    used_time INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX recovery_codes_by_user ON recovery_codes (user_id);

-- The WebAuthn user handle of each user with passkeys: random, the same
-- for all of the user's passkeys, and what a password-less sign-in returns.
CREATE TABLE webauthn_users (
    user_id INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    handle  BLOB    NOT NULL UNIQUE
) STRICT;

-- Passkeys and security keys. The credential record (public key, signature
-- counter, flags) is sealed: whoever can write the database cannot plant a
-- key of their own without the server key.
CREATE TABLE passkeys (
    id             INTEGER PRIMARY KEY,
    user_id        INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_id  BLOB    NOT NULL UNIQUE,
    name           TEXT    NOT NULL,
    record_sealed  BLOB    NOT NULL,
    create_time    INTEGER NOT NULL,
    last_used_time INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX passkeys_by_user ON passkeys (user_id, id);

-- A sign-in in progress: the password (or the identity provider) said yes
-- and the second factor is still to come; or a password-less passkey
-- sign-in waiting for its assertion; or a single sign-on identity waiting
-- to be linked to an existing account with its password. Only a hash of
-- its token is kept (the browser holds the token in a cookie); it is used
-- once and lives a few minutes. challenge is the WebAuthn ceremony's state.
CREATE TABLE pending_signins (
    id_hash      TEXT    PRIMARY KEY,
    kind         TEXT    NOT NULL,
    user_id      INTEGER NOT NULL DEFAULT 0,
    sso_org      TEXT    NOT NULL DEFAULT '',
    sso_subject  TEXT    NOT NULL DEFAULT '',
    challenge    BLOB    NOT NULL DEFAULT x'',
    create_time  INTEGER NOT NULL
) STRICT;
CREATE INDEX pending_signins_by_time ON pending_signins (create_time);

-- A second factor that support staff reset, told to the user at the next
-- sign-in (then deleted).
CREATE TABLE second_factor_resets (
    user_id    INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    time       INTEGER NOT NULL,
    reason     TEXT    NOT NULL
) STRICT;

-- An organization's sign-in policy. No row: neither is required.
CREATE TABLE organization_signin_policies (
    organization_id       TEXT    PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
    require_second_factor INTEGER NOT NULL DEFAULT 0 CHECK (require_second_factor IN (0, 1)),
    require_sso           INTEGER NOT NULL DEFAULT 0 CHECK (require_sso IN (0, 1)),
    update_time           INTEGER NOT NULL
) STRICT;

-- An organization's identity provider (OpenID Connect).
CREATE TABLE sso_connections (
    organization_id      TEXT    PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
    provider_name        TEXT    NOT NULL,
    issuer               TEXT    NOT NULL,
    client_id            TEXT    NOT NULL,
    client_secret_sealed BLOB    NOT NULL,
    default_project_id   TEXT    NOT NULL DEFAULT '',
    default_role         TEXT    NOT NULL DEFAULT '',
    create_time          INTEGER NOT NULL,
    update_time          INTEGER NOT NULL
) STRICT;

-- The email domains whose people sign in through an organization's
-- provider. One domain belongs to one organization at most, so the
-- sign-in page knows which provider to offer.
CREATE TABLE sso_domains (
    domain          TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES sso_connections (organization_id) ON DELETE CASCADE
) STRICT;
CREATE INDEX sso_domains_by_org ON sso_domains (organization_id);

-- Which account a provider's identity (its subject) signs in as, per
-- organization; one identity per account and organization.
CREATE TABLE sso_links (
    organization_id TEXT    NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    subject         TEXT    NOT NULL,
    user_id         INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    issuer          TEXT    NOT NULL,
    create_time     INTEGER NOT NULL,
    PRIMARY KEY (organization_id, subject),
    UNIQUE (organization_id, user_id)
) STRICT;
CREATE INDEX sso_links_by_user ON sso_links (user_id);

-- A single sign-on started in a browser: state and nonce (hashed), the
-- PKCE verifier (sealed), and a hash of the value the browser keeps in a
-- cookie, so the answer is taken only from the browser that started it.
-- Deleted when the provider's answer comes back: a state works once.
CREATE TABLE sso_states (
    state_hash        TEXT    PRIMARY KEY,
    organization_id   TEXT    NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    nonce_hash        TEXT    NOT NULL,
    verifier_sealed   BLOB    NOT NULL,
    browser_hash      TEXT    NOT NULL,
    next              TEXT    NOT NULL,
    create_time       INTEGER NOT NULL
) STRICT;
CREATE INDEX sso_states_by_time ON sso_states (create_time);
