package sqlite_test

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
	res, err := e.accounts.SignIn(e.ctx, "  ADMIN@example.COM ", adminPassword, domain.Client{Address: "192.0.2.10"})
	if err != nil {
		t.Fatalf("SignIn: %v", err)
	}
	u := res.User
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
		_, err := e.accounts.SignIn(e.ctx, email, pw, domain.Client{Address: "192.0.2.20"})
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

// retryAfter returns the RetryAfter of a rate-limited error, failing the
// test for any other result.
func retryAfter(t *testing.T, what string, err error) int {
	t.Helper()
	var de *domain.Error
	if domain.ErrorCode(err) != domain.ERATELIMITED || !asError(err, &de) || de.RetryAfter <= 0 {
		t.Fatalf("%s: %v, want rate limited with a RetryAfter", what, err)
	}
	return de.RetryAfter
}

func from(addr string) domain.Client { return domain.Client{Address: addr} }

// Wrong passwords slow down the client that typed them, more after each,
// and only that client: the owner elsewhere signs in.
func TestSignInThrottlesTheClientNotTheAccount(t *testing.T) {
	e := newEnv(t)
	e.bootstrap()
	other := e.newUser("other@example.com", "another good password")
	const guesser, owner = "192.0.2.30", "198.51.100.7"
	for i := 0; i < domain.PasswordFreeFailures; i++ {
		// Spelling variants count for one account.
		email := []string{"admin@example.com", "ADMIN@example.com", " admin@EXAMPLE.com "}[i%3]
		_, err := e.accounts.SignIn(e.ctx, email, "wrong password!", from(guesser))
		wantCode(t, fmt.Sprint("failure ", i+1), err, domain.EUNAUTHORIZED)
	}
	_, err := e.accounts.SignIn(e.ctx, "admin@example.com", adminPassword, from(guesser))
	if secs := retryAfter(t, "right password from the guessing address", err); secs != int(domain.PasswordFirstDelay/time.Second) {
		t.Errorf("RetryAfter = %d, want %v", secs, domain.PasswordFirstDelay)
	}
	if n := e.count("SELECT count(*) FROM password_failures WHERE account = 'admin@example.com' AND address = ?", guesser); n != domain.PasswordFreeFailures {
		t.Errorf("%d failures stored, want %d (a refused attempt is not one)", n, domain.PasswordFreeFailures)
	}
	// The owner, from elsewhere, and another account from the guessing address, are not held up.
	if _, err := e.accounts.SignIn(e.ctx, "admin@example.com", adminPassword, from(owner)); err != nil {
		t.Errorf("owner from another address: %v", err)
	}
	if _, err := e.accounts.SignIn(e.ctx, other.Email, "another good password", from(guesser)); err != nil {
		t.Errorf("another account from the guessing address: %v", err)
	}
	// After the wait one more guess; a wrong one doubles the wait.
	e.clock.Advance(domain.PasswordFirstDelay)
	_, err = e.accounts.SignIn(e.ctx, "admin@example.com", "wrong again!", from(guesser))
	wantCode(t, "guess after the wait", err, domain.EUNAUTHORIZED)
	_, err = e.accounts.SignIn(e.ctx, "admin@example.com", adminPassword, from(guesser))
	if secs := retryAfter(t, "after one more failure", err); secs != int(2*domain.PasswordFirstDelay/time.Second) {
		t.Errorf("RetryAfter = %d, want %v", secs, 2*domain.PasswordFirstDelay)
	}
	// Retry-After is enough; the right password then clears the client's failures.
	e.clock.Advance(2 * domain.PasswordFirstDelay)
	if _, err := e.accounts.SignIn(e.ctx, "admin@example.com", adminPassword, from(guesser)); err != nil {
		t.Fatalf("right password after the wait: %v", err)
	}
	if n := e.count("SELECT count(*) FROM password_failures WHERE address = ?", guesser); n != 0 {
		t.Errorf("%d failures of the client kept after it proved the password", n)
	}
	for i := 0; i < domain.PasswordFreeFailures; i++ {
		_, err := e.accounts.SignIn(e.ctx, "admin@example.com", "wrong password!", from(guesser))
		wantCode(t, fmt.Sprint("fresh failure ", i+1), err, domain.EUNAUTHORIZED)
	}
}

