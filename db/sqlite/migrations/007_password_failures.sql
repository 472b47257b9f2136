-- The password throttle (issue 11, item 2): recent wrong passwords, in the
-- database so they survive a restart and every node sees them. Each new
-- failure also deletes a small batch of those older than the throttle's
-- memory, so the table holds about an hour of failures.
CREATE TABLE password_failures (
    id      INTEGER PRIMARY KEY,
    account TEXT    NOT NULL, -- the email tried, normalized, whether or not a user has it
    client  TEXT    NOT NULL, -- 'address:<ip>', or 'browser:<id>' for a browser the account knows
    address TEXT    NOT NULL, -- the client's address
    known   INTEGER NOT NULL CHECK (known IN (0, 1)),
    time    INTEGER NOT NULL  -- Unix microseconds
) STRICT;
-- One client's failures on one account.
CREATE INDEX password_failures_by_pair ON password_failures (account, client, time);
-- Failures on one account, and from one address, by clients the account does not know.
CREATE INDEX password_failures_by_account ON password_failures (account, time) WHERE known = 0;
CREATE INDEX password_failures_by_address ON password_failures (address, time) WHERE known = 0;
-- What to forget.
CREATE INDEX password_failures_by_time ON password_failures (time);

-- Per user, the wrong passwords tried since the last sign-in, told to the
-- owner at the next sign-in and then deleted: at most one row per user.
CREATE TABLE failed_attempts (
    user_id      INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    count        INTEGER NOT NULL,
    last_time    INTEGER NOT NULL,
    last_address TEXT    NOT NULL
) STRICT;
