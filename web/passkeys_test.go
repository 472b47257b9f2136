package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"studio/domain"
)

// registerPasskey adds a passkey named name for c's user through the
// security page, with a new software authenticator, and returns it with
// the answer to the registration.
func registerPasskey(t *testing.T, app *testApp, c *client, name string) (*softAuthenticator, response) {
	t.Helper()
	a := newSoftAuthenticator(t, app.localURL, "localhost")
	return a, registerWith(t, c, a, name)
}

func registerWith(t *testing.T, c *client, a *softAuthenticator, name string) response {
	t.Helper()
	page := c.post("/account/security/passkeys/new", url.Values{"name": {name}})
	options := page.doc.Find("[data-testid=passkey-create]").AttrOr("data-passkey-create", "")
	if page.status != http.StatusOK || options == "" {
		t.Fatalf("begin registration of %q: status %d, %s", name, page.status, page.doc.Find(".field-error").Text())
	}
	return c.post("/account/security/passkeys", url.Values{"credential": {a.create(options)}})
}

func passkeyNames(c *client) []string {
	var names []string
	for _, n := range c.get("/account/security").doc.Find("[data-testid=passkey-name]").Nodes {
		names = append(names, strings.TrimSpace(n.FirstChild.Data))
	}
	return names
}

// Several passkeys, each with its name; removed one by one; the first one
// brings recovery codes.
func TestPasskeysRegisterWithNamesAndRemove(t *testing.T) {
	app := newApp(t)
	erin := app.addUser("erin@example.com", "", "", "")
	c := app.signedIn(erin.Email)
	laptop, r := registerPasskey(t, app, c, "Work laptop")
	if r.status != http.StatusOK || r.doc.Find("[data-testid=recovery-code]").Length() != domain.RecoveryCodeCount {
		t.Fatalf("first passkey: status %d, %d recovery codes", r.status, r.doc.Find("[data-testid=recovery-code]").Length())
	}
	// The second one's options exclude the first, so one device is not
	// registered twice.
	page := c.post("/account/security/passkeys/new", url.Values{"name": {"Phone"}})
	opts := parseOptions(t, page.doc.Find("[data-testid=passkey-create]").AttrOr("data-passkey-create", ""))
	if len(opts.PublicKey.ExcludeCredentials) != 1 || opts.PublicKey.ExcludeCredentials[0].ID != b64url(laptop.credID) {
		t.Fatalf("exclude list = %+v", opts.PublicKey.ExcludeCredentials)
	}
	phone := newSoftAuthenticator(t, app.localURL, "localhost")
	if r := c.post("/account/security/passkeys", url.Values{"credential": {phone.create(page.doc.Find("[data-testid=passkey-create]").AttrOr("data-passkey-create", ""))}}); r.status != http.StatusSeeOther {
		t.Fatalf("second passkey: status %d, %s", r.status, r.doc.Find("[data-testid=passkey-error]").Text())
	}
	if names := passkeyNames(c); strings.Join(names, ",") != "Work laptop,Phone" {
		t.Fatalf("passkeys = %v", names)
	}
	// The same device again is refused by the server too.
	if r := registerWith(t, c, laptop, "Laptop again"); r.status != http.StatusConflict {
		t.Fatalf("the same credential twice: status %d", r.status)
	}
	if r := c.post("/account/security/passkeys/new", url.Values{"name": {"  "}}); r.status != http.StatusUnprocessableEntity || r.doc.Find("[data-testid=error-name]").Length() != 1 {
		t.Fatalf("no name: status %d", r.status)
	}
	// An answer made for another site is refused.
	evil := newSoftAuthenticator(t, "https://evil.example", "evil.example")
	if r := registerWith(t, c, evil, "Phished"); r.status != http.StatusUnauthorized {
		t.Fatalf("a credential for another origin: status %d", r.status)
	}
	if n := app.rawCount("SELECT count(*) FROM passkeys WHERE user_id = ?", erin.ID); n != 2 {
		t.Fatalf("%d passkeys stored, want 2", n)
	}
	// Nobody removes another's passkey.
	phoneID := app.rawCount("SELECT id FROM passkeys WHERE name = 'Phone'")
	if r := app.signedIn(adminEmail).post("/account/security/passkeys/"+itoa(int64(phoneID))+"/remove", nil); r.status != http.StatusNotFound {
		t.Fatalf("another user removing it: status %d", r.status)
	}
	if r := c.post("/account/security/passkeys/"+itoa(int64(phoneID))+"/remove", nil); r.status != http.StatusSeeOther {
		t.Fatalf("remove: status %d", r.status)
	}
	if names := passkeyNames(c); strings.Join(names, ",") != "Work laptop" {
		t.Fatalf("passkeys after removing Phone = %v", names)
	}
	actions := ""
	for _, e := range auditEntries(t, app) {
		actions += e.Action + " "
	}
	if strings.Count(actions, domain.ActionPasskeyAdd) != 2 || strings.Count(actions, domain.ActionPasskeyRemove) != 1 {
		t.Fatalf("audit: %s", actions)
	}
}

