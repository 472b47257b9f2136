package sqlite_test

import (
	"bytes"
	"testing"
	"time"

	"studio/domain"
)

func TestSessionsCRUD(t *testing.T) {
	e := newEnv(t)
	alice := e.newUser("alice@example.com", "")
	bob := e.newUser("bob@example.com", "")
	now := e.clock.Now()

	s1 := domain.Session{IDHash: "hash-1", UserID: alice.ID, Data: []byte("payload \x00\xff binary"), CreateTime: now, LastSeen: now}
	for _, s := range []domain.Session{
		s1,
		{IDHash: "hash-2", UserID: alice.ID, Data: []byte("2"), CreateTime: now, LastSeen: now},
		{IDHash: "hash-3", UserID: alice.ID, Data: []byte("3"), CreateTime: now, LastSeen: now},
		{IDHash: "hash-b", UserID: bob.ID, Data: []byte("b"), CreateTime: now, LastSeen: now},
	} {
		if err := e.store.CreateSession(e.ctx, s); err != nil {
			t.Fatalf("CreateSession(%s): %v", s.IDHash, err)
		}
	}
	if err := e.store.CreateSession(e.ctx, domain.Session{IDHash: "hash-1", UserID: bob.ID, Data: []byte("x"), CreateTime: now, LastSeen: now}); err == nil {
		t.Error("a second session with the same id hash was stored")
	}

	got, err := e.store.SessionByHash(e.ctx, "hash-1")
	if err != nil {
		t.Fatal(err)
	}
	if got.IDHash != "hash-1" || got.UserID != alice.ID || !bytes.Equal(got.Data, s1.Data) ||
		!got.CreateTime.Equal(micro(now)) || !got.LastSeen.Equal(micro(now)) {
		t.Errorf("SessionByHash = %+v, want %+v", got, s1)
	}
	_, err = e.store.SessionByHash(e.ctx, "no-such-hash")
	wantCode(t, "SessionByHash(missing)", err, domain.ENOTFOUND)

	later := now.Add(17 * time.Minute)
	if err := e.store.UpdateSession(e.ctx, "hash-1", []byte("new data"), later); err != nil {
		t.Fatal(err)
	}
	got, _ = e.store.SessionByHash(e.ctx, "hash-1")
	if string(got.Data) != "new data" || !got.LastSeen.Equal(micro(later)) || !got.CreateTime.Equal(micro(now)) {
		t.Errorf("after UpdateSession = %+v", got)
	}
	if other, _ := e.store.SessionByHash(e.ctx, "hash-2"); string(other.Data) != "2" || !other.LastSeen.Equal(micro(now)) {
		t.Errorf("UpdateSession touched another session: %+v", other)
	}

	if err := e.store.DeleteSession(e.ctx, "hash-2"); err != nil {
		t.Fatal(err)
	}
	_, err = e.store.SessionByHash(e.ctx, "hash-2")
	wantCode(t, "SessionByHash after DeleteSession", err, domain.ENOTFOUND)
	if err := e.store.DeleteSession(e.ctx, "hash-2"); err != nil {
		t.Errorf("deleting a missing session: %v", err)
	}

	// Keep one of alice's sessions; bob's stay.
	if err := e.store.DeleteUserSessions(e.ctx, alice.ID, "hash-1"); err != nil {
		t.Fatal(err)
	}
	exists := func(h string) bool {
		_, err := e.store.SessionByHash(e.ctx, h)
		return err == nil
	}
	if !exists("hash-1") || exists("hash-3") || !exists("hash-b") {
		t.Errorf("after DeleteUserSessions(alice, keep hash-1): hash-1 %v hash-3 %v hash-b %v; want true false true",
			exists("hash-1"), exists("hash-3"), exists("hash-b"))
	}
	// A keep hash of another user's session protects nothing of alice's and
	// does not delete bob's.
	if err := e.store.DeleteUserSessions(e.ctx, alice.ID, "hash-b"); err != nil {
		t.Fatal(err)
	}
	if exists("hash-1") || !exists("hash-b") {
		t.Errorf("DeleteUserSessions(alice, keep bob's): hash-1 %v hash-b %v; want false true", exists("hash-1"), exists("hash-b"))
	}
	// "" keeps none.
	if err := e.store.DeleteUserSessions(e.ctx, bob.ID, ""); err != nil {
		t.Fatal(err)
	}
	if n := e.count("SELECT count(*) FROM sessions"); n != 0 {
		t.Errorf("%d sessions left", n)
	}
}

func TestDeleteExpiredSessions(t *testing.T) {
	e := newEnv(t)
	u := e.newUser("u@example.com", "")
	base := e.clock.Now()
	for _, s := range []domain.Session{
		{IDHash: "fresh", CreateTime: base.Add(-time.Hour), LastSeen: base},
		{IDHash: "idle", CreateTime: base.Add(-time.Hour), LastSeen: base.Add(-31 * time.Minute)},
		{IDHash: "old", CreateTime: base.Add(-13 * time.Hour), LastSeen: base},
	} {
		s.UserID, s.Data = u.ID, []byte("d")
		if err := e.store.CreateSession(e.ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	n, err := e.store.DeleteExpiredSessions(e.ctx, base.Add(-30*time.Minute), base.Add(-12*time.Hour))
	if err != nil || n != 2 {
		t.Errorf("DeleteExpiredSessions = %d, %v; want 2", n, err)
	}
	for h, want := range map[string]bool{"fresh": true, "idle": false, "old": false} {
		_, err := e.store.SessionByHash(e.ctx, h)
		if (err == nil) != want {
			t.Errorf("session %s kept = %v, want %v", h, err == nil, want)
		}
	}
}

// A session whose data is still empty can be stored and read back.
func TestSessionWithEmptyData(t *testing.T) {
	e := newEnv(t)
	u := e.newUser("u@example.com", "")
	for _, data := range [][]byte{{}, nil} {
		h := "empty"
		if data == nil {
			h = "nil"
		}
		if err := e.store.CreateSession(e.ctx, domain.Session{IDHash: h, UserID: u.ID, Data: data, CreateTime: e.clock.Now(), LastSeen: e.clock.Now()}); err != nil {
			t.Errorf("CreateSession with %s data: %v", h, err)
			continue
		}
		if got, err := e.store.SessionByHash(e.ctx, h); err != nil || len(got.Data) != 0 {
			t.Errorf("SessionByHash(%s) = %+v, %v", h, got, err)
		}
		if err := e.store.UpdateSession(e.ctx, h, nil, e.clock.Now()); err != nil {
			t.Errorf("UpdateSession with nil data: %v", err)
		}
	}
}
