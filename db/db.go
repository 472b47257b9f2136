// Package db stores the domain in SQLite (modernc.org/sqlite, no cgo).
package db

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"studio/domain"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// DB is the SQLite store. It satisfies domain.Store.
type DB struct {
	queries
	sql    *sql.DB
	cache  *stmtCache
	tokens *tokenWriter
}

// Open opens (creating if needed) the database file at path, applies the
// pragmas every connection needs, and runs pending migrations.
func Open(ctx context.Context, path string) (*DB, error) {
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() +
		"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_txlock=immediate"
	sqldb, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	// Writes serialize in SQLite anyway; a few connections let reads run beside a write.
	sqldb.SetMaxOpenConns(8)
	sqldb.SetMaxIdleConns(8)
	sqldb.SetConnMaxIdleTime(5 * time.Minute)
	if err := sqldb.PingContext(ctx); err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	d := &DB{sql: sqldb}
	if err := d.migrate(ctx); err != nil {
		sqldb.Close()
		return nil, err
	}
	// Statements are cached only once the schema is final.
	d.cache = newStmtCache(sqldb)
	d.queries = queries{q: cachedDB{d.cache}}
	d.tokens = newTokenWriter(sqldb)
	return d, nil
}

// Close closes the database.
func (d *DB) Close() error {
	if d.tokens != nil {
		d.tokens.close()
	}
	if d.cache != nil {
		d.cache.close()
	}
	return d.sql.Close()
}

// Ping checks that the database answers a query.
func (d *DB) Ping(ctx context.Context) error {
	var one int
	return d.sql.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

type migration struct {
	version int
	name    string
	sql     string
}

func loadMigrations() ([]migration, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, n := range names {
		base := strings.TrimPrefix(n, "migrations/")
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must start with a number and an underscore", base)
		}
		body, err := migrationFiles.ReadFile(n)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: base, sql: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i, m := range out {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s: expected version %d", m.name, i+1)
		}
	}
	return out, nil
}

// SchemaVersion is the newest migration this binary knows.
func SchemaVersion() int {
	ms, err := loadMigrations()
	if err != nil || len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].version
}

// migrate applies each pending migration in its own transaction and records it.
func (d *DB) migrate(ctx context.Context) error {
	ms, err := loadMigrations()
	if err != nil {
		return err
	}
	if _, err := d.sql.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	var current int
	if err := d.sql.QueryRowContext(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&current); err != nil {
		return err
	}
	if known := len(ms); current > known {
		return fmt.Errorf("the database schema is version %d but this studio binary knows only up to version %d: "+
			"run a newer studio, or restore a backup made by this version", current, known)
	}
	for _, m := range ms[current:] {
		err := d.update(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
				m.version, m.name, time.Now().UnixMicro())
			return err
		})
		if err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
	}
	return nil
}

// update runs fn in one (immediate) transaction.
func (d *DB) update(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := d.sql.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// Update runs fn in one write transaction; see domain.Store.
func (d *DB) Update(ctx context.Context, fn func(domain.Tx) error) error {
	return d.update(ctx, func(tx *sql.Tx) error { return fn(&writeTx{queries{q: tx}}) })
}

// queryer is what both *sql.DB and *sql.Tx offer.
type queryer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// queries holds the reads, on the database or inside a transaction.
type queries struct {
	q queryer
}

// writeTx holds the writes of one transaction.
type writeTx struct {
	queries
}

func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

// notFound maps a missing row to the domain's not-found error.
func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return domain.ErrNotFound(what)
	}
	return err
}

// isUnique reports whether err is a UNIQUE or PRIMARY KEY violation.
func isUnique(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		c := se.Code()
		return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// nameKey is the sort key of a display name.
func nameKey(name string) string { return strings.ToLower(name) }

// accountColumn returns the membership column and value naming an account.
func accountColumn(a domain.AccountRef) (string, any, error) {
	switch a.Type {
	case domain.AccountUser:
		id, err := strconv.ParseInt(a.ID, 10, 64)
		if err != nil {
			return "", nil, fmt.Errorf("user account id %q: %w", a.ID, err)
		}
		return "user_id", id, nil
	case domain.AccountServiceAccount:
		return "service_account_id", a.ID, nil
	}
	return "", nil, fmt.Errorf("unknown account type %q", a.Type)
}