// Guesses from many addresses slow every client the account does not know
// to one try a minute, but a browser the owner signed in with goes through.
func TestSignInAccountLimitSparesKnownBrowsers(t *testing.T) {
	e := newEnv(t)
	b := e.bootstrap()
	for i := 0; i < domain.AccountUnknownLimit; i++ {
		_, err := e.accounts.SignIn(e.ctx, "admin@example.com", "wrong password!", from(fmt.Sprint("10.0.0.", i/2)))
		wantCode(t, fmt.Sprint("failure ", i+1), err, domain.EUNAUTHORIZED)
	}
	_, err := e.accounts.SignIn(e.ctx, "admin@example.com", adminPassword, from("198.51.100.1"))
	if secs := retryAfter(t, "right password from a fresh address", err); secs > int(domain.AccountUnknownDelay/time.Second) {
		t.Errorf("RetryAfter = %d, want at most %v", secs, domain.AccountUnknownDelay)
	}
	known := domain.Client{Address: "198.51.100.1", Browser: "browser-1", KnownUsers: []int64{b.admin.ID}}
	if _, err := e.accounts.SignIn(e.ctx, "admin@example.com", adminPassword, known); err != nil {
		t.Errorf("known browser: %v", err)
	}
	// A browser known to another user is a stranger to this account.
	stranger := domain.Client{Address: "198.51.100.1", Browser: "browser-2", KnownUsers: []int64{b.admin.ID + 1000}}
	_, err = e.accounts.SignIn(e.ctx, "admin@example.com", adminPassword, stranger)
	retryAfter(t, "browser known to someone else", err)
	e.clock.Advance(domain.AccountUnknownDelay)
	if _, err := e.accounts.SignIn(e.ctx, "admin@example.com", adminPassword, from("198.51.100.1")); err != nil {
		t.Errorf("fresh address after the short delay: %v", err)
	}
}

// Spraying: after many wrong passwords from one address on any accounts,
// clients there are refused, except a browser the tried account knows.
func TestSignInAddressLimitSparesKnownBrowsers(t *testing.T) {
	e := newEnv(t)
	b := e.bootstrap()
	const addr = "203.0.113.9"
	for i := 0; i < domain.SignInAddressLimit; i++ {
		_, err := e.accounts.SignIn(e.ctx, fmt.Sprintf("guess%d@example.com", i), "some password", from(addr))
		wantCode(t, fmt.Sprint("guess ", i), err, domain.EUNAUTHORIZED)
	}
	_, err := e.accounts.SignIn(e.ctx, "admin@example.com", adminPassword, from(addr))
	retryAfter(t, "right credentials from the spraying address", err)
	known := domain.Client{Address: addr, Browser: "browser-1", KnownUsers: []int64{b.admin.ID}}
	if _, err := e.accounts.SignIn(e.ctx, "admin@example.com", adminPassword, known); err != nil {
		t.Errorf("known browser at the spraying address: %v", err)
	}
	if _, err := e.accounts.SignIn(e.ctx, "admin@example.com", adminPassword, from("203.0.113.10")); err != nil {
		t.Errorf("right credentials from another address: %v", err)
	}
	e.clock.Advance(domain.SignInWindow)
	if _, err := e.accounts.SignIn(e.ctx, "admin@example.com", adminPassword, from(addr)); err != nil {
		t.Errorf("after the window: %v", err)
	}
}

