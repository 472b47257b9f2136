package sqlite

import (
	"context"
	"database/sql"
	"sync"
)

// stmtCache prepares each distinct query once per database and reuses it
// for reads outside transactions: parsing SQL was a fifth of the CPU time
// of an API request. The queries are the code's own strings (a bounded
// set), never built from input. Transactions run their statements
// unprepared: sharing these statements with them made concurrent writers
// fail with SQLITE_BUSY (seen with modernc.org/sqlite v1.62).
type stmtCache struct {
	db    *sql.DB
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, stmts: map[string]*sql.Stmt{}}
}

func (c *stmtCache) get(ctx context.Context, query string) (*sql.Stmt, error) {
	c.mu.Lock()
	s, ok := c.stmts[query]
	c.mu.Unlock()
	if ok {
		return s, nil
	}
	// Prepared without the lock: preparing may wait for a connection, and
	// nothing else may wait on the cache meanwhile.
	s, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if first, ok := c.stmts[query]; ok {
		s.Close()
		return first, nil
	}
	c.stmts[query] = s
	return s, nil
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.stmts {
		s.Close()
	}
	c.stmts = map[string]*sql.Stmt{}
}

// cachedDB runs queries on the database through cached statements.
//
// The queries run with their context's values but not its cancellation
// (see readContext).
type cachedDB struct{ cache *stmtCache }

// readContext is the context a read runs with: ctx itself once it has
// ended (the query then fails at once, as before), else ctx without its
// cancellation. A query whose context can end gets two goroutines of its
// own, one from database/sql (Rows.awaitDone) and one from
// modernc.org/sqlite (interruptOnDone), each scheduled once only to exit:
// about nine per API request. On one CPU they filled the scheduler's local
// run queue (256) past overflow, and what overflowed waited in the global
// queue, served once every 61 turns: the seconds-long p99 of issue 17.
// Reads here are single indexed lookups and bounded pages; a request
// whose client has gone stops before its next query instead of inside
// one.
func readContext(ctx context.Context) context.Context {
	if ctx.Err() != nil {
		return ctx
	}
	return context.WithoutCancel(ctx)
}

func (d cachedDB) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	s, err := d.cache.get(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.ExecContext(readContext(ctx), args...)
}

func (d cachedDB) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	s, err := d.cache.get(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(readContext(ctx), args...)
}

func (d cachedDB) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	s, err := d.cache.get(ctx, query)
	if err != nil {
		// A *sql.Row cannot be made with an error; let the database report it.
		return d.cache.db.QueryRowContext(ctx, query, args...)
	}
	return s.QueryRowContext(readContext(ctx), args...)
}
