package sqlite

import (
	"context"
	"database/sql"
	"sync/atomic"
)

// StatementCounter counts the SQL statements a DB runs and the write
// transactions it commits, so that tests can bound what one request costs
// (a regression to a query per row shows up as a count, not as a timing).
// Pass one in Options.Count; without it nothing is counted.
type StatementCounter struct {
	statements   atomic.Int64
	transactions atomic.Int64
}

// Statements is how many statements ran so far.
func (c *StatementCounter) Statements() int64 { return c.statements.Load() }

// Transactions is how many write transactions began so far.
func (c *StatementCounter) Transactions() int64 { return c.transactions.Load() }

func (c *StatementCounter) statement() {
	if c != nil {
		c.statements.Add(1)
	}
}

func (c *StatementCounter) transaction() {
	if c != nil {
		c.transactions.Add(1)
	}
}

// countingQueryer counts the statements run through q.
type countingQueryer struct {
	q sqlQueryer
	c *StatementCounter
}

// counted wraps q when counting is on.
func counted(q sqlQueryer, c *StatementCounter) sqlQueryer {
	if c == nil {
		return q
	}
	return countingQueryer{q: q, c: c}
}

func (q countingQueryer) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	q.c.statement()
	return q.q.ExecContext(ctx, query, args...)
}

func (q countingQueryer) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	q.c.statement()
	return q.q.QueryContext(ctx, query, args...)
}

func (q countingQueryer) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	q.c.statement()
	return q.q.QueryRowContext(ctx, query, args...)
}