// parallel runs n sign-ins at once and counts their result codes.
func parallel(n int, signIn func(i int) error) map[string]int {
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[string]int{}
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			err := signIn(i)
			mu.Lock()
			codes[domain.ErrorCode(err)]++
			mu.Unlock()
		}(i)
	}
	close(start)
	wg.Wait()
	return codes
}

// A burst of parallel guesses gets no more tries than the limits: the
// check and the recording of a failure are not separated by the (slow)
// password hash.
func TestSignInThrottleHoldsUnderConcurrency(t *testing.T) {
	e := newEnv(t)
	e.bootstrap()
	e.newUser("other@example.com", "another good password")
	const attempts = 24
	codes := parallel(attempts, func(i int) error {
		_, err := e.accounts.SignIn(e.ctx, "admin@example.com", fmt.Sprint("guess number ", i), from("10.1.0.1"))
		return err
	})
	if codes[domain.EUNAUTHORIZED] != domain.PasswordFreeFailures || codes[domain.ERATELIMITED] != attempts-domain.PasswordFreeFailures {
		t.Errorf("one address: results %v, want %d checked and the rest refused", codes, domain.PasswordFreeFailures)
	}
	codes = parallel(attempts, func(i int) error {
		_, err := e.accounts.SignIn(e.ctx, "other@example.com", fmt.Sprint("guess number ", i), from(fmt.Sprint("10.2.0.", i)))
		return err
	})
	if codes[domain.EUNAUTHORIZED] != domain.AccountUnknownLimit || codes[domain.ERATELIMITED] != attempts-domain.AccountUnknownLimit {
		t.Errorf("many addresses: results %v, want %d checked and the rest refused", codes, domain.AccountUnknownLimit)
	}
}

// Issue 20: 8 simultaneous right sign-ins answered 429 three times. A
// right password is never a failure, however many run at once.
func TestParallelRightPasswordsAreNeverRefused(t *testing.T) {
	e := newEnv(t)
	e.bootstrap()
	codes := parallel(8, func(int) error {
		_, err := e.accounts.SignIn(e.ctx, "admin@example.com", adminPassword, from("192.0.2.80"))
		return err
	})
	if codes[""] != 8 {
		t.Fatalf("8 parallel right sign-ins: results %v, want 8 successes", codes)
	}
	if n := e.count("SELECT count(*) FROM password_failures"); n != 0 {
		t.Fatalf("%d failures recorded for right passwords", n)
	}
	// Nothing was counted: the client still has all its free tries.
	for i := 0; i < domain.PasswordFreeFailures; i++ {
		_, err := e.accounts.SignIn(e.ctx, "admin@example.com", "wrong password!", from("192.0.2.80"))
		wantCode(t, fmt.Sprint("failure ", i+1), err, domain.EUNAUTHORIZED)
	}
}

// The owner learns at the next sign-in how many wrong passwords were tried
// since the last one (on every door), and then the count starts again.
func TestSignInTellsFailedAttemptsSinceLastSignIn(t *testing.T) {
	e := newEnv(t)
	b := e.bootstrap()
	for i := 0; i < 3; i++ {
		_, err := e.accounts.SignIn(e.ctx, "admin@example.com", "wrong password!", from(fmt.Sprint("10.3.0.", i)))
		wantCode(t, "failure", err, domain.EUNAUTHORIZED)
		e.clock.Advance(time.Minute)
	}
	// A wrong password on the confirmation before a sensitive action counts too.
	err := e.accounts.ConfirmPassword(e.ctx, b.principal, "wrong password!", from("10.3.0.9"))
	wantCode(t, "wrong confirmation", err, domain.EINVALID)
	last := e.clock.Now()
	// An unknown email has no tally.
	_, err = e.accounts.SignIn(e.ctx, "nobody@example.com", "wrong password!", from("10.3.0.1"))
	wantCode(t, "unknown email", err, domain.EUNAUTHORIZED)
	if n := e.count("SELECT count(*) FROM failed_attempts"); n != 1 {
		t.Fatalf("%d tallies, want 1 (the admin's)", n)
	}
	e.clock.Advance(time.Hour)
	res, err := e.accounts.SignIn(e.ctx, "admin@example.com", adminPassword, from("192.0.2.1"))
	if err != nil {
		t.Fatal(err)
	}
	want := domain.FailedAttempts{Count: 4, Last: micro(last), LastAddress: "10.3.0.9"}
	if got := res.FailedAttempts; got.Count != want.Count || !got.Last.Equal(want.Last) || got.LastAddress != want.LastAddress {
		t.Errorf("FailedAttempts = %+v, want %+v", got, want)
	}
	res, err = e.accounts.SignIn(e.ctx, "admin@example.com", adminPassword, from("192.0.2.1"))
	if err != nil || res.FailedAttempts.Count != 0 {
		t.Errorf("second sign-in: %+v, %v; want no failed attempts", res.FailedAttempts, err)
	}
	if n := e.count("SELECT count(*) FROM failed_attempts"); n != 0 {
		t.Errorf("%d tallies left after the sign-in", n)
	}
}

