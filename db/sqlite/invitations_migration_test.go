package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"studio/db/sqlite"
	"studio/domain"
)

// TestMigration006EndsOldInvitations upgrades a database of schema version
// 5 (old invitations: one token per pending user, links in outbox bodies).
// The old links must stop working, each pending user membership must get
// one invitation of its own without a link, the outbox must keep no link,
// and only the first-start staff account counts as verified.
func TestMigration006EndsOldInvitations(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "studio.db")
	raw := openRaw(t, path)
	if _, err := raw.ExecContext(ctx, "PRAGMA foreign_keys = ON"); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.ExecContext(ctx, `CREATE TABLE schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT`); err != nil {
		t.Fatal(err)
	}
	for _, name := range migrationFilesOnDisk(t) {
		v, _ := strconv.Atoi(strings.SplitN(name, "_", 2)[0])
		if v > 5 {
			continue
		}
		body, err := os.ReadFile(filepath.Join("migrations", name))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := raw.ExecContext(ctx, string(body)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := raw.ExecContext(ctx, "INSERT INTO schema_migrations VALUES (?, ?, 1)", v, name); err != nil {
			t.Fatal(err)
		}
	}
	orgID, projID := domain.NewID(time.Now()), domain.NewID(time.Now().Add(time.Second))
	ids := strings.NewReplacer("$ORG", orgID, "$PROJ", projID)
	const oldToken = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	link := "http://studio.test/invite/" + oldToken
	for _, stmt := range []string{
		`INSERT INTO users (id, email, display_name, password_hash, staff, create_time) VALUES
			(1, 'admin@example.com', 'Admin', '$hash', 1, 1),
			(2, 'claimed@example.com', 'Claimed', '$hash', 0, 1),
			(3, 'pending@example.com', 'pending@example.com', '', 0, 1)`,
		`INSERT INTO organizations VALUES ('$ORG', 'Acme', 'acme', 1)`,
		`INSERT INTO projects (id, organization_id, display_name, name_key, inventory, create_time, update_time)
			VALUES ('$PROJ', '$ORG', 'Field', 'field', 0, 1, 1)`,
		`INSERT INTO organization_members (organization_id, user_id, role, status, create_time) VALUES
			('$ORG', 1, 'roles/organization.admin', 'ACCEPTED', 1),
			('$ORG', 3, 'roles/organization.admin', 'PENDING', 2)`,
		`INSERT INTO project_members (project_id, user_id, role, status, create_time) VALUES
			('$PROJ', 2, 'roles/project.user', 'ACCEPTED', 1),
			('$PROJ', 3, 'roles/project.admin', 'PENDING', 2)`,
		`INSERT INTO invitations VALUES ('` + domain.HashToken(oldToken) + `', 3, 1, 9999999999999999)`,
		`INSERT INTO outbox (to_email, subject, body, create_time, sent_time) VALUES
			('pending@example.com', 'You are invited', 'Open ` + link + `', 1, 5),
			('pending@example.com', 'You are invited', 'Open ` + link + `', 2, 0)`,
	} {
		if _, err := raw.ExecContext(ctx, ids.Replace(stmt)); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}

	// The database was made outside db.Open, so with the default mode: make
	// it private as db.Open requires.
	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(f, 0o600); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	store, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("Open (migrating): %v", err)
	}
	defer store.Close()
	_, _, err = store.InvitationByTokenHash(ctx, domain.HashToken(oldToken))
	wantCode(t, "the old link's invitation", err, domain.ENOTFOUND)
	count := func(q string, args ...any) int {
		t.Helper()
		var n int
		if err := raw.QueryRowContext(ctx, ids.Replace(q), args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(`SELECT count(*) FROM invitations WHERE user_id = 3 AND organization_id = '$ORG' AND accept_time = 0
		AND shareable_hash IS NULL AND emailed_hash IS NULL AND inviter_email = 'system'
		AND ((project_id = '$PROJ' AND project_member_id IS NOT NULL) OR (project_id = '' AND organization_member_id IS NOT NULL))`); n != 2 {
		t.Errorf("%d new invitations for the pending memberships, want 2 without links", n)
	}
	if n := count("SELECT count(*) FROM invitations"); n != 2 {
		t.Errorf("%d invitations, want 2 (none for accepted memberships)", n)
	}
	if n := count("SELECT count(*) FROM outbox WHERE sent_time = 0 OR body <> '' OR instr(body, '/invite/') > 0"); n != 0 {
		t.Errorf("%d outbox rows waiting or keeping a body", n)
	}
	for id, want := range map[int64]bool{1: true, 2: false, 3: false} {
		u, err := store.UserByID(ctx, id)
		if err != nil || u.EmailVerified != want {
			t.Errorf("user %d: verified %v (%v), want %v", id, u.EmailVerified, err, want)
		}
	}

	// An admin re-issues a link: the migrated invitation gets it.
	admin, err := store.UserByID(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	members := domain.NewMembers(store, domain.NewHasher(1), func() time.Time { return time.Now().UTC() }, mbBaseURL, domain.DefaultInviteTTL)
	fresh, err := members.ProjectInviteURL(ctx, domain.UserPrincipal(admin, "x"), projID, "3")
	if err != nil {
		t.Fatalf("ProjectInviteURL after the migration: %v", err)
	}
	got, err := members.OpenInvitation(ctx, mbToken(t, fresh))
	if err != nil || got.ProjectName != "Field" || got.Membership.Role != domain.RoleProjectAdmin || got.Invitation.InviterEmail != "system" {
		t.Errorf("the re-issued link: %+v, %v", got, err)
	}
	if n := count("SELECT count(*) FROM invitations"); n != 2 {
		t.Errorf("%d invitations after the re-issue, want still 2", n)
	}
}
