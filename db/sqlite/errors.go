package sqlite

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"studio/domain"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Conditions in which the database cannot save changes. They name what an
// operator must fix; /healthz shows them as "failing: <condition>".
const (
	condDiskFull = "disk full"
	condReadOnly = "read-only"
	condLocked   = "locked"
	condCorrupt  = "corrupt"
	condIO       = "disk I/O error"
)

// errWriteQueueTimeout is a write that waited too long for its turn: the
// writer ahead of it is stuck on a lock another process holds.
var errWriteQueueTimeout = errors.New("waited too long for the writer connection")

// condition names the condition behind a failed write to the database at
// path, or "" when err is not one (a constraint, a domain refusal, a
// cancelled request).
func condition(path string, err error) string {
	if errors.Is(err, errWriteQueueTimeout) {
		return condLocked
	}
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return ""
	}
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_FULL:
		return condDiskFull
	case sqlite3.SQLITE_READONLY, sqlite3.SQLITE_PERM:
		return condReadOnly
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		return condLocked
	case sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB:
		return condCorrupt
	case sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN:
		// SQLite reports a write refused for lack of space as SQLITE_FULL
		// only when the disk is truly full (ENOSPC); a file-size limit
		// (EFBIG) or a quota comes back as an I/O error. Look.
		if outOfSpace(path) {
			return condDiskFull
		}
		return condIO
	}
	return ""
}

// retryAfter is what a client is told to wait, in seconds, per condition.
func retryAfter(cond string) int {
	if cond == condLocked {
		return 5
	}
	return 60
}

// unavailable is the error a client gets for a write refused by a condition.
func unavailable(cond string, cause error) error {
	return &domain.Error{Code: domain.EUNAVAILABLE, RetryAfter: retryAfter(cond), Err: fmt.Errorf("%s: %w", cond, cause),
		Message: "The service cannot save changes right now. Nothing was changed; please try again in a few minutes."}
}

// writeHealth remembers whether writes work, from the outcome of the last
// write (and the probe), and logs each change of condition once.
type writeHealth struct {
	logger *slog.Logger
	path   string

	mu        sync.Mutex
	condition string    // "" while writes work
	since     time.Time // when the condition began
	lastWrite time.Time // when the last write ended, failed or not
}

// record notes the outcome of a write: cond is "" for a success.
func (h *writeHealth) record(cond string, cause error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := time.Now()
	h.lastWrite = now
	if cond == h.condition || h.condition == condCorrupt {
		// Corruption does not heal: a write elsewhere in the file may
		// work, but the file needs a restore, so the condition stays.
		return
	}
	switch {
	case cond == "":
		h.logger.Info("database writes work again", "db", h.path, "failed_for", now.Sub(h.since).Round(time.Millisecond), "condition_was", h.condition)
	case h.condition == "":
		h.logger.Error("database writes failing: changes are refused with 503 until this is fixed",
			"db", h.path, "condition", cond, "hint", hint(cond), "err", cause)
	default:
		h.logger.Error("database writes still failing, now for another reason",
			"db", h.path, "condition", cond, "was", h.condition, "hint", hint(cond), "err", cause)
	}
	if h.condition == "" {
		h.since = now
	}
	h.condition = cond
}

func (h *writeHealth) state() (cond string, lastWrite time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.condition, h.lastWrite
}

// hint says what an operator can do about a condition.
func hint(cond string) string {
	switch cond {
	case condDiskFull:
		return "free space on the disk holding the database (or raise the file-size limit)"
	case condReadOnly:
		return "make the database file, its -wal and -shm files and their directory writable, or remount the filesystem read-write"
	case condLocked:
		return "another process holds the database's write lock: find it (fuser, lsof) and end its transaction"
	case condCorrupt:
		return "stop the server and restore the last backup (README, Restore)"
	}
	return "check the disk and the kernel log"
}
