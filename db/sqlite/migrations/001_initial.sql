-- Times are Unix microseconds (UTC). name_key is the display name lower-cased
-- in Go, so keyset pagination by name compares the same way everywhere.

CREATE TABLE users (
    id               INTEGER PRIMARY KEY,
    email            TEXT    NOT NULL UNIQUE,
    display_name     TEXT    NOT NULL,
    password_hash    TEXT    NOT NULL DEFAULT '',
    staff            INTEGER NOT NULL DEFAULT 0,
    locked           INTEGER NOT NULL DEFAULT 0,
    create_time      INTEGER NOT NULL,
    last_sign_in     INTEGER NOT NULL DEFAULT 0,
    password_changed INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE organizations (
    id           TEXT    PRIMARY KEY,
    display_name TEXT    NOT NULL,
    name_key     TEXT    NOT NULL,
    create_time  INTEGER NOT NULL
) STRICT;
CREATE INDEX organizations_by_name ON organizations (name_key, id);

CREATE TABLE projects (
    id              TEXT    PRIMARY KEY,
    organization_id TEXT    NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    display_name    TEXT    NOT NULL,
    name_key        TEXT    NOT NULL,
    inventory       INTEGER NOT NULL DEFAULT 0,
    latitude        REAL    NOT NULL DEFAULT 0,
    longitude       REAL    NOT NULL DEFAULT 0,
    time_location   TEXT    NOT NULL DEFAULT '',
    create_time     INTEGER NOT NULL,
    update_time     INTEGER NOT NULL
) STRICT;
CREATE INDEX projects_by_org_name ON projects (organization_id, name_key, id);
CREATE INDEX projects_by_name ON projects (name_key, id);
CREATE UNIQUE INDEX projects_one_inventory ON projects (organization_id) WHERE inventory = 1;

-- A project with service accounts cannot be deleted (RESTRICT): deleting
-- them is a decision of its own, with their keys and memberships.
CREATE TABLE service_accounts (
    id                TEXT    PRIMARY KEY,
    project_id        TEXT    NOT NULL REFERENCES projects (id) ON DELETE RESTRICT,
    email             TEXT    NOT NULL UNIQUE,
    display_name      TEXT    NOT NULL,
    name_key          TEXT    NOT NULL,
    enable_basic_auth INTEGER NOT NULL DEFAULT 0,
    create_time       INTEGER NOT NULL,
    update_time       INTEGER NOT NULL
) STRICT;
CREATE INDEX service_accounts_by_project_name ON service_accounts (project_id, name_key, id);

CREATE TABLE keys (
    id                 TEXT    PRIMARY KEY,
    service_account_id TEXT    NOT NULL REFERENCES service_accounts (id) ON DELETE CASCADE,
    secret_sealed      BLOB    NOT NULL,
    create_time        INTEGER NOT NULL
) STRICT;
CREATE INDEX keys_by_account ON keys (service_account_id, id);

-- A membership is held by exactly one user or one service account.
CREATE TABLE project_members (
    id                 INTEGER PRIMARY KEY,
    project_id         TEXT    NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_id            INTEGER REFERENCES users (id) ON DELETE CASCADE,
    service_account_id TEXT    REFERENCES service_accounts (id) ON DELETE CASCADE,
    role               TEXT    NOT NULL CHECK (role IN ('roles/project.user', 'roles/project.developer', 'roles/project.admin')),
    status             TEXT    NOT NULL CHECK (status IN ('PENDING', 'ACCEPTED')),
    create_time        INTEGER NOT NULL,
    CHECK ((user_id IS NULL) <> (service_account_id IS NULL))
) STRICT;
CREATE UNIQUE INDEX project_members_user ON project_members (project_id, user_id);
CREATE UNIQUE INDEX project_members_sa ON project_members (project_id, service_account_id);
CREATE INDEX project_members_by_user ON project_members (user_id) WHERE user_id IS NOT NULL;
CREATE INDEX project_members_by_sa ON project_members (service_account_id) WHERE service_account_id IS NOT NULL;

CREATE TABLE organization_members (
    id                 INTEGER PRIMARY KEY,
    organization_id    TEXT    NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id            INTEGER REFERENCES users (id) ON DELETE CASCADE,
    service_account_id TEXT    REFERENCES service_accounts (id) ON DELETE CASCADE,
    role               TEXT    NOT NULL CHECK (role = 'roles/organization.admin'),
    status             TEXT    NOT NULL CHECK (status IN ('PENDING', 'ACCEPTED')),
    create_time        INTEGER NOT NULL,
    CHECK ((user_id IS NULL) <> (service_account_id IS NULL))
) STRICT;
CREATE UNIQUE INDEX organization_members_user ON organization_members (organization_id, user_id);
CREATE UNIQUE INDEX organization_members_sa ON organization_members (organization_id, service_account_id);
CREATE INDEX organization_members_by_user ON organization_members (user_id) WHERE user_id IS NOT NULL;
CREATE INDEX organization_members_by_sa ON organization_members (service_account_id) WHERE service_account_id IS NOT NULL;

-- Only a SHA-256 hash of the session id is stored.
CREATE TABLE sessions (
    id_hash     TEXT    PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    data        BLOB    NOT NULL,
    create_time INTEGER NOT NULL,
    last_seen   INTEGER NOT NULL
) STRICT;
CREATE INDEX sessions_by_user ON sessions (user_id);

-- The audit log outlives what it describes: no foreign keys. AUTOINCREMENT
-- so an id is never reused.
CREATE TABLE audit_log (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    time            INTEGER NOT NULL,
    actor_type      TEXT    NOT NULL,
    actor_id        TEXT    NOT NULL,
    actor_email     TEXT    NOT NULL,
    actor_staff     INTEGER NOT NULL,
    action          TEXT    NOT NULL,
    target_type     TEXT    NOT NULL,
    target_id       TEXT    NOT NULL,
    target_name     TEXT    NOT NULL,
    organization_id TEXT    NOT NULL,
    project_id      TEXT    NOT NULL,
    remote_addr     TEXT    NOT NULL,
    reason          TEXT    NOT NULL,
    detail          TEXT    NOT NULL
) STRICT;
CREATE INDEX audit_log_by_org ON audit_log (organization_id, id);
