// Package sqlite stores the domain in SQLite (modernc.org/sqlite, no cgo).
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
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
//
// Reads and writes use separate connections: a read-only pool sized for
// readers, and one writer connection that writers take in turn, in the
// order they arrive. A writer waiting for a lock held by another process
// (the command line, a backup tool) then holds only that one connection,
// never the connections readers need.
type DB struct {
	queries // reads on the read pool, through cached statements
	path    string
	read    *sql.DB
	write   *writer
	cache   *stmtCache
	tokens  *tokenWriter
	health  *writeHealth
	count   *StatementCounter // nil unless Options.Count
}

// Options change how Open opens the database.
type Options struct {
	// Logger receives the changes of write health; nil discards them.
	Logger *slog.Logger
	// IntegrityCheck runs PRAGMA quick_check before anything else, for at
	// most this long; 0 skips it. A corrupt file is refused.
	IntegrityCheck time.Duration
	// BusyTimeout is how long a write waits for a lock another process
	// holds before it is refused as "locked"; 0 means DefaultBusyTimeout.
	BusyTimeout time.Duration
	// Count, when set, counts every statement and write transaction (tests).
	Count *StatementCounter
}

// readConns is the size of the read pool.
const readConns = 8

// DefaultBusyTimeout is how long a write waits for a lock another
// process holds, and half of how long it may wait for its turn on the
// writer: past either it is refused as "locked".
const DefaultBusyTimeout = 5 * time.Second

// Open opens the database at path (creating it when missing), applies
// the pragmas every connection needs, and runs pending migrations.
func Open(ctx context.Context, path string) (*DB, error) {
	return OpenWith(ctx, path, Options{})
}

// OpenWith is Open with options. The database file is created here with
// mode 0600 (SQLite gives its -wal and -shm files the database's mode); a
// file others may read, a read-only file, filesystem or directory, a
// missing directory, an empty file we did not just create, and (with
// IntegrityCheck) a corrupt file are refused with what to do about it.
func OpenWith(ctx context.Context, path string, opts Options) (*DB, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	created, err := prepareFiles(path)
	if err != nil {
		return nil, err
	}
	busyTimeout := opts.BusyTimeout
	if busyTimeout <= 0 {
		busyTimeout = DefaultBusyTimeout
	}
	file := "file:" + (&url.URL{Path: path}).EscapedPath()
	busy := "_pragma=busy_timeout(" + strconv.Itoa(int(busyTimeout/time.Millisecond)) + ")"
	wdb, err := sql.Open("sqlite", file+"?"+busy+"&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	// One connection: writers queue in Go (see writer), not in the pool.
	wdb.SetMaxOpenConns(1)
	wdb.SetMaxIdleConns(1)
	wdb.SetConnMaxIdleTime(0)
	d := &DB{path: path, health: &writeHealth{logger: logger, path: path}, count: opts.Count}
	d.write = newWriter(wdb, path, d.health, 2*busyTimeout)
	fail := func(err error) (*DB, error) {
		d.closeConns()
		return nil, err
	}
	if err := wdb.PingContext(ctx); err != nil {
		return fail(d.openError(err))
	}
	if opts.IntegrityCheck > 0 && !created {
		if err := d.quickCheck(ctx, opts.IntegrityCheck, logger); err != nil {
			return fail(err)
		}
	}
	if err := d.migrate(ctx); err != nil {
		return fail(d.openError(err))
	}
	// A write now: SQLite opens a file it may not write read-only without
	// a word, and the first change would fail.
	if err := d.probe(ctx); err != nil {
		return fail(d.openError(err))
	}
	rdb, err := sql.Open("sqlite", file+"?"+busy+"&_pragma=foreign_keys(1)&_pragma=query_only(1)")
	if err != nil {
		return fail(err)
	}
	rdb.SetMaxOpenConns(readConns)
	rdb.SetMaxIdleConns(readConns)
	rdb.SetConnMaxIdleTime(5 * time.Minute)
	d.read = rdb
	if err := rdb.PingContext(ctx); err != nil {
		return fail(d.openError(err))
	}
	// Statements are cached only once the schema is final.
	d.cache = newStmtCache(rdb)
	d.queries = queries{q: named(counted(cachedDB{d.cache}, d.count))}
	d.tokens = newTokenWriter(d.write, d.count)
	return d, nil
}

// openError says what stopped the database from opening, with its path.
func (d *DB) openError(err error) error {
	var de *domain.Error
	if errors.As(err, &de) && de.Code == domain.EUNAVAILABLE {
		err = de.Err
	}
	switch cond := condition(d.path, err); cond {
	case condCorrupt:
		return fmt.Errorf("the database %s is corrupt or not a SQLite database (%v): %s", d.path, err, restoreHint(d.path))
	case "":
		return fmt.Errorf("open database %s: %w", d.path, err)
	default:
		return fmt.Errorf("cannot write the database %s: %s (%v): %s", d.path, cond, err, hint(cond))
	}
}

// restoreHint says how to put a backup in place (README, Restore).
func restoreHint(path string) string {
	return fmt.Sprintf("stop here and restore the last good backup (README, Restore): move %s and any %s-wal and %s-shm aside, "+
		"copy the backup to %s, and start with the server key file that belonged to it", path, path, path, path)
}

// quickCheck runs PRAGMA quick_check for at most limit. A check that runs
// out of time is logged and skipped: on a very large file it would hold
// the start up for long (--skip-integrity-check turns it off).
func (d *DB) quickCheck(ctx context.Context, limit time.Duration, logger *slog.Logger) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	rows, err := d.write.db.QueryContext(ctx, "PRAGMA quick_check")
	if err != nil {
		return d.checkError(ctx, limit, logger, err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return err
		}
		if line != "ok" && len(problems) < 5 {
			problems = append(problems, line)
		}
	}
	if err := rows.Err(); err != nil {
		return d.checkError(ctx, limit, logger, err)
	}
	if len(problems) > 0 {
		return fmt.Errorf("the database %s is corrupt (quick_check: %s): %s", d.path, strings.Join(problems, "; "), restoreHint(d.path))
	}
	return nil
}

