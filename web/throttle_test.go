package web_test

// The password throttle through the console's doors (issue 11, item 2;
// issue 20, item 4), the client address behind trusted proxies, and the
// token endpoint's ceiling per address.

import (
	"context"
	"database/sql"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"studio/domain"
)

// failuresOf returns the stored password failures of one client
// ("address:..." or "browser:...") on an account.
func (a *testApp) failuresOf(email, client string) int {
	a.t.Helper()
	times, err := a.store.PasswordFailureTimes(context.Background(),
		domain.PasswordFailureFilter{Account: email, Client: client}, a.clock.Now().Add(-domain.PasswordFailureMemory), 1000)
	if err != nil {
		a.t.Fatal(err)
	}
	return len(times)
}

func (a *testApp) passwordHash(email string) string {
	a.t.Helper()
	u, err := a.store.UserByEmail(context.Background(), email)
	if err != nil {
		a.t.Fatal(err)
	}
	return u.PasswordHash
}

// wantRetryAfter checks a 429 with whole seconds in Retry-After and returns them.
func wantRetryAfter(t *testing.T, what string, r response) int {
	t.Helper()
	secs, err := strconv.Atoi(r.header.Get("Retry-After"))
	if r.status != http.StatusTooManyRequests || err != nil || secs < 1 {
		t.Fatalf("%s: status %d, Retry-After %q; want 429 with whole seconds", what, r.status, r.header.Get("Retry-After"))
	}
	return secs
}

// Change password checked the current password with no throttle (40
// guesses in 2 s). Now wrong guesses slow that client down like sign-in,
// and the right password waits too, until the wait is over.
func TestChangePasswordGuessingIsThrottled(t *testing.T) {
	app := newApp(t)
	c := app.signedIn(adminEmail)
	before := app.passwordHash(adminEmail)
	const next = "a much better password"
	guess := url.Values{"current": {"guess"}, "new": {next}, "confirm": {next}}
	for i := 0; i < domain.PasswordFreeFailures; i++ {
		r := c.post("/account/password", guess)
		if r.status != http.StatusUnprocessableEntity || r.doc.Find("[data-testid=error-current]").Text() != "The current password is incorrect." {
			t.Fatalf("guess %d: status %d, error %q", i+1, r.status, r.doc.Find("[data-testid=error-current]").Text())
		}
	}
	for _, current := range []string{"guess", adminPassword} {
		r := c.post("/account/password", url.Values{"current": {current}, "new": {next}, "confirm": {next}})
		wantRetryAfter(t, "after the free guesses", r)
		if msg := r.doc.Find("[data-testid=error-current]").Text(); !strings.HasPrefix(msg, "Too many wrong passwords. Try again in") {
			t.Fatalf("message beside the field = %q", msg)
		}
	}
	if app.passwordHash(adminEmail) != before {
		t.Fatal("the password changed")
	}
	for _, action := range app.auditActions(app.org.ID) {
		if action == domain.ActionPasswordChange {
			t.Fatal("a refused change was audited as a change")
		}
	}
	// Stored as failures of this (signed-in, so known) browser on the account.
	if n := app.countRows("SELECT count(*) FROM password_failures WHERE account = ? AND client LIKE 'browser:%' AND known = 1",
		adminEmail); n != domain.PasswordFreeFailures {
		t.Fatalf("%d failures stored, want %d", n, domain.PasswordFreeFailures)
	}
	app.clock.Advance(domain.PasswordFirstDelay)
	r := c.post("/account/password", url.Values{"current": {adminPassword}, "new": {next}, "confirm": {next}})
	if r.status != http.StatusSeeOther || app.passwordHash(adminEmail) == before {
		t.Fatalf("right password after the wait: status %d", r.status)
	}
}

