package sqlite_test

import (
	"context"
	"strings"
	"testing"

	"studio/domain"
)

// TestErrorsNameTheOperation: a failed statement's error says which store
// operation failed, for reads and for writes in a transaction, and keeps
// its meaning (a missing row is still not found).
func TestErrorsNameTheOperation(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.store.KeyByID(ctx, "aaaaaaaaaaaaaaaaaaaa"); domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Fatalf("a missing key: %v, want not found", err)
	}
	// A key of no service account breaks the foreign key.
	err := e.store.Update(ctx, func(tx domain.Tx) error {
		return tx.CreateKey(ctx, domain.Key{ID: "bbbbbbbbbbbbbbbbbbbb", ServiceAccountID: "no such account", CreateTime: e.clock.Now()})
	})
	if err == nil || !strings.Contains(err.Error(), "db.CreateKey: ") {
		t.Errorf("failed write: %v; want it to name db.CreateKey", err)
	}
	if err := e.store.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = e.store.KeyByID(ctx, "aaaaaaaaaaaaaaaaaaaa")
	if err == nil || !strings.Contains(err.Error(), "db.KeyByID: ") {
		t.Errorf("failed read: %v; want it to name db.KeyByID", err)
	}
	err = e.store.DeleteSession(ctx, "x")
	if err == nil || !strings.Contains(err.Error(), "db.DeleteSession: ") {
		t.Errorf("failed single write: %v; want it to name db.DeleteSession", err)
	}
}
