package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"runtime"
	"strings"
	"unicode"
)

// queryer is what the store's methods run their SQL on: the read pool or
// a write transaction, with every error naming the store operation that
// failed ("db.KeyByID: ..."), so that a log line says where. Errors keep
// their cause: errors.Is(err, sql.ErrNoRows) and the SQLite codes still
// match through the name.
type queryer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) row
}

// row is a *sql.Row whose errors name the operation.
type row interface {
	Scan(dest ...any) error
	Err() error
}

type namedQueryer struct{ q sqlQueryer }

// named makes q's errors name the operation that ran the statement.
func named(q sqlQueryer) queryer { return namedQueryer{q: q} }

func (n namedQueryer) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	res, err := n.q.ExecContext(ctx, query, args...)
	return res, opError(err)
}

func (n namedQueryer) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	rows, err := n.q.QueryContext(ctx, query, args...)
	return rows, opError(err)
}

func (n namedQueryer) QueryRowContext(ctx context.Context, query string, args ...any) row {
	return namedRow{n.q.QueryRowContext(ctx, query, args...)}
}

type namedRow struct{ r *sql.Row }

func (r namedRow) Scan(dest ...any) error { return opError(r.r.Scan(dest...)) }
func (r namedRow) Err() error             { return opError(r.r.Err()) }

// opError names the store operation err happened in: the nearest caller
// that is an exported method or function of this package. It runs only on
// the error path.
func opError(err error) error {
	if err == nil {
		return nil
	}
	if op := operation(); op != "" {
		return fmt.Errorf("db.%s: %w", op, err)
	}
	return err
}

func operation() string {
	pcs := make([]uintptr, 16)
	n := runtime.Callers(2, pcs)
	frames := runtime.CallersFrames(pcs[:n])
	for {
		f, more := frames.Next()
		// "studio/db/sqlite.(*writeTx).CreateKey", "studio/db/sqlite.queries.KeyByID",
		// "studio/db/sqlite.(*DB).SetKeyCheck", "studio/db/sqlite.(*DB).Update.func1".
		rest, ok := strings.CutPrefix(f.Function, "studio/db/sqlite.")
		if ok && !strings.HasPrefix(rest, "namedQueryer.") && !strings.HasPrefix(rest, "namedRow.") {
			name := rest[strings.LastIndex(rest, ".")+1:]
			if name != "" && unicode.IsUpper(rune(name[0])) {
				return name
			}
		}
		if !more {
			return ""
		}
	}
}
