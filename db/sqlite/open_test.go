package sqlite_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"studio/db/sqlite"
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
	// Numbers are handed out ahead to parallel work, so they may have gaps,
	// but each file carries its own, and they rise.
	versions := make([]int, len(files))
	for i, f := range files {
		num, _, _ := strings.Cut(f, "_")
		v, err := strconv.Atoi(num)
		if err != nil || fmt.Sprintf("%03d_", v) != num+"_" || (i > 0 && v <= versions[i-1]) {
			t.Fatalf("migration file %s does not carry a version above the one before (%v)", f, files)
		}
		versions[i] = v
	}
	if got, want := sqlite.SchemaVersion(), versions[len(versions)-1]; got != want {
		t.Errorf("SchemaVersion() = %d, want %d (files %v)", got, want, files)
	}
	ms := e.migrations()
	if len(ms) != len(files) {
		t.Fatalf("schema_migrations has %d rows, want %d: %+v", len(ms), len(files), ms)
	}
	for i, m := range ms {
		if m.version != versions[i] || m.name != files[i] {
			t.Errorf("schema_migrations row %d = %+v, want version %d name %s", i, m, versions[i], files[i])
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

	again, err := sqlite.Open(e.ctx, e.path)
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
	future := sqlite.SchemaVersion() + 1
	if _, err := e.raw.ExecContext(e.ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
		future, fmt.Sprintf("%03d_from_the_future.sql", future), time.Now().UnixMicro()); err != nil {
		t.Fatal(err)
	}
	d, err := sqlite.Open(e.ctx, e.path)
	if err == nil {
		d.Close()
		t.Fatal("Open of a database with a newer schema succeeded")
	}
	for _, v := range []int{future, sqlite.SchemaVersion()} {
		if !strings.Contains(err.Error(), strconv.Itoa(v)) {
			t.Errorf("error %q does not mention version %d", err, v)
		}
	}
	// Nothing was changed by the refused Open.
	if n := e.count("SELECT count(*) FROM schema_migrations"); n != len(migrationFilesOnDisk(t))+1 {
		t.Errorf("schema_migrations has %d rows, want the %d known and the future one", n, len(migrationFilesOnDisk(t)))
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
	d, err := sqlite.Open(context.Background(), path)
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

// A missing directory, a read-only file, directory or filesystem, an empty
// file and a corrupt file are refused with the path and what to do, not
// with SQLite's "unable to open database file (14)".
func TestOpenFailsOnMissingDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "no", "such", "dir")
	path := filepath.Join(dir, "studio.db")
	d, err := sqlite.Open(context.Background(), path)
	if err == nil {
		d.Close()
		t.Fatal("Open in a missing directory succeeded")
	}
	wantMessage(t, err, path, "directory "+dir+" does not exist", "mkdir -p "+dir)
	if _, err := os.Stat(dir); err == nil {
		t.Error("the refused Open made the directory")
	}
}

// wantMessage checks that an error says each of the parts, and not SQLite's
// own words for a file it cannot open.
func wantMessage(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want one saying %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not say %q", err, p)
		}
	}
	if strings.Contains(err.Error(), "unable to open database file") {
		t.Errorf("error %q is SQLite's, not ours", err)
	}
}

// The database and its -wal and -shm files are made 0600: they hold
// password hashes, sessions and sealed secrets.
func TestOpenCreatesPrivateFiles(t *testing.T) {
	e := newEnv(t)
	e.bootstrap() // a write, so the -wal and -shm files exist
	for _, name := range []string{e.path, e.path + "-wal", e.path + "-shm"} {
		info, err := os.Stat(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if info.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %o, want 600", filepath.Base(name), info.Mode().Perm())
		}
	}
}

// A database file, -wal or -shm others may read is refused, with the
// command that fixes it; nothing is changed.
func TestOpenRefusesFilesOthersCanRead(t *testing.T) {
	for _, suffix := range []string{"", "-wal"} {
		e := newEnv(t)
		e.bootstrap()
		// Keep the -wal: the raw connection stays open while the store closes.
		e.count("SELECT count(*) FROM users")
		if err := e.store.Close(); err != nil {
			t.Fatal(err)
		}
		loose := e.path + suffix
		if err := os.Chmod(loose, 0o644); err != nil {
			t.Fatal(err)
		}
		d, err := sqlite.Open(e.ctx, e.path)
		if err == nil {
			d.Close()
			t.Fatalf("Open with %s mode 644 succeeded", filepath.Base(loose))
		}
		wantMessage(t, err, "readable by other users", "chmod 600 "+loose)
		if info, _ := os.Stat(loose); info.Mode().Perm() != 0o644 {
			t.Errorf("the refused Open changed the mode of %s", loose)
		}
	}
}