// countRows runs a SELECT count(*) on the app's database file.
func (a *testApp) countRows(query string, args ...any) int {
	a.t.Helper()
	db, err := sql.Open("sqlite", "file:"+a.dbPath+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		a.t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(query, args...).Scan(&n); err != nil {
		a.t.Fatalf("%s: %v", query, err)
	}
	return n
}

// Lockout as denial of service: 5 wrong passwords from anywhere locked the
// email for everyone for 15 minutes. Now only the guessing address waits;
// the owner elsewhere signs in with the right password.
func TestWrongPasswordsHoldOnlyTheGuessingAddress(t *testing.T) {
	app := newApp(t, withTrustedProxies("127.0.0.1/32"))
	guesser := app.client()
	guesser.forwardedFor = "203.0.113.66"
	guesser.get("/signin")
	for i := 0; i < domain.PasswordFreeFailures; i++ {
		if r := guesser.post("/signin", url.Values{"email": {adminEmail}, "password": {"guess"}}); r.status != http.StatusUnauthorized {
			t.Fatalf("guess %d: status %d", i+1, r.status)
		}
	}
	r := guesser.post("/signin", url.Values{"email": {adminEmail}, "password": {"guess"}})
	wantRetryAfter(t, "guess over the limit", r)

	owner := app.client()
	owner.forwardedFor = "198.51.100.20"
	owner.get("/signin")
	if r := owner.post("/signin", url.Values{"email": {adminEmail}, "password": {adminPassword}}); r.status != http.StatusSeeOther {
		t.Fatalf("owner from another address: status %d, %q", r.status, r.doc.Find("[data-testid=signin-error]").Text())
	} else {
		owner.secondFactor(adminEmail, r)
	}
	if r := owner.get("/"); r.status != http.StatusOK {
		t.Fatalf("owner's session: status %d", r.status)
	}
	// The guessing address is still refused, even with the right password.
	r = guesser.post("/signin", url.Values{"email": {adminEmail}, "password": {adminPassword}})
	wantRetryAfter(t, "right password from the guessing address", r)
	if msg := r.doc.Find("[data-testid=signin-error]").Text(); !strings.Contains(msg, "Try again in") {
		t.Fatalf("refusal message = %q", msg)
	}
	if cookieNamed(r.header, "studio_session") != nil {
		t.Fatal("a refused sign-in set a session cookie")
	}
	if n := app.failuresOf(adminEmail, "address:203.0.113.66"); n != domain.PasswordFreeFailures {
		t.Fatalf("%d failures stored for the guessing address, want %d", n, domain.PasswordFreeFailures)
	}
	if n := app.failuresOf(adminEmail, "address:198.51.100.20"); n != 0 {
		t.Fatalf("%d failures stored for the owner's address", n)
	}
}

// Spraying: 20 junk sign-ins from one address refused everyone behind it.
// A browser that signed in before still gets through; strangers wait.
func TestSprayingDoesNotRefuseAKnownBrowser(t *testing.T) {
	app := newApp(t)
	owner := app.signedIn(adminEmail)
	owner.post("/signout", url.Values{})
	sprayer := app.client()
	sprayer.get("/signin")
	for i := 0; i < domain.SignInAddressLimit; i++ {
		email := "guess" + strconv.Itoa(i) + "@example.com"
		if r := sprayer.post("/signin", url.Values{"email": {email}, "password": {"Winter2026!"}}); r.status != http.StatusUnauthorized {
			t.Fatalf("junk sign-in %d: status %d", i+1, r.status)
		}
	}
	r := sprayer.post("/signin", url.Values{"email": {"guess99@example.com"}, "password": {"Winter2026!"}})
	wantRetryAfter(t, "sprayer over the ceiling", r)

	// The owner's browser, behind the same address, signs in.
	owner.get("/signin")
	if r := owner.post("/signin", url.Values{"email": {adminEmail}, "password": {adminPassword}}); r.status != http.StatusSeeOther {
		t.Fatalf("known browser behind the sprayer: status %d, %q", r.status, r.doc.Find("[data-testid=signin-error]").Text())
	}
	// A browser that never signed in waits, with a message saying where it would not.
	stranger := app.client()
	stranger.get("/signin")
	r = stranger.post("/signin", url.Values{"email": {adminEmail}, "password": {adminPassword}})
	wantRetryAfter(t, "stranger behind the sprayer", r)
	if msg := r.doc.Find("[data-testid=signin-error]").Text(); !strings.Contains(msg, "from your network") || !strings.Contains(msg, "browser you signed in with before") {
		t.Fatalf("message = %q", msg)
	}
	// A forged known-browser cookie is no key.
	forged := app.client()
	u, _ := url.Parse(app.srv.URL)
	forged.http.Jar.SetCookies(u, []*http.Cookie{{Name: "studio_browser", Value: "MTcwMDAwMDAwMHxmb3JnZWR8"}})
	forged.get("/signin")
	r = forged.post("/signin", url.Values{"email": {adminEmail}, "password": {adminPassword}})
	wantRetryAfter(t, "forged known-browser cookie", r)
}

// Issue 20: 8 simultaneous right sign-ins to one account answered 429
// three times. A right password is never counted as a failure.
func TestParallelRightSignInsAllSucceed(t *testing.T) {
	app := newApp(t)
	const n = 8
	// Connections opened beforehand, so that the sign-ins really arrive together.
	transport := &http.Transport{MaxIdleConnsPerHost: n}
	defer transport.CloseIdleConnections()
	clients := make([]*client, n)
	for i := range clients {
		clients[i] = app.client()
		clients[i].http.Transport = transport
	}
	var warm sync.WaitGroup
	for _, c := range clients {
		warm.Add(1)
		go func() { defer warm.Done(); c.get("/signin") }()
	}
	warm.Wait()
	statuses := make([]int, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			statuses[i] = c.post("/signin", url.Values{"email": {adminEmail}, "password": {adminPassword}}).status
		}()
	}
	close(start)
	wg.Wait()
	for i, s := range statuses {
		if s != http.StatusSeeOther {
			t.Fatalf("sign-in %d of %d parallel right ones: status %d (all: %v)", i+1, n, s, statuses)
		}
	}
	if f := app.failuresOf(adminEmail, "address:127.0.0.1"); f != 0 {
		t.Fatalf("%d failures stored for right passwords", f)
	}
}

