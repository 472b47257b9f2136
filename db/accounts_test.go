package db_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"studio/domain"
)

func TestSignIn(t *testing.T) {
	e := newEnv(t)
	b := e.bootstrap()
	if !b.admin.LastSignIn.IsZero() {
		t.Fatalf("LastSignIn before any sign-in = %v", b.admin.LastSignIn)
	}
	e.clock.Advance(time.Hour)
	u, err := e.accounts.SignIn(e.ctx, "  ADMIN@example.COM ", adminPassword, "192.0.2.10")
	if err != nil {
		t.Fatalf("SignIn: %v", err)
	}
	if u.ID != b.admin.ID || u.Email != "admin@example.com" || !u.LastSignIn.Equal(e.clock.Now()) {
		t.Errorf("SignIn user = %+v", u)
	}
	stored, err := e.store.UserByID(e.ctx, b.admin.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !stored.LastSignIn.Equal(micro(e.clock.Now())) {
		t.Errorf("stored LastSignIn = %v, want %v", stored.LastSignIn, micro(e.clock.Now()))
	}
	if cur, err := e.accounts.CurrentUser(e.ctx, b.admin.ID); err != nil || cur.ID != b.admin.ID {
		t.Errorf("CurrentUser = %+v, %v", cur, err)
	}
}

func TestSignInFailuresLookAlike(t *testing.T) {
	e := newEnv(t)
	e.bootstrap()
	wrong := func(email, pw string) error {
		_, err := e.accounts.SignIn(e.ctx, email, pw, "192.0.2.20")
		return err
	}
	errWrongPassword := wrong("admin@example.com", "not the password at all")
	errUnknown := wrong("nobody@example.com", adminPassword)
	errEmpty := wrong("admin@example.com", "")
	errNoEmail := wrong("", adminPassword)
	for name, err := range map[string]error{"wrong password": errWrongPassword, "unknown email": errUnknown,
		"empty password": errEmpty, "empty email": errNoEmail} {
		if domain.ErrorCode(err) != domain.EUNAUTHORIZED {
			t.Errorf("%s: %v, want unauthorized", name, err)
		}
		if err != nil && err.Error() != errWrongPassword.Error() {
			t.Errorf("%s says %q, wrong password says %q", name, err, errWrongPassword)
		}
		if strings.Contains(fmt.Sprint(err), adminPassword) {
			t.Errorf("%s: error reveals the password", name)
		}
	}
	if stored, err := e.store.UserByEmail(e.ctx, "admin@example.com"); err != nil || !stored.LastSignIn.IsZero() {
		t.Errorf("failed sign-ins set LastSignIn = %v (read error %v)", stored.LastSignIn, err)
	}
}

func TestSignInRateLimitPerAccount(t *testing.T) {
	e := newEnv(t)
	e.bootstrap()
	for i := 0; i < domain.SignInAccountLimit; i++ {
		// Spelling variants and different addresses count for one account.
		email := []string{"admin@example.com", "ADMIN@example.com", " admin@EXAMPLE.com "}[i%3]
		_, err := e.accounts.SignIn(e.ctx, email, "wrong password!", fmt.Sprint("192.0.2.", 30+i))
		wantCode(t, fmt.Sprint("failure ", i+1), err, domain.EUNAUTHORIZED)
		e.clock.Advance(time.Second)
	}
	_, err := e.accounts.SignIn(e.ctx, "admin@example.com", adminPassword, "192.0.2.99")
	wantCode(t, "right password after the limit", err, domain.ERATELIMITED)
	var de *domain.Error
	if !asError(err, &de) || de.RetryAfter <= 0 || de.RetryAfter > int(domain.SignInWindow/time.Second)+1 {
		t.Errorf("rate-limited error = %+v, want 0 < RetryAfter <= window", de)
	}
	// Another account from the same address is not affected.
	other := e.newUser("other@example.com", "another good password")
	if _, err := e.accounts.SignIn(e.ctx, "other@example.com", "another good password", "192.0.2.99"); err != nil {
		t.Errorf("other account refused: %v", err)
	}
	// Retry-After is enough: after it, the right password works.
	e.clock.Advance(time.Duration(de.RetryAfter) * time.Second)
	if _, err := e.accounts.SignIn(e.ctx, "admin@example.com", adminPassword, "192.0.2.99"); err != nil {
		t.Errorf("SignIn after Retry-After: %v", err)
	}
	_ = other
}

func TestSignInSuccessResetsAccountFailures(t *testing.T) {
	e := newEnv(t)
	e.bootstrap()
	for round := 0; round < 2; round++ {
		for i := 0; i < domain.SignInAccountLimit-1; i++ {
			_, err := e.accounts.SignIn(e.ctx, "admin@example.com", "wrong password!", fmt.Sprint("10.0.0.", round*10+i))
			wantCode(t, "failure", err, domain.EUNAUTHORIZED)
		}
		if _, err := e.accounts.SignIn(e.ctx, "admin@example.com", adminPassword, "10.0.1.1"); err != nil {
			t.Fatalf("round %d: SignIn after %d failures: %v", round, domain.SignInAccountLimit-1, err)
		}
	}
}

func TestSignInRateLimitPerAddress(t *testing.T) {
	e := newEnv(t)
	e.bootstrap()
	const addr = "203.0.113.9"
	for i := 0; i < domain.SignInAddressLimit; i++ {
		_, err := e.accounts.SignIn(e.ctx, fmt.Sprintf("guess%d@example.com", i), "some password", addr)
		wantCode(t, fmt.Sprint("guess ", i), err, domain.EUNAUTHORIZED)
	}
	_, err := e.accounts.SignIn(e.ctx, "admin@example.com", adminPassword, addr)
	wantCode(t, "right credentials from a limited address", err, domain.ERATELIMITED)
	if _, err := e.accounts.SignIn(e.ctx, "admin@example.com", adminPassword, "203.0.113.10"); err != nil {
		t.Errorf("right credentials from another address: %v", err)
	}
}

// A burst of parallel guesses must not get more tries than the limit: the
// check and the counting of a failure must not be separated by the
// (slow) password hash.
func TestSignInRateLimitHoldsUnderConcurrency(t *testing.T) {
	e := newEnv(t)
	e.bootstrap()
	const attempts = 20
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[string]int{}
	start := make(chan struct{})
	for i := 0; i < attempts; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			_, err := e.accounts.SignIn(e.ctx, "admin@example.com", fmt.Sprint("guess number ", i), fmt.Sprint("10.1.0.", i))
			mu.Lock()
			codes[domain.ErrorCode(err)]++
			mu.Unlock()
		}(i)
	}
	close(start)
	wg.Wait()
	if codes[domain.EUNAUTHORIZED] > domain.SignInAccountLimit {
		t.Errorf("%d of %d parallel guesses were checked (results %v); the limit is %d per %v",
			codes[domain.EUNAUTHORIZED], attempts, codes, domain.SignInAccountLimit, domain.SignInWindow)
	}
	if codes[""] != 0 {
		t.Errorf("a wrong password signed in: %v", codes)
	}
}

