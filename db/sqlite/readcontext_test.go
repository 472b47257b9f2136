package sqlite_test

import (
	"context"
	"errors"
	"runtime/metrics"
	"testing"

	"studio/domain"
)

// goroutinesCreated is how many goroutines this process has started.
func goroutinesCreated() uint64 {
	s := []metrics.Sample{{Name: "/sched/goroutines-created:goroutines"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// Issue 17, the seconds-long p99: a read under a request's context (one
// that can be cancelled) started two goroutines per query, one in
// database/sql and one in modernc.org/sqlite, each only to wait for the
// context or the end of the query. At 64 clients on one CPU they were
// ~9 per API request, the scheduler's local run queue overflowed, and
// what overflowed waited up to a second in the global queue. Reads now
// start none; a read whose context has already ended still fails at once.
func TestReadsStartNoGoroutinePerQuery(t *testing.T) {
	e := newEnv(t)
	b := e.bootstrap()
	sess := domain.Session{IDHash: "h1", UserID: b.admin.ID, Data: []byte("x"), CreateTime: e.clock.Now(), LastSeen: e.clock.Now()}
	if err := e.store.CreateSession(e.ctx, sess); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	// Warm up: the first use of a statement prepares it.
	if _, err := e.store.ProjectByID(ctx, b.inventory.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.SessionByHash(ctx, "h1"); err != nil {
		t.Fatal(err)
	}
	const reads = 100
	before := goroutinesCreated()
	for range reads {
		p, err := e.store.ProjectByID(ctx, b.inventory.ID)
		if err != nil || p.ID != b.inventory.ID {
			t.Fatalf("ProjectByID = %+v, %v", p, err)
		}
		s, err := e.store.SessionByHash(ctx, "h1")
		if err != nil || s.UserID != b.admin.ID {
			t.Fatalf("SessionByHash = %+v, %v", s, err)
		}
		u, err := e.store.UserByEmail(ctx, b.admin.Email)
		if err != nil || u.ID != b.admin.ID {
			t.Fatalf("UserByEmail = %+v, %v", u, err)
		}
	}
	// Room for the odd goroutine of the runtime or the writer; the old
	// code started two per query, 600 here.
	if n := goroutinesCreated() - before; n > 20 {
		t.Errorf("%d reads started %d goroutines, want (almost) none", 3*reads, n)
	}

	cancel()
	if _, err := e.store.ProjectByID(ctx, b.inventory.ID); !errors.Is(err, context.Canceled) {
		t.Errorf("read with an ended context: %v, want context.Canceled", err)
	}
	if _, err := e.store.SessionByHash(ctx, "h1"); !errors.Is(err, context.Canceled) {
		t.Errorf("session read with an ended context: %v, want context.Canceled", err)
	}
}