// The owner sees at the next sign-in how many wrong passwords were tried
// since the last one, once.
func TestSignInShowsFailedAttemptsSinceLastSignIn(t *testing.T) {
	app := newApp(t)
	guesser := app.client()
	guesser.get("/signin")
	for i := 0; i < 3; i++ {
		guesser.post("/signin", url.Values{"email": {adminEmail}, "password": {"guess"}})
	}
	app.clock.Advance(time.Hour)
	owner := app.client()
	owner.get("/signin")
	r := owner.post("/signin", url.Values{"email": {adminEmail}, "password": {adminPassword}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("sign-in: status %d", r.status)
	}
	// Told once the sign-in is whole, after the second factor.
	r = owner.secondFactor(adminEmail, r)
	page := owner.get(r.header.Get("Location"))
	notice := page.doc.Find("[data-testid=notice]").Text()
	if !strings.Contains(notice, "3 wrong passwords were tried on your account since your last sign-in") ||
		!strings.Contains(notice, "from 127.0.0.1") || !strings.Contains(notice, "change your password") {
		t.Fatalf("notice on the first page = %q", notice)
	}
	if again := owner.get("/"); again.doc.Find("[data-testid=notice]").Length() != 0 {
		t.Fatal("the notice stays after the first page")
	}
	next := app.client()
	next.signIn(adminEmail, adminPassword)
	if page := next.get("/"); page.doc.Find("[data-testid=notice]").Length() != 0 {
		t.Fatalf("the next sign-in is told again: %q", page.doc.Find("[data-testid=notice]").Text())
	}
}

// One throttle for every door that checks a password: wrong passwords at
// the change-password form, the confirmation before a sensitive action and
// the sign-in form add up, and then each door refuses the right one too.
func TestOnePasswordThrottleForEveryDoor(t *testing.T) {
	app := newApp(t)
	sa := app.addServiceAccount(app.inventory(), "Robot")
	c := app.signedIn(adminEmail)
	before := app.passwordHash(adminEmail)
	app.clock.Advance(domain.ReauthAfter + time.Minute) // key creation asks for the password again
	const next = "a much better password"
	wrongs := []struct {
		door, path string
		form       url.Values
		status     int
	}{
		{"change password", "/account/password", url.Values{"current": {"guess 1"}, "new": {next}, "confirm": {next}}, http.StatusUnprocessableEntity},
		{"confirmation", saPath(sa) + "/keys", url.Values{"reauth_password": {"guess 2"}}, http.StatusUnauthorized},
		{"change password", "/account/password", url.Values{"current": {"guess 3"}, "new": {next}, "confirm": {next}}, http.StatusUnprocessableEntity},
		{"confirmation", saPath(sa) + "/keys", url.Values{"reauth_password": {"guess 4"}}, http.StatusUnauthorized},
		{"sign-in", "/signin", url.Values{"email": {adminEmail}, "password": {"guess 5"}}, http.StatusUnauthorized},
	}
	if len(wrongs) != domain.PasswordFreeFailures {
		t.Fatalf("the test makes %d wrong guesses, the throttle allows %d", len(wrongs), domain.PasswordFreeFailures)
	}
	for _, w := range wrongs {
		if r := c.post(w.path, w.form); r.status != w.status {
			t.Fatalf("wrong password at %s: status %d, want %d", w.door, r.status, w.status)
		}
	}
	r := c.post(saPath(sa)+"/keys", url.Values{"reauth_password": {adminPassword}})
	wantRetryAfter(t, "right password at the confirmation", r)
	if msg := r.doc.Find("[data-testid=reauth-error]").Text(); !strings.Contains(msg, "Too many wrong passwords") {
		t.Fatalf("confirmation says %q", msg)
	}
	wantRetryAfter(t, "right password at change password",
		c.post("/account/password", url.Values{"current": {adminPassword}, "new": {next}, "confirm": {next}}))
	wantRetryAfter(t, "right password at sign-in", c.post("/signin", url.Values{"email": {adminEmail}, "password": {adminPassword}}))
	if keys, err := app.store.ListKeys(context.Background(), sa.ID, "", 10); err != nil || len(keys) != 0 {
		t.Fatalf("keys after the refusals: %v, %v", keys, err)
	}
	if app.passwordHash(adminEmail) != before {
		t.Fatal("the password changed")
	}
	if n := app.countRows("SELECT count(*) FROM password_failures WHERE account = ?", adminEmail); n != domain.PasswordFreeFailures {
		t.Fatalf("%d failures stored, want %d", n, domain.PasswordFreeFailures)
	}
}