func TestSignInLockedAndPendingUsers(t *testing.T) {
	e := newEnv(t)
	e.bootstrap()
	const pw = "locked user password"
	hash, err := domain.NewHasher(1).Hash(e.ctx, pw)
	if err != nil {
		t.Fatal(err)
	}
	locked := domain.User{Email: "locked@example.com", DisplayName: "L", PasswordHash: hash, Locked: true, CreateTime: e.clock.Now()}
	pending := domain.User{Email: "pending@example.com", DisplayName: "P", CreateTime: e.clock.Now()}
	if err := e.store.Update(e.ctx, func(tx domain.Tx) error {
		if err := tx.CreateUser(e.ctx, &locked); err != nil {
			return err
		}
		return tx.CreateUser(e.ctx, &pending)
	}); err != nil {
		t.Fatal(err)
	}
	_, err = e.accounts.SignIn(e.ctx, "locked@example.com", pw, "x")
	wantCode(t, "locked user, right password", err, domain.EFORBIDDEN)
	_, err = e.accounts.SignIn(e.ctx, "locked@example.com", "wrong password!", "x")
	wantCode(t, "locked user, wrong password", err, domain.EUNAUTHORIZED)
	_, err = e.accounts.CurrentUser(e.ctx, locked.ID)
	wantCode(t, "CurrentUser(locked)", err, domain.EUNAUTHORIZED)

	for _, guess := range []string{"", "anything at all", "$placeholder"} {
		_, err = e.accounts.SignIn(e.ctx, "pending@example.com", guess, "y")
		wantCode(t, fmt.Sprintf("pending user with %q", guess), err, domain.EUNAUTHORIZED)
	}
	_, err = e.accounts.CurrentUser(e.ctx, pending.ID)
	wantCode(t, "CurrentUser(pending)", err, domain.EUNAUTHORIZED)
	_, err = e.accounts.CurrentUser(e.ctx, 99999)
	wantCode(t, "CurrentUser(missing)", err, domain.ENOTFOUND)
}