// Failures older than the throttle's memory are deleted as new ones come.
func TestPasswordFailuresAreForgotten(t *testing.T) {
	e := newEnv(t)
	e.bootstrap()
	for i := 0; i < 3; i++ {
		_, err := e.accounts.SignIn(e.ctx, fmt.Sprintf("guess%d@example.com", i), "some password", from("10.4.0.1"))
		wantCode(t, "guess", err, domain.EUNAUTHORIZED)
	}
	e.clock.Advance(domain.PasswordFailureMemory + time.Second)
	_, err := e.accounts.SignIn(e.ctx, "guess9@example.com", "some password", from("10.4.0.1"))
	wantCode(t, "guess", err, domain.EUNAUTHORIZED)
	if n := e.count("SELECT count(*) FROM password_failures"); n != 1 {
		t.Errorf("%d failures stored, want only the new one", n)
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
	_, err = e.accounts.SignIn(e.ctx, "locked@example.com", pw, domain.Client{Address: "x"})
	wantCode(t, "locked user, right password", err, domain.EFORBIDDEN)
	_, err = e.accounts.SignIn(e.ctx, "locked@example.com", "wrong password!", domain.Client{Address: "x"})
	wantCode(t, "locked user, wrong password", err, domain.EUNAUTHORIZED)
	_, err = e.accounts.CurrentUser(e.ctx, locked.ID)
	wantCode(t, "CurrentUser(locked)", err, domain.EUNAUTHORIZED)

	for _, guess := range []string{"", "anything at all", "$placeholder"} {
		_, err = e.accounts.SignIn(e.ctx, "pending@example.com", guess, domain.Client{Address: "y"})
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
		err := e.accounts.ChangePassword(e.ctx, p, c.current, c.next, c.confirm, "keep", domain.Client{Address: "192.0.2.50"})
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
	wantCode(t, "ChangePassword as service account", e.accounts.ChangePassword(e.ctx, sa, adminPassword, next, next, "", domain.Client{Address: "192.0.2.50"}), domain.EFORBIDDEN)

	e.clock.Advance(2 * time.Hour)
	if err := e.accounts.ChangePassword(e.ctx, p, adminPassword, next, next, "keep", domain.Client{Address: "192.0.2.50"}); err != nil {
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
	if _, err := e.accounts.SignIn(e.ctx, "admin@example.com", next, domain.Client{Address: "z"}); err != nil {
		t.Errorf("SignIn with the new password: %v", err)
	}
	_, err = e.accounts.SignIn(e.ctx, "admin@example.com", adminPassword, domain.Client{Address: "z"})
	wantCode(t, "SignIn with the old password", err, domain.EUNAUTHORIZED)

	// keepSession "" signs out everywhere.
	if err := e.accounts.ChangePassword(e.ctx, p, next, next+" again", next+" again", "", domain.Client{Address: "192.0.2.50"}); err != nil {
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