// A passkey stands as the second factor after the password.
func TestPasskeyAsSecondFactor(t *testing.T) {
	app := newApp(t)
	erin := app.addUser("erin@example.com", "", "", "")
	key, _ := registerPasskey(t, app, app.signedIn(erin.Email), "Security key")
	c := app.client()
	if r := passwordStep(c, erin.Email); r.header.Get("Location") != "/signin/verify" {
		t.Fatalf("password step: Location %q", r.header.Get("Location"))
	}
	prompt := c.get("/signin/verify")
	if prompt.doc.Find("[data-testid=second-factor-passkey]").Length() != 1 {
		t.Fatal("the prompt offers no passkey")
	}
	// A key of another person, answering with this credential's id, fails.
	forger := newSoftAuthenticator(t, app.localURL, "localhost")
	forger.credID, forger.userHandle = key.credID, key.userHandle
	r := c.post("/signin/verify/passkey", nil)
	if r.status != http.StatusOK {
		t.Fatalf("options: status %d %s", r.status, r.body)
	}
	if r := c.post("/signin/verify", url.Values{"passkey": {forger.get(r.body)}}); r.status != http.StatusUnauthorized || signedInAs(c) != "" {
		t.Fatalf("forged assertion: status %d", r.status)
	}
	r = c.post("/signin/verify/passkey", nil)
	opts := parseOptions(t, r.body)
	if len(opts.PublicKey.AllowCredentials) != 1 || opts.PublicKey.AllowCredentials[0].ID != b64url(key.credID) {
		t.Fatalf("allowed credentials = %+v", opts.PublicKey.AllowCredentials)
	}
	if r := c.post("/signin/verify", url.Values{"passkey": {key.get(r.body)}}); r.status != http.StatusSeeOther || r.header.Get("Location") != "/" {
		t.Fatalf("passkey step: status %d, %s", r.status, r.doc.Find(".field-error").Text())
	}
	if signedInAs(c) != erin.Email {
		t.Fatal("not signed in after the passkey")
	}
	if app.rawCount("SELECT count(*) FROM passkeys WHERE user_id = ? AND last_used_time > 0", erin.ID) != 1 {
		t.Fatal("the passkey's use is not recorded")
	}
}

// startPasskeySignIn asks for the options of a password-less sign-in.
func startPasskeySignIn(t *testing.T, c *client) string {
	t.Helper()
	c.get("/signin")
	r := c.post("/signin/passkey/options", nil)
	if r.status != http.StatusOK || !strings.Contains(r.body, `"userVerification":"required"`) || strings.Contains(r.body, "allowCredentials") {
		t.Fatalf("password-less options: status %d, %s", r.status, r.body)
	}
	return r.body
}

