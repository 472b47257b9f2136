package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"
)

// Backup writes a consistent copy of the database to path while it is in
// use (VACUUM INTO reads one snapshot; writers go on), then checks the
// copy's integrity. path must not exist.
func (d *DB) Backup(ctx context.Context, path string) error {
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("%s already exists: choose a new file for the backup", path)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	// Made empty first with mode 0600 (VACUUM INTO accepts an empty file),
	// so the copy is never readable by others, not even for a moment.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	// VACUUM INTO reads one snapshot, so writers go on meanwhile. It runs
	// on a connection of its own: the read pool's are query_only, which
	// refuses it, and the writer's must not wait for a backup.
	conn, err := sql.Open("sqlite", "file:"+(&url.URL{Path: d.path}).EscapedPath()+"?_pragma=busy_timeout(5000)")
	if err != nil {
		return err
	}
	_, err = conn.ExecContext(ctx, "VACUUM INTO ?", path)
	conn.Close()
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("backup: %w", err)
	}
	return CheckIntegrity(ctx, path)
}

// CheckIntegrity opens a database file read-only and runs PRAGMA integrity_check.
func CheckIntegrity(ctx context.Context, path string) error {
	copyDB, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?mode=ro")
	if err != nil {
		return err
	}
	defer copyDB.Close()
	rows, err := copyDB.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return fmt.Errorf("integrity check of %s: %w", path, err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return err
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(problems) > 0 {
		return fmt.Errorf("integrity check of %s failed: %s", path, strings.Join(problems, "; "))
	}
	return nil
}