func (d *DB) checkError(ctx context.Context, limit time.Duration, logger *slog.Logger, err error) error {
	if ctx.Err() != nil {
		logger.Warn("integrity check skipped: quick_check did not finish in time; on a database this large start with --skip-integrity-check",
			"db", d.path, "limit", limit)
		return nil
	}
	return d.openError(err)
}

// Close waits for the write in progress, commits the queued access
// tokens, and closes the database.
func (d *DB) Close() error {
	if d.tokens != nil {
		d.tokens.close()
	}
	var err error
	if d.write != nil {
		err = d.write.close()
	}
	if d.cache != nil {
		d.cache.close()
	}
	return errors.Join(err, d.closeConns())
}

func (d *DB) closeConns() error {
	var errs []error
	if d.read != nil {
		errs = append(errs, d.read.Close())
	}
	if d.write != nil {
		errs = append(errs, d.write.db.Close())
	}
	return errors.Join(errs...)
}

// Ping checks that the database answers a query.
func (d *DB) Ping(ctx context.Context) error {
	var one int
	return d.read.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// WriteHealth is "ok" while writes work, else "failing: <condition>" (disk
// full, read-only, locked, corrupt, disk I/O error), from the outcome of
// the last write and of the probe (see WatchWrites).
func (d *DB) WriteHealth() string {
	if cond, _ := d.health.state(); cond != "" {
		return "failing: " + cond
	}
	return "ok"
}

// WatchWrites probes the database with a small write every interval while
// writes fail, so health turns back to ok once the condition is fixed, and
// after idle minutes while they work, so a disk that filled up while
// nothing was written shows before the next change fails. It returns when
// ctx ends.
func (d *DB) WatchWrites(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cond, last := d.health.state()
		if cond == "" && time.Since(last) < idleProbe {
			continue
		}
		_ = d.probe(ctx)
	}
}

// idleProbe is how long writes may be idle before the probe checks them.
const idleProbe = time.Minute

// probe writes one small row through the writer, like any change.
func (d *DB) probe(ctx context.Context) error {
	_, err := d.exec(ctx, "UPDATE server_meta SET probe_time = ? WHERE id = 1", time.Now().UnixMicro())
	return err
}

// writer is the one write connection. A write takes its turn (a channel
// of one: goroutines blocked on it are served in arrival order), runs,
// and gives the turn to the next. Every outcome goes to the write health.
type writer struct {
	db      *sql.DB
	path    string
	health  *writeHealth
	maxWait time.Duration // for the turn
	turn    chan struct{}
	closed  chan struct{} // closed by close
}