func TestChangePassword(t *testing.T) {
	e := newEnv(t)
	b := e.bootstrap()
	other := e.newUser("other@example.com", "")
	before, err := e.store.UserByID(e.ctx, b.admin.ID)
	if err != nil {
		t.Fatal(err)
	}
	sessions := []domain.Session{
		{IDHash: "keep", UserID: b.admin.ID},
		{IDHash: "laptop", UserID: b.admin.ID},
		{IDHash: "phone", UserID: b.admin.ID},
		{IDHash: "others", UserID: other.ID},
	}
	for _, s := range sessions {
		s.Data, s.CreateTime, s.LastSeen = []byte("{}"), e.clock.Now(), e.clock.Now()
		if err := e.store.CreateSession(e.ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	p := domain.UserPrincipal(b.admin, "192.0.2.50")
	const next = "a brand new password"

	for _, c := range []struct {
		name                   string
		current, next, confirm string
		field                  string
	}{
		{"wrong current", "not my password!", next, next, "current"},
		{"empty current", "", next, next, "current"},
		{"mismatch", adminPassword, next, next + "x", "confirm"},
		{"too short", adminPassword, "short", "short", "new"},
		{"too long", adminPassword, strings.Repeat("x", 257), strings.Repeat("x", 257), "new"},
		{"same as current", adminPassword, adminPassword, adminPassword, "new"},
	} {
		err := e.accounts.ChangePassword(e.ctx, p, c.current, c.next, c.confirm, "keep")
		if domain.ErrorCode(err) != domain.EINVALID || domain.FieldErrors(err)[c.field] == "" {
			t.Errorf("%s: %v (fields %v), want invalid on %q", c.name, err, domain.FieldErrors(err), c.field)
		}
	}
	if now, _ := e.store.UserByID(e.ctx, b.admin.ID); now.PasswordHash != before.PasswordHash {
		t.Fatal("refused changes changed the hash")
	}
	if n := e.count("SELECT count(*) FROM sessions"); n != 4 {
		t.Fatalf("refused changes deleted sessions: %d left", n)
	}
	if n := e.count("SELECT count(*) FROM audit_log WHERE action = ?", domain.ActionPasswordChange); n != 0 {
		t.Fatalf("refused changes wrote %d audit entries", n)
	}
	// Service accounts have no password.
	sa := domain.Principal{Account: domain.AccountRef{Type: domain.AccountServiceAccount, ID: domain.NewID(e.clock.Now())}}
	wantCode(t, "ChangePassword as service account", e.accounts.ChangePassword(e.ctx, sa, adminPassword, next, next, ""), domain.EFORBIDDEN)

	e.clock.Advance(2 * time.Hour)
	if err := e.accounts.ChangePassword(e.ctx, p, adminPassword, next, next, "keep"); err != nil {
		t.Fatalf("ChangePassword: %v", err)
	}
	after, err := e.store.UserByID(e.ctx, b.admin.ID)
	if err != nil {
		t.Fatal(err)
	}
	if after.PasswordHash == before.PasswordHash || strings.Contains(after.PasswordHash, next) {
		t.Error("hash not changed, or the password is stored in clear")
	}
	if !after.PasswordChanged.Equal(micro(e.clock.Now())) {
		t.Errorf("PasswordChanged = %v, want %v", after.PasswordChanged, micro(e.clock.Now()))
	}
	for _, c := range []struct {
		hash string
		kept bool
	}{{"keep", true}, {"laptop", false}, {"phone", false}, {"others", true}} {
		_, err := e.store.SessionByHash(e.ctx, c.hash)
		if kept := err == nil; kept != c.kept {
			t.Errorf("session %q kept = %v, want %v (err %v)", c.hash, kept, c.kept, err)
		}
	}
	if n := e.count("SELECT count(*) FROM audit_log WHERE action = ? AND actor_id = ? AND target_id = ? AND remote_addr = '192.0.2.50'",
		domain.ActionPasswordChange, fmt.Sprint(b.admin.ID), fmt.Sprint(b.admin.ID)); n != 1 {
		t.Errorf("%d password change audit entries, want 1", n)
	}
	if _, err := e.accounts.SignIn(e.ctx, "admin@example.com", next, "z"); err != nil {
		t.Errorf("SignIn with the new password: %v", err)
	}
	_, err = e.accounts.SignIn(e.ctx, "admin@example.com", adminPassword, "z")
	wantCode(t, "SignIn with the old password", err, domain.EUNAUTHORIZED)

	// keepSession "" signs out everywhere.
	if err := e.accounts.ChangePassword(e.ctx, p, next, next+" again", next+" again", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.SessionByHash(e.ctx, "keep"); domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Errorf("session kept after a change with no session to keep: %v", err)
	}
	if _, err := e.store.SessionByHash(e.ctx, "others"); err != nil {
		t.Errorf("another user's session was deleted: %v", err)
	}
}

func asError(err error, target **domain.Error) bool {
	e, ok := err.(*domain.Error)
	if ok {
		*target = e
		return true
	}
	var zero *domain.Error
	*target = zero
	return false
}
