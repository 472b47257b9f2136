-- Invitations bound to one membership (issue 11, item 1), and an outbox
-- that keeps no usable link at rest (item 4).
--
-- Until now an invitation was a token for a pending user: any link of that
-- user accepted every pending membership of the email, in every
-- organization. The old rows name only the user, so they cannot be mapped
-- to the memberships they were issued for: they are ended here (deleted;
-- their links stop working). Each pending user membership gets one
-- new-style invitation without any link: its admins re-issue a link from
-- the members page or with :getInviteUrl.

-- A users row is one identity per email. email_verified: the person proved
-- they read mail at the address (they set their password through an
-- emailed link), or the account was made by the system (the first
-- administrator, the demo users). Accounts claimed before this migration
-- could have been claimed through a shared link by someone else, so only
-- the staff accounts made at the first start count as verified.
ALTER TABLE users ADD COLUMN email_verified INTEGER NOT NULL DEFAULT 0;
UPDATE users SET email_verified = 1 WHERE staff = 1 AND password_hash <> '';

DROP TABLE invitations;

-- One invitation covers exactly one membership (project or organization),
-- made by one inviter, and dies with it (ON DELETE CASCADE). It has two
-- links, each stored only as a SHA-256 hash of its token: the shareable
-- link (handed to the inviter; a new one replaces the old) and the emailed
-- link (minted when the email is sent; a new email replaces the old).
-- Each link has its own issuer, issue and expiry time. accept_time: 0
-- while open.
CREATE TABLE invitations (
    id                     INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id                INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    organization_id        TEXT    NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    project_id             TEXT    NOT NULL DEFAULT '',
    project_member_id      INTEGER REFERENCES project_members (id) ON DELETE CASCADE,
    organization_member_id INTEGER REFERENCES organization_members (id) ON DELETE CASCADE,
    inviter_type           TEXT    NOT NULL,
    inviter_id             TEXT    NOT NULL,
    inviter_email          TEXT    NOT NULL,
    create_time            INTEGER NOT NULL,
    accept_time            INTEGER NOT NULL DEFAULT 0,
    shareable_hash         TEXT,
    shareable_issued_by    TEXT    NOT NULL DEFAULT '',
    shareable_issue_time   INTEGER NOT NULL DEFAULT 0,
    shareable_expire_time  INTEGER NOT NULL DEFAULT 0,
    emailed_hash           TEXT,
    emailed_issued_by      TEXT    NOT NULL DEFAULT '',
    emailed_issue_time     INTEGER NOT NULL DEFAULT 0,
    emailed_expire_time    INTEGER NOT NULL DEFAULT 0,
    CHECK ((project_member_id IS NULL) <> (organization_member_id IS NULL)),
    CHECK ((project_member_id IS NULL) = (project_id = ''))
) STRICT;
CREATE UNIQUE INDEX invitations_by_project_member ON invitations (project_member_id) WHERE project_member_id IS NOT NULL;
CREATE UNIQUE INDEX invitations_by_organization_member ON invitations (organization_member_id) WHERE organization_member_id IS NOT NULL;
CREATE UNIQUE INDEX invitations_by_shareable ON invitations (shareable_hash) WHERE shareable_hash IS NOT NULL;
CREATE UNIQUE INDEX invitations_by_emailed ON invitations (emailed_hash) WHERE emailed_hash IS NOT NULL;
CREATE INDEX invitations_by_user ON invitations (user_id);
CREATE INDEX invitations_by_org ON invitations (organization_id);

INSERT INTO invitations (user_id, organization_id, project_id, project_member_id, inviter_type, inviter_id, inviter_email, create_time)
    SELECT m.user_id, p.organization_id, m.project_id, m.id, 'USER', 'system', 'system', m.create_time
    FROM project_members m JOIN projects p ON p.id = m.project_id
    WHERE m.user_id IS NOT NULL AND m.status = 'PENDING';
INSERT INTO invitations (user_id, organization_id, organization_member_id, inviter_type, inviter_id, inviter_email, create_time)
    SELECT m.user_id, m.organization_id, m.id, 'USER', 'system', 'system', m.create_time
    FROM organization_members m
    WHERE m.user_id IS NOT NULL AND m.status = 'PENDING';

-- The outbox keeps no usable link at rest. An invitation email holds only
-- the invitation it is about (invitation_id) and who asked for it; its body,
-- with a freshly minted emailed link, is built at the moment it is sent
-- and never written here. Without an SMTP server nothing is ever built, so
-- the table holds only who would have been mailed. Other emails keep their
-- body until sent; sending empties it. The old rows held links in plain
-- text: their links died with the old invitations above, and their bodies
-- go now.
ALTER TABLE outbox ADD COLUMN invitation_id INTEGER REFERENCES invitations (id) ON DELETE CASCADE;
ALTER TABLE outbox ADD COLUMN requested_by TEXT NOT NULL DEFAULT '';
DELETE FROM outbox WHERE sent_time = 0;
UPDATE outbox SET body = '';
CREATE INDEX outbox_by_invitation ON outbox (invitation_id) WHERE invitation_id IS NOT NULL;