func newWriter(db *sql.DB, path string, health *writeHealth, maxWait time.Duration) *writer {
	return &writer{db: db, path: path, health: health, maxWait: maxWait, turn: make(chan struct{}, 1), closed: make(chan struct{})}
}

// errClosed is a write after Close.
var errClosed = errors.New("the database is closed")

// run runs fn in the writer's turn and classifies its error: a condition
// (disk full, read-only, locked, corrupt) becomes EUNAVAILABLE.
func (w *writer) run(ctx context.Context, fn func(context.Context) error) error {
	err := w.take(ctx)
	if err == nil {
		err = func() error {
			defer func() { <-w.turn }() // even when fn panics
			return fn(ctx)
		}()
	}
	cond := condition(w.path, err)
	if cond != "" || err == nil {
		w.health.record(cond, err)
	}
	if cond != "" {
		return unavailable(cond, err)
	}
	return err
}

// take waits for the writer's turn, at most maxWait.
func (w *writer) take(ctx context.Context) error {
	select {
	case <-w.closed:
		return errClosed
	default:
	}
	t := time.NewTimer(w.maxWait)
	defer t.Stop()
	select {
	case w.turn <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return errWriteQueueTimeout
	case <-w.closed:
		return errClosed
	}
}

// close waits for the write in progress to end (at most maxWait),
// then keeps the turn: every later write is refused.
func (w *writer) close() error {
	select {
	case <-w.closed:
		return nil
	default:
	}
	defer close(w.closed)
	t := time.NewTimer(w.maxWait)
	defer t.Stop()
	select {
	case w.turn <- struct{}{}:
		return nil
	case <-t.C:
		return errors.New("a write to the database was still running when it was closed")
	}
}

// exec runs one statement on its own, in the writer's turn.
func (d *DB) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	var res sql.Result
	d.count.statement()
	err := d.write.run(ctx, func(ctx context.Context) error {
		var err error
		res, err = d.write.db.ExecContext(ctx, query, args...)
		return err
	})
	return res, opError(err)
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
	// Numbers are handed out ahead to work done in parallel, so a branch may
	// hold 011 before 008 lands: a gap is allowed, a number used twice is not.
	for i := 1; i < len(out); i++ {
		if out[i].version == out[i-1].version {
			return nil, fmt.Errorf("migrations %s and %s have the same version", out[i-1].name, out[i].name)
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
	// The record of applied migrations is the one table made here: the
	// migrations need it before they run. Every other table, server_meta
	// included (008), comes from a migration.
	err = d.update(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT`)
		return err
	})
	if err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	applied := map[int]bool{}
	rows, err := d.write.db.QueryContext(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return err
	}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return err
		}
		applied[v] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	known := map[int]bool{}
	for _, m := range ms {
		known[m.version] = true
	}
	newest := SchemaVersion()
	for v := range applied {
		if !known[v] {
			return fmt.Errorf("the database schema has version %d but this studio binary knows only up to version %d: "+
				"run a newer studio, or restore a backup made by this version", v, newest)
		}
	}
	// Every migration not yet recorded, in order: one that landed after a
	// higher number was applied (see loadMigrations) is applied too.
	for _, m := range ms {
		if applied[m.version] {
			continue
		}
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

// update runs fn in one (immediate) transaction on the writer, in its turn.
func (d *DB) update(ctx context.Context, fn func(*sql.Tx) error) error {
	return d.write.run(ctx, func(ctx context.Context) error {
		tx, err := d.write.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer func() {
			// A panic in fn must not leave the one writer connection in a
			// transaction.
			if p := recover(); p != nil {
				tx.Rollback()
				panic(p)
			}
		}()
		if err := fn(tx); err != nil {
			tx.Rollback()
			return err
		}
		return tx.Commit()
	})
}

// Update runs fn in one write transaction; see domain.Store.
func (d *DB) Update(ctx context.Context, fn func(domain.Tx) error) error {
	d.count.transaction()
	return d.update(ctx, func(tx *sql.Tx) error { return fn(&writeTx{queries{q: named(counted(tx, d.count))}}) })
}

// sqlQueryer is what both *sql.DB and *sql.Tx offer.
type sqlQueryer interface {
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
