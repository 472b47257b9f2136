package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"studio/domain"
)

type pragmaReader interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func checkPragmas(t *testing.T, where string, q pragmaReader) {
	t.Helper()
	ctx := context.Background()
	var fk, busy int
	var mode string
	if err := q.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	if err := q.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	if err := q.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&busy); err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	if fk != 1 {
		t.Errorf("%s: PRAGMA foreign_keys = %d, want 1", where, fk)
	}
	if strings.ToLower(mode) != "wal" {
		t.Errorf("%s: PRAGMA journal_mode = %q, want wal", where, mode)
	}
	if busy != 5000 {
		t.Errorf("%s: PRAGMA busy_timeout = %d, want 5000", where, busy)
	}
}

// Every connection of the pool carries the pragmas, not only the first one.
func TestPragmasOnEveryConnection(t *testing.T) {
	ctx := context.Background()
	d, err := Open(ctx, filepath.Join(t.TempDir(), "studio.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()

	// Hold several read connections at once so they are distinct.
	var conns []*sql.Conn
	for i := 0; i < 4; i++ {
		c, err := d.read.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	for i, c := range conns {
		where := "read connection " + string(rune('A'+i))
		checkPragmas(t, where, c)
		// Readers cannot write, by accident or otherwise.
		if _, err := c.ExecContext(ctx, "UPDATE server_meta SET probe_time = 1"); err == nil {
			t.Errorf("%s: a write succeeded on the read pool", where)
		}
	}
	for _, c := range conns {
		c.Close()
	}
	w, err := d.write.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	checkPragmas(t, "write connection", w)
	w.Close()

	// Inside a write transaction too.
	err = d.Update(ctx, func(tx domain.Tx) error {
		checkPragmas(t, "write transaction", tx.(*writeTx).q.(namedQueryer).q)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