// An existing empty file is not taken for a new database: it may be a
// copy that went wrong. Only a file Open creates itself starts empty.
func TestOpenRefusesAnEmptyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "studio.db")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	d, err := sqlite.Open(context.Background(), path)
	if err == nil {
		d.Close()
		t.Fatal("Open of an existing empty file succeeded")
	}
	wantMessage(t, err, path, "exists but is empty", "restore a backup", "remove the empty file")
	if info, err := os.Stat(path); err != nil || info.Size() != 0 {
		t.Errorf("the refused Open wrote into the empty file: %v", err)
	}
}

// makeReadOnly makes path unwritable for this process: chmod for a
// normal user, the immutable attribute for root (which ignores modes).
func makeReadOnly(t *testing.T, path string) {
	t.Helper()
	if os.Getuid() != 0 {
		if err := os.Chmod(path, 0o400); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(path, 0o600) })
		return
	}
	if out, err := exec.Command("chattr", "+i", path).CombinedOutput(); err != nil {
		t.Skipf("running as root, and chattr +i is not possible here: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("chattr", "-i", path).Run() })
}

func TestOpenRefusesReadOnlyFile(t *testing.T) {
	e := newEnv(t)
	e.bootstrap()
	e.store.Close()
	e.raw.Close()
	makeReadOnly(t, e.path)
	d, err := sqlite.Open(e.ctx, e.path)
	if err == nil {
		d.Close()
		t.Fatal("Open of a read-only database file succeeded: its first change would fail")
	}
	wantMessage(t, err, e.path)
	if !strings.Contains(err.Error(), "read-only") && !strings.Contains(err.Error(), "may not be written") {
		t.Errorf("error %q does not say the file cannot be written", err)
	}
}

func TestOpenRefusesReadOnlyDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	makeReadOnly(t, dir)
	path := filepath.Join(dir, "studio.db")
	d, err := sqlite.Open(context.Background(), path)
	if err == nil {
		d.Close()
		t.Fatal("Open in a read-only directory succeeded")
	}
	wantMessage(t, err, path, "its directory "+dir, "-wal")
}

// corruptTable overwrites the root page of a table of the closed database
// at path with garbage.
func corruptTable(t *testing.T, path, table string) {
	t.Helper()
	raw, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath())
	if err != nil {
		t.Fatal(err)
	}
	var root, pageSize int64
	err = raw.QueryRow("SELECT rootpage FROM sqlite_master WHERE type = 'table' AND name = ?", table).Scan(&root)
	if err == nil {
		err = raw.QueryRow("PRAGMA page_size").Scan(&pageSize)
	}
	if err == nil {
		// Everything into the main file, so the garbage is what is read.
		_, err = raw.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
	}
	raw.Close()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(bytes.Repeat([]byte{0xA5}, int(pageSize)), (root-1)*pageSize); err != nil {
		t.Fatal(err)
	}
}

// With the integrity check, a corrupt file is refused at start with its
// path and how to restore a backup.
func TestOpenRefusesCorruptFile(t *testing.T) {
	e := newEnv(t)
	b := e.bootstrap()
	for i := 0; i < 50; i++ {
		e.createProject(b.principal, b.org.ID, fmt.Sprintf("Project %d with a name long enough to fill pages", i))
	}
	e.store.Close()
	e.raw.Close()
	corruptTable(t, e.path, "projects")

	d, err := sqlite.OpenWith(e.ctx, e.path, sqlite.Options{IntegrityCheck: time.Minute})
	if err == nil {
		d.Close()
		t.Fatal("Open with the integrity check accepted a corrupt file")
	}
	wantMessage(t, err, e.path, "corrupt", "restore the last good backup", "README, Restore")
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

// A migration whose number was handed out earlier but landed after a
// higher one was applied is applied at the next Open.
func TestOpenAppliesMigrationThatLandedLate(t *testing.T) {
	e := newEnv(t)
	e.store.Close()
	// As if 007 had not been there when the database was made.
	for _, stmt := range []string{"DROP TABLE failed_attempts", "DROP TABLE password_failures",
		"DELETE FROM schema_migrations WHERE version = 7"} {
		if _, err := e.raw.ExecContext(e.ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	d, err := sqlite.Open(e.ctx, e.path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer d.Close()
	if n := e.count("SELECT count(*) FROM schema_migrations WHERE version = 7 AND name = '007_password_failures.sql'"); n != 1 {
		t.Errorf("migration 007 recorded %d times after Open, want 1", n)
	}
	if n := e.count("SELECT count(*) FROM sqlite_master WHERE name IN ('password_failures', 'failed_attempts')"); n != 2 {
		t.Errorf("%d of the tables of 007 exist after Open, want 2", n)
	}
}
