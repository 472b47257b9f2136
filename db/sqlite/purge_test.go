package sqlite_test

import (
	"fmt"
	"testing"
	"time"

	"studio/db/sqlite"
	"studio/domain"
)

// Expired sessions and access tokens are purged in bounded batches: one
// statement deletes at most its limit, oldest first for tokens, and never
// a live row; the full purge goes batch after batch to the end.
func TestPurgeExpiredInBatches(t *testing.T) {
	e := newEnv(t)
	b := e.bootstrap()
	now := e.clock.Now()
	const expired, live = 2*sqlite.PurgeBatch + 345, 7

	// Sessions: the expired ones idle for an hour, the live ones just seen.
	for i := 0; i < expired+live; i++ {
		seen := now.Add(-time.Hour)
		if i >= expired {
			seen = now
		}
		if err := e.store.CreateSession(e.ctx, domain.Session{IDHash: fmt.Sprintf("s%05d", i), UserID: b.admin.ID,
			Data: []byte("d"), CreateTime: seen, LastSeen: seen}); err != nil {
			t.Fatal(err)
		}
	}
	idleBefore, createdBefore := now.Add(-30*time.Minute), now.Add(-12*time.Hour)
	n, err := e.store.PurgeExpiredSessions(e.ctx, idleBefore, createdBefore, 100)
	if err != nil || n != 100 {
		t.Fatalf("one batch of 100 purged %d sessions (%v)", n, err)
	}
	if left := e.count("SELECT count(*) FROM sessions"); left != expired+live-100 {
		t.Fatalf("%d sessions left after a batch of 100", left)
	}
	n, err = e.store.DeleteExpiredSessions(e.ctx, idleBefore, createdBefore)
	if err != nil || n != expired-100 {
		t.Fatalf("the full purge removed %d sessions (%v), want %d", n, err, expired-100)
	}
	if left := e.count("SELECT count(*) FROM sessions WHERE last_seen >= ?", now.UnixMicro()); left != live {
		t.Errorf("%d live sessions left, want %d", left, live)
	}
	if left := e.count("SELECT count(*) FROM sessions"); left != live {
		t.Errorf("%d sessions left, want only the %d live ones", left, live)
	}

	// Access tokens: a service account's key holds them.
	svc, _ := lcServices(t, e)
	name := "Robot"
	sa, err := svc.Create(e.ctx, b.principal, b.inventory.ID, domain.ServiceAccountInput{DisplayName: &name})
	if err != nil {
		t.Fatal(err)
	}
	k, _, err := svc.CreateKey(e.ctx, b.principal, b.inventory.ID, sa.ID)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < expired+live; i++ {
		exp := now.Add(-time.Duration(expired-i) * time.Second) // the oldest first
		if i >= expired {
			exp = now.Add(time.Hour)
		}
		if err := e.store.CreateAccessToken(e.ctx, domain.AccessToken{Hash: fmt.Sprintf("t%05d", i), KeyID: k.ID,
			ServiceAccountID: sa.ID, ExpireTime: exp}); err != nil {
			t.Fatal(err)
		}
	}
	n, err = e.store.PurgeExpiredTokens(e.ctx, now, 100)
	if err != nil || n != 100 {
		t.Fatalf("one batch of 100 purged %d tokens (%v)", n, err)
	}
	if oldest := e.count("SELECT count(*) FROM access_tokens WHERE token_hash < 't00100'"); oldest != 0 {
		t.Errorf("the batch did not take the oldest tokens: %d of them left", oldest)
	}
	n, err = e.store.DeleteExpiredTokens(e.ctx, now)
	if err != nil || n != expired-100 {
		t.Fatalf("the full purge removed %d tokens (%v), want %d", n, err, expired-100)
	}
	if left := e.count("SELECT count(*) FROM access_tokens"); left != live {
		t.Errorf("%d tokens left, want only the %d live ones", left, live)
	}
}