// A passkey alone signs in (it is both factors) when it verified its user;
// its challenge works once; a passkey not (or no more) registered fails.
func TestPasswordlessPasskeySignIn(t *testing.T) {
	app := newApp(t)
	erin := app.addUser("erin@example.com", app.inventory().ID, domain.RoleProjectUser, "")
	owner := app.signedIn(erin.Email)
	key, _ := registerPasskey(t, app, owner, "Phone")

	c := app.client()
	answer := key.get(startPasskeySignIn(t, c))
	r := c.post("/signin/passkey", url.Values{"credential": {answer}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/" || signedInAs(c) != erin.Email {
		t.Fatalf("password-less sign-in: status %d, %s", r.status, r.doc.Find("[data-testid=signin-error]").Text())
	}
	// The same answer again (a replay) is refused.
	replay := app.client()
	startPasskeySignIn(t, replay)
	if r := replay.post("/signin/passkey", url.Values{"credential": {answer}}); r.status != http.StatusUnauthorized || signedInAs(replay) != "" {
		t.Fatalf("replayed assertion: status %d", r.status)
	}
	// Without user verification (no PIN, no biometrics) it is one factor: refused.
	key.userVerified = false
	lazy := app.client()
	if r := lazy.post("/signin/passkey", url.Values{"credential": {key.get(startPasskeySignIn(t, lazy))}}); r.status != http.StatusUnauthorized || signedInAs(lazy) != "" {
		t.Fatalf("without user verification: status %d", r.status)
	}
	key.userVerified = true
	// A passkey this site does not know.
	stranger := newSoftAuthenticator(t, app.localURL, "localhost")
	stranger.userHandle = key.userHandle
	sc := app.client()
	if r := sc.post("/signin/passkey", url.Values{"credential": {stranger.get(startPasskeySignIn(t, sc))}}); r.status != http.StatusUnauthorized ||
		!strings.Contains(r.doc.Find("[data-testid=signin-error]").Text(), "not registered here") {
		t.Fatalf("unknown passkey: status %d, %q", r.status, r.doc.Find("[data-testid=signin-error]").Text())
	}
	// Removed, it signs in no more; a locked account neither.
	id := app.rawCount("SELECT id FROM passkeys WHERE user_id = ?", erin.ID)
	if r := owner.post("/account/security/passkeys/"+itoa(int64(id))+"/remove", nil); r.status != http.StatusSeeOther {
		t.Fatalf("remove: status %d", r.status)
	}
	gone := app.client()
	if r := gone.post("/signin/passkey", url.Values{"credential": {key.get(startPasskeySignIn(t, gone))}}); r.status != http.StatusUnauthorized || signedInAs(gone) != "" {
		t.Fatalf("removed passkey: status %d", r.status)
	}
}

// A locked account's passkey does not sign in.
func TestPasskeyOfLockedAccountRefused(t *testing.T) {
	app := newApp(t)
	erin := app.addUser("erin@example.com", "", "", "")
	key, _ := registerPasskey(t, app, app.signedIn(erin.Email), "Phone")
	ctx := context.Background()
	if err := app.store.Update(ctx, func(tx domain.Tx) error { return tx.SetUserLocked(ctx, erin.ID, true) }); err != nil {
		t.Fatal(err)
	}
	c := app.client()
	if r := c.post("/signin/passkey", url.Values{"credential": {key.get(startPasskeySignIn(t, c))}}); r.status != http.StatusForbidden || signedInAs(c) != "" {
		t.Fatalf("locked account: status %d", r.status)
	}
}

// The re-authentication prompt takes a passkey instead of the password.
func TestReauthAcceptsPasskey(t *testing.T) {
	app := newApp(t)
	admin := app.signedIn(adminEmail)
	key, _ := registerPasskey(t, app, admin, "Admin key")
	sa := app.addServiceAccount(app.inventory(), "Reauth robot")
	app.clock.Advance(domain.ReauthAfter + time.Minute)
	r := admin.post(saPath(sa)+"/keys", nil)
	if r.status != http.StatusUnauthorized || r.doc.Find("[data-testid=reauth-passkey]").Length() != 1 {
		t.Fatalf("stale session: status %d, passkey button %d", r.status, r.doc.Find("[data-testid=reauth-passkey]").Length())
	}
	opts := admin.post("/account/passkey-options", nil)
	if opts.status != http.StatusOK {
		t.Fatalf("options: status %d", opts.status)
	}
	r = admin.post(saPath(sa)+"/keys", url.Values{"reauth_passkey": {key.get(opts.body)}})
	if r.status != http.StatusOK || app.keyCount(sa.ID) != 1 {
		t.Fatalf("with a passkey: status %d, %d keys", r.status, app.keyCount(sa.ID))
	}
	// The ceremony's state is used once: the same answer again does nothing.
	app.clock.Advance(domain.ReauthAfter + time.Minute)
	if r := admin.post(saPath(sa)+"/keys", url.Values{"reauth_passkey": {key.get(opts.body)}}); r.status != http.StatusUnauthorized || app.keyCount(sa.ID) != 1 {
		t.Fatalf("replayed passkey confirmation: status %d, %d keys", r.status, app.keyCount(sa.ID))
	}
}

// Adding a passkey in a session whose password is old asks for it first:
// a stolen session cannot plant its own passkey.
func TestAddingPasskeyNeedsRecentSignIn(t *testing.T) {
	app := newApp(t)
	erin := app.addUser("erin@example.com", "", "", "")
	c := app.signedIn(erin.Email)
	app.clock.Advance(domain.ReauthAfter + time.Minute)
	r := c.post("/account/security/passkeys/new", url.Values{"name": {"Thief's key"}})
	if r.status != http.StatusUnauthorized || !strings.Contains(r.doc.Find("[data-testid=reauth-message]").Text(), "To add a passkey") {
		t.Fatalf("stale session: status %d", r.status)
	}
	action, fields := promptForm(r.doc)
	fields.Set("reauth_password", adminPassword)
	r = c.post(action, fields)
	if r.status != http.StatusOK || r.doc.Find("[data-testid=passkey-create]").Length() != 1 {
		t.Fatalf("after the password: status %d", r.status)
	}
	a := newSoftAuthenticator(t, app.localURL, "localhost")
	if r := c.post("/account/security/passkeys", url.Values{"credential": {a.create(r.doc.Find("[data-testid=passkey-create]").AttrOr("data-passkey-create", ""))}}); r.status != http.StatusOK {
		t.Fatalf("finish: status %d", r.status)
	}
	if names := passkeyNames(c); strings.Join(names, ",") != "Thief's key" {
		t.Fatalf("passkeys = %v", names)
	}
}
