-- Credential hygiene (issue 8, items 6 and 7).

-- Ids of service accounts and keys are never reused. Every id ever issued
-- stays here after its row is deleted, so inserting a known id again fails
-- as a unique violation (a conflict), however long after the deletion.
CREATE TABLE issued_ids (
    id   TEXT NOT NULL PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('serviceaccount', 'key'))
) STRICT, WITHOUT ROWID;
INSERT INTO issued_ids (id, kind) SELECT id, 'serviceaccount' FROM service_accounts;
INSERT INTO issued_ids (id, kind) SELECT id, 'key' FROM keys;
CREATE TRIGGER service_accounts_issued AFTER INSERT ON service_accounts
BEGIN
    INSERT INTO issued_ids (id, kind) VALUES (NEW.id, 'serviceaccount');
END;
CREATE TRIGGER keys_issued AFTER INSERT ON keys
BEGIN
    INSERT INTO issued_ids (id, kind) VALUES (NEW.id, 'key');
END;

-- The hygiene lists, each paged by keyset in the order of its index.
-- Unused keys: by last activity, the last use or, never used, the creation.
CREATE INDEX keys_by_activity ON keys (max(last_used_time, create_time), id);
-- Old keys: by creation time.
CREATE INDEX keys_by_create_time ON keys (create_time, id);
-- Accounts with Basic Auth on, in id order.
CREATE INDEX service_accounts_basic_auth ON service_accounts (id) WHERE enable_basic_auth = 1;
-- Accounts holding project admin (organization memberships are all admin,
-- and organization_members_by_sa already indexes them).
CREATE INDEX project_members_sa_admin ON project_members (service_account_id)
    WHERE role = 'roles/project.admin' AND service_account_id IS NOT NULL;
