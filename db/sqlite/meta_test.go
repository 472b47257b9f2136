package sqlite_test

import (
	"testing"

	"studio/db/sqlite"
)

// TestServerMetaComesFromAMigration: server_meta is made by migration 008,
// like every other table (db.Open made it itself before), and a database
// that already had it, with its server key's check value, keeps both.
func TestServerMetaComesFromAMigration(t *testing.T) {
	e := newEnv(t)
	if n := e.count("SELECT count(*) FROM schema_migrations WHERE version = 8 AND name = '008_server_meta.sql'"); n != 1 {
		t.Fatalf("migration 008_server_meta.sql recorded %d times, want 1", n)
	}
	if n := e.count("SELECT count(*) FROM server_meta WHERE id = 1"); n != 1 {
		t.Fatalf("server_meta has %d rows, want 1", n)
	}
	if _, err := e.store.SetKeyCheck(e.ctx, "check value of the key", true); err != nil {
		t.Fatal(err)
	}

	// A database from before 008: server_meta made outside the migrations.
	if _, err := e.raw.ExecContext(e.ctx, "DELETE FROM schema_migrations WHERE version = 8"); err != nil {
		t.Fatal(err)
	}
	if err := e.store.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := sqlite.Open(e.ctx, e.path)
	if err != nil {
		t.Fatalf("Open of a database from before 008: %v", err)
	}
	defer again.Close()
	if n := e.count("SELECT count(*) FROM schema_migrations WHERE version = 8"); n != 1 {
		t.Errorf("008 applied %d times on reopen, want 1", n)
	}
	if n := e.count("SELECT count(*) FROM server_meta"); n != 1 {
		t.Errorf("server_meta has %d rows after 008, want 1", n)
	}
	check, err := again.KeyCheck(e.ctx)
	if err != nil || check != "check value of the key" {
		t.Errorf("key check after 008 = %q, %v; want the one recorded before", check, err)
	}
}
