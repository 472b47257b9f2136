package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"studio/domain"
)

// A writer connection SQLite has made read-only (as it does, silently,
// for a file it may not write) refuses changes with SQLITE_READONLY: the
// write is refused as unavailable, "read-only"; once writable again,
// writes work and health is ok.
func TestReadOnlyWriterIsUnavailable(t *testing.T) {
	ctx := context.Background()
	d, err := Open(ctx, filepath.Join(t.TempDir(), "studio.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	addUser := func(email string) error {
		return d.Update(ctx, func(tx domain.Tx) error {
			return tx.CreateUser(ctx, &domain.User{Email: email, DisplayName: "U", CreateTime: time.Now()})
		})
	}
	if _, err := d.write.db.ExecContext(ctx, "PRAGMA query_only = 1"); err != nil {
		t.Fatal(err)
	}
	err = addUser("refused@example.com")
	if domain.ErrorCode(err) != domain.EUNAVAILABLE {
		t.Fatalf("write on a read-only connection: %v, want EUNAVAILABLE", err)
	}
	if got := d.WriteHealth(); got != "failing: read-only" {
		t.Errorf("WriteHealth = %q", got)
	}
	if _, err := d.write.db.ExecContext(ctx, "PRAGMA query_only = 0"); err != nil {
		t.Fatal(err)
	}
	if err := addUser("after@example.com"); err != nil {
		t.Fatal(err)
	}
	if got := d.WriteHealth(); got != "ok" {
		t.Errorf("WriteHealth = %q after a write worked", got)
	}
	if n, _ := d.CountUsers(ctx); n != 1 {
		t.Errorf("%d users, want only the one acknowledged", n)
	}
}

// A panic inside a write transaction rolls it back and frees the writer:
// the next write goes through.
func TestPanicInWriteFreesTheWriter(t *testing.T) {
	ctx := context.Background()
	d, err := Open(ctx, filepath.Join(t.TempDir(), "studio.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the panic did not come through")
			}
		}()
		d.Update(ctx, func(tx domain.Tx) error {
			tx.CreateUser(ctx, &domain.User{Email: "half@example.com", DisplayName: "H", CreateTime: time.Now()})
			panic("boom")
		})
	}()
	done := make(chan error, 1)
	go func() {
		done <- d.Update(ctx, func(tx domain.Tx) error {
			return tx.CreateUser(ctx, &domain.User{Email: "next@example.com", DisplayName: "N", CreateTime: time.Now()})
		})
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the writer is still taken after a panic")
	}
	if n, _ := d.CountUsers(ctx); n != 1 {
		t.Errorf("%d users, want only the one after the panic", n)
	}
}
