-- Members lists page by membership id within a scope.
CREATE INDEX project_members_by_project ON project_members (project_id);
CREATE INDEX organization_members_by_org ON organization_members (organization_id);

-- Invite links: only a SHA-256 hash of the token is stored.
CREATE TABLE invitations (
    token_hash  TEXT    PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    create_time INTEGER NOT NULL,
    expire_time INTEGER NOT NULL
) STRICT;
CREATE INDEX invitations_by_user ON invitations (user_id);

-- Emails to send; kept (with sent_time) so an administrator can see them.
CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY,
    to_email    TEXT    NOT NULL,
    subject     TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    create_time INTEGER NOT NULL,
    sent_time   INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_time = 0;

CREATE INDEX audit_log_by_project ON audit_log (project_id, id);
