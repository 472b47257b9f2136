package db_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"studio/db"
	"studio/domain"
)

type migrationRow struct {
	version   int
	name      string
	appliedAt int64
}

func (e *env) migrations() []migrationRow {
	e.t.Helper()
	rows, err := e.raw.QueryContext(e.ctx, "SELECT version, name, applied_at FROM schema_migrations ORDER BY version")
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	var out []migrationRow
	for rows.Next() {
		var m migrationRow
		if err := rows.Scan(&m.version, &m.name, &m.appliedAt); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// migrationFilesOnDisk lists migrations/*.sql of this package.
func migrationFilesOnDisk(t *testing.T) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join("migrations", "*.sql"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range names {
		names[i] = filepath.Base(names[i])
	}
	sort.Strings(names)
	if len(names) == 0 {
		t.Fatal("no migration files found")
	}
	return names
}

func TestOpenFreshFileCreatesSchema(t *testing.T) {
	before := time.Now()
	e := newEnv(t)

	objects := map[string]bool{}
	rows, err := e.raw.QueryContext(e.ctx, "SELECT type, name FROM sqlite_master")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var typ, name string
		if err := rows.Scan(&typ, &name); err != nil {
			t.Fatal(err)
		}
		objects[typ+" "+name] = true
	}
	rows.Close()
	for _, table := range []string{"users", "organizations", "projects", "service_accounts", "keys",
		"project_members", "organization_members", "sessions", "audit_log", "schema_migrations"} {
		if !objects["table "+table] {
			t.Errorf("table %s missing after Open; have %v", table, objects)
		}
	}
	// Lists and lookups have their indexes.
	for _, index := range []string{"organizations_by_name", "projects_by_org_name", "projects_by_name",
		"projects_one_inventory", "project_members_user", "organization_members_user", "sessions_by_user", "audit_log_by_org"} {
		if !objects["index "+index] {
			t.Errorf("index %s missing after Open", index)
		}
	}

	files := migrationFilesOnDisk(t)
	if got := db.SchemaVersion(); got != len(files) {
		t.Errorf("SchemaVersion() = %d, want %d (files %v)", got, len(files), files)
	}
	ms := e.migrations()
	if len(ms) != len(files) {
		t.Fatalf("schema_migrations has %d rows, want %d: %+v", len(ms), len(files), ms)
	}
	for i, m := range ms {
		if m.version != i+1 || m.name != files[i] {
			t.Errorf("schema_migrations row %d = %+v, want version %d name %s", i, m, i+1, files[i])
		}
		if !strings.HasPrefix(files[i], fmt.Sprintf("%03d_", i+1)) {
			t.Errorf("migration file %s does not carry version %d", files[i], i+1)
		}
		at := time.UnixMicro(m.appliedAt)
		if at.Before(before.Add(-time.Second)) || at.After(time.Now().Add(time.Second)) {
			t.Errorf("migration %s applied_at = %v, not now", m.name, at)
		}
	}
	if err := e.store.Ping(e.ctx); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

func TestOpenTwiceIsANoOp(t *testing.T) {
	e := newEnv(t)
	b := e.bootstrap()
	proj := e.createProject(b.principal, b.org.ID, "Kept across restarts")
	first := e.migrations()
	auditRows := e.count("SELECT count(*) FROM audit_log")
	if err := e.store.Close(); err != nil {
		t.Fatal(err)
	}

	again, err := db.Open(e.ctx, e.path)
	if err != nil {
		t.Fatalf("second Open: %v", err)
	}
	defer again.Close()
	if second := e.migrations(); fmt.Sprint(second) != fmt.Sprint(first) {
		t.Errorf("schema_migrations changed on reopen:\n%+v\n%+v", first, second)
	}
	if n := e.count("SELECT count(*) FROM audit_log"); n != auditRows {
		t.Errorf("audit_log rows %d after reopen, want %d", n, auditRows)
	}
	got, err := again.ProjectByID(e.ctx, proj.ID)
	if err != nil || got.DisplayName != "Kept across restarts" {
		t.Errorf("project after reopen = %+v, %v", got, err)
	}
	u, err := again.UserByEmail(e.ctx, "admin@example.com")
	if err != nil || u.ID != b.admin.ID {
		t.Errorf("admin after reopen = %+v, %v", u, err)
	}
	// Bootstrap on the reopened database does nothing.
	accounts := domain.NewAccounts(again, domain.NewHasher(1), e.clock.Now)
	res, err := accounts.Bootstrap(e.ctx, domain.BootstrapInput{AdminEmail: "other@example.com", AdminPassword: adminPassword, OrgName: "Other"})
	if err != nil || res.Created {
		t.Errorf("Bootstrap after reopen = %+v, %v; want nothing created", res, err)
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	e := newEnv(t)
	e.bootstrap()
	e.store.Close()
	future := db.SchemaVersion() + 1
	if _, err := e.raw.ExecContext(e.ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
		future, fmt.Sprintf("%03d_from_the_future.sql", future), time.Now().UnixMicro()); err != nil {
		t.Fatal(err)
	}
	d, err := db.Open(e.ctx, e.path)
	if err == nil {
		d.Close()
		t.Fatal("Open of a database with a newer schema succeeded")
	}
	for _, v := range []int{future, db.SchemaVersion()} {
		if !strings.Contains(err.Error(), strconv.Itoa(v)) {
			t.Errorf("error %q does not mention version %d", err, v)
		}
	}
	// Nothing was changed by the refused Open.
	if n := e.count("SELECT count(*) FROM schema_migrations"); n != future {
		t.Errorf("schema_migrations has %d rows, want %d", n, future)
	}
	if n := e.count("SELECT count(*) FROM users"); n != 1 {
		t.Errorf("users = %d after refused Open, want 1", n)
	}
}

func TestOpenPathWithSpecialCharacters(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "dir with space #1 ?x=y", "ærø %20")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "studio & co.db")
	d, err := db.Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open(%q): %v", path, err)
	}
	defer d.Close()
	if _, err := os.Stat(path); err != nil {
		entries, _ := os.ReadDir(dir)
		t.Fatalf("database not created at the exact path %q: %v (dir holds %v)", path, err, entries)
	}
	if err := d.Update(context.Background(), func(tx domain.Tx) error {
		return tx.CreateUser(context.Background(), &domain.User{Email: "a@example.com", DisplayName: "A", CreateTime: time.Now()})
	}); err != nil {
		t.Fatal(err)
	}
	if n, err := d.CountUsers(context.Background()); err != nil || n != 1 {
		t.Errorf("CountUsers = %d, %v", n, err)
	}
}

func TestOpenFailsOnMissingDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no", "such", "dir", "studio.db")
	d, err := db.Open(context.Background(), path)
	if err == nil {
		d.Close()
		t.Fatal("Open in a missing directory succeeded")
	}
}

// Foreign keys are enforced on the store's connections: a session of a user
// that does not exist is refused.
func TestForeignKeysEnforced(t *testing.T) {
	e := newEnv(t)
	err := e.store.CreateSession(e.ctx, domain.Session{IDHash: "h", UserID: 4242, Data: []byte("x"),
		CreateTime: e.clock.Now(), LastSeen: e.clock.Now()})
	if err == nil {
		t.Error("CreateSession for a missing user succeeded: foreign keys are off")
	}
	err = e.store.Update(e.ctx, func(tx domain.Tx) error {
		return tx.CreateProject(e.ctx, domain.Project{ID: domain.NewID(e.clock.Now()), OrganizationID: domain.NewID(e.clock.Now()),
			DisplayName: "Orphan", CreateTime: e.clock.Now(), UpdateTime: e.clock.Now()})
	})
	if err == nil {
		t.Error("CreateProject in a missing organization succeeded: foreign keys are off")
	}
	if n := e.count("SELECT count(*) FROM projects"); n != 0 {
		t.Errorf("projects = %d after refused inserts", n)
	}
}

// Update rolls back everything fn did when fn fails.
func TestUpdateRollsBack(t *testing.T) {
	e := newEnv(t)
	boom := fmt.Errorf("boom")
	err := e.store.Update(e.ctx, func(tx domain.Tx) error {
		u := domain.User{Email: "rollback@example.com", DisplayName: "R", CreateTime: e.clock.Now()}
		if err := tx.CreateUser(e.ctx, &u); err != nil {
			return err
		}
		if n, err := tx.CountUsers(e.ctx); err != nil || n != 1 {
			t.Errorf("inside the transaction CountUsers = %d, %v; want 1", n, err)
		}
		return boom
	})
	if err != boom {
		t.Errorf("Update returned %v, want fn's error", err)
	}
	if n, err := e.store.CountUsers(e.ctx); err != nil || n != 0 {
		t.Errorf("CountUsers = %d, %v after rollback", n, err)
	}
}

func TestCreateUserConflict(t *testing.T) {
	e := newEnv(t)
	e.newUser("dup@example.com", "")
	u := domain.User{Email: "dup@example.com", DisplayName: "Dup", CreateTime: e.clock.Now()}
	err := e.store.Update(e.ctx, func(tx domain.Tx) error { return tx.CreateUser(e.ctx, &u) })
	wantCode(t, "CreateUser with a taken email", err, domain.ECONFLICT)
	if _, err := e.store.UserByID(e.ctx, 987654); domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Errorf("UserByID(missing) = %v, want not found", err)
	}
	if _, err := e.store.UserByEmail(e.ctx, "missing@example.com"); domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Errorf("UserByEmail(missing) = %v, want not found", err)
	}
}

// Concurrent writers do not fail with SQLITE_BUSY (immediate transactions
// and the busy timeout).
func TestConcurrentUpdates(t *testing.T) {
	e := newEnv(t)
	const writers, each = 8, 15
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				err := e.store.Update(e.ctx, func(tx domain.Tx) error {
					n, err := tx.CountUsers(e.ctx)
					if err != nil {
						return err
					}
					u := domain.User{Email: fmt.Sprintf("w%d-%d-%d@example.com", w, i, n), DisplayName: "W", CreateTime: time.Now()}
					return tx.CreateUser(e.ctx, &u)
				})
				if err != nil {
					errs <- err
				}
				if _, err := e.store.CountUsers(e.ctx); err != nil {
					errs <- err
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent write: %v", err)
	}
	if n := e.count("SELECT count(*) FROM users"); n != writers*each {
		t.Errorf("users = %d, want %d", n, writers*each)
	}
}
