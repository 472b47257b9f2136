package web_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"studio/domain"
)

// ssoWorld is the test app with the first organization (Acme) connected
// to a test identity provider for corp.example and example.com, giving
// new people Project developer in the inventory project.
type ssoWorld struct {
	app   *testApp
	idp   *testIdP
	admin *client
	inv   domain.Project
}

func newSSOWorld(t *testing.T) *ssoWorld {
	t.Helper()
	app := newApp(t)
	w := &ssoWorld{app: app, idp: newTestIdP(t, app.clock.Now), admin: app.signedIn(adminEmail), inv: app.inventory()}
	r := w.admin.post("/orgs/"+app.org.ID+"/security/sso", w.connection(nil))
	if r.status != http.StatusSeeOther {
		t.Fatalf("connect the provider: status %d, %s", r.status, r.doc.Find(".field-error").Text())
	}
	return w
}

// connection is the connection form, with changes.
func (w *ssoWorld) connection(change func(url.Values)) url.Values {
	f := url.Values{"provider_name": {"Corp Login"}, "issuer": {w.idp.issuer()}, "client_id": {w.idp.clientID},
		"client_secret": {w.idp.clientSecret}, "domains": {"corp.example, example.com"},
		"default_role": {string(domain.RoleProjectDev)}, "default_project": {w.inv.ID}}
	if change != nil {
		change(f)
	}
	return f
}

// start sends c to the provider for email and returns where it goes.
func (w *ssoWorld) start(c *client, email string) string {
	w.app.t.Helper()
	c.get("/signin")
	r := c.get("/signin/sso/start?email=" + url.QueryEscape(email))
	loc := r.header.Get("Location")
	if r.status != http.StatusSeeOther || !strings.HasPrefix(loc, w.idp.issuer()+"/authorize?") {
		w.app.t.Fatalf("start single sign-on for %s: status %d, Location %q, %s", email, r.status, loc, r.doc.Find("[data-testid=signin-error]").Text())
	}
	return loc
}

// authorize is the provider's part: it signs in its current user and
// returns the console's callback path with the code and state.
func (w *ssoWorld) authorize(authURL string) string {
	w.app.t.Helper()
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(authURL)
	if err != nil {
		w.app.t.Fatal(err)
	}
	resp.Body.Close()
	back, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || err != nil || back.Path != "/signin/sso/callback" {
		w.app.t.Fatalf("provider's answer: status %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if got := "http://" + back.Host; got != w.app.localURL {
		w.app.t.Fatalf("the provider sends back to %s, want the console at %s", got, w.app.localURL)
	}
	return back.RequestURI()
}

// signIn runs the whole round trip for c as the provider's user u and
// returns the console's answer to the callback.
func (w *ssoWorld) signIn(c *client, u idpUser) response {
	w.app.t.Helper()
	w.idp.signIn(u)
	return c.get(w.authorize(w.start(c, u.Email)))
}

// signedInAs reports who c's session is (the user menu), "" when none.
func signedInAs(c *client) string {
	r := c.get("/")
	if r.status != http.StatusOK {
		return ""
	}
	return strings.TrimSpace(r.doc.Find("[data-testid=user-menu]").Text())
}

func (a *testApp) storedUserByEmail(email string) domain.User {
	a.t.Helper()
	u, err := a.store.UserByEmail(context.Background(), email)
	if err != nil {
		a.t.Fatalf("user %s: %v", email, err)
	}
	return u
}

func (a *testApp) userCount() int {
	a.t.Helper()
	n, err := a.store.CountUsers(context.Background())
	if err != nil {
		a.t.Fatal(err)
	}
	return n
}

func (a *testApp) ssoLinks() int {
	a.t.Helper()
	return a.rawCount("SELECT count(*) FROM sso_links")
}

// rawCount runs a count on the database file itself.
func (a *testApp) rawCount(query string, args ...any) int {
	a.t.Helper()
	raw, err := sql.Open("sqlite", "file:"+a.dbPath+"?mode=ro")
	if err != nil {
		a.t.Fatal(err)
	}
	defer raw.Close()
	var n int
	if err := raw.QueryRow(query, args...).Scan(&n); err != nil {
		a.t.Fatalf("%s: %v", query, err)
	}
	return n
}

var bob = idpUser{Subject: "corp|bob", Email: "bob@corp.example", Verified: true, Name: "Bob Builder"}

// A person the provider signs in for the first time gets an account, joins
// the organization with the connection's default role, and is signed in.
func TestSSOFirstSignInCreatesUserWithDefaultRole(t *testing.T) {
	w := newSSOWorld(t)
	app := w.app
	anon := app.client()
	// The sign-in page offers the provider for the email's domain, and only for it.
	page := anon.get("/signin?email=" + url.QueryEscape(bob.Email))
	if btn := strings.TrimSpace(page.doc.Find("[data-testid=sso-signin]").Text()); btn != "Sign in with Corp Login" {
		t.Fatalf("sign-in page for %s offers %q", bob.Email, btn)
	}
	if hint := anon.get("/signin/provider?email=someone%40elsewhere.example"); hint.doc.Find("[data-testid=sso-signin]").Length() != 0 {
		t.Fatal("a domain without a provider is offered one")
	}
	// Without a password, the form offers the provider instead of refusing.
	if r := anon.post("/signin", url.Values{"email": {bob.Email}}); r.status != http.StatusOK || r.doc.Find("[data-testid=sso-signin]").Length() != 1 {
		t.Fatalf("email without password: status %d", r.status)
	}

	users := app.userCount()
	c := app.client()
	authURL := w.start(c, bob.Email)
	q, _ := url.Parse(authURL)
	for _, param := range []string{"state", "nonce", "code_challenge"} {
		if q.Query().Get(param) == "" {
			t.Errorf("the authorization request has no %s", param)
		}
	}
	if q.Query().Get("code_challenge_method") != "S256" {
		t.Errorf("PKCE method = %q, want S256", q.Query().Get("code_challenge_method"))
	}
	w.idp.signIn(bob)
	r := c.get(w.authorize(authURL))
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/" {
		t.Fatalf("callback: status %d, Location %q, %s", r.status, r.header.Get("Location"), r.doc.Find("[data-testid=signin-error]").Text())
	}
	if who := signedInAs(c); who != bob.Email {
		t.Fatalf("signed in as %q, want %s", who, bob.Email)
	}
	if got := app.userCount(); got != users+1 {
		t.Fatalf("users = %d, want %d", got, users+1)
	}
	u, err := app.store.UserByEmail(context.Background(), bob.Email)
	if err != nil {
		t.Fatal(err)
	}
	if !u.EmailVerified || u.DisplayName != "Bob Builder" || u.PasswordHash != domain.NoPasswordHash || u.Pending() {
		t.Fatalf("new user = %+v", u)
	}
	ms := app.memberships(domain.AccountRef{Type: domain.AccountUser, ID: itoa(u.ID)})
	if len(ms) != 1 || ms[0].ProjectID != w.inv.ID || ms[0].Role != domain.RoleProjectDev || ms[0].Status != domain.StatusAccepted {
		t.Fatalf("memberships of the new user = %+v, want Project developer in the inventory project", ms)
	}
	if p := c.get("/projects/" + w.inv.ID); p.status != http.StatusOK {
		t.Fatalf("the new user's project: status %d", p.status)
	}
	actions := strings.Join(app.auditActions(app.org.ID), " ")
	for _, a := range []string{domain.ActionUserCreate, domain.ActionSSOLink, domain.ActionMembershipCreate} {
		if !strings.Contains(actions, a) {
			t.Errorf("the organization's audit log has no %s: %s", a, actions)
		}
	}

	// The same identity again signs in as the same account.
	again := app.client()
	if r := w.signIn(again, bob); r.status != http.StatusSeeOther || signedInAs(again) != bob.Email {
		t.Fatalf("second sign-in: status %d", r.status)
	}
	if got := app.userCount(); got != users+1 {
		t.Fatalf("users = %d after the second sign-in, want %d", got, users+1)
	}
}

// Every answer of the provider that does not check out is refused, signs
// no one in and makes no account.
func TestSSORefusesBadAnswers(t *testing.T) {
	w := newSSOWorld(t)
	app := w.app
	cases := []struct {
		name   string
		user   idpUser
		tamper func(map[string]any)
		want   string
	}{
		{"wrong issuer", bob, func(c map[string]any) { c["iss"] = "https://evil.example" }, "did not confirm who you are"},
		{"wrong audience", bob, func(c map[string]any) { c["aud"] = "another-client" }, "did not confirm who you are"},
		{"expired ID token", bob, func(c map[string]any) {
			c["iat"] = app.clock.Now().Add(-time.Hour).Unix()
			c["exp"] = app.clock.Now().Add(-time.Minute).Unix()
		}, "did not confirm who you are"},
		{"bad nonce", bob, func(c map[string]any) { c["nonce"] = "a-nonce-of-another-sign-in" }, "not for this sign-in"},
		{"unverified email", idpUser{Subject: "corp|una", Email: "una@corp.example", Name: "Una"}, nil, "has not verified your email address"},
		{"domain not allowed", idpUser{Subject: "corp|eve", Email: "eve@evil.example", Verified: true}, nil, "may sign in addresses of corp.example, example.com only"},
	}
	users := app.userCount()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w.idp.setTamper(tc.tamper)
			defer w.idp.setTamper(nil)
			c := app.client()
			email := tc.user.Email
			if tc.name == "domain not allowed" {
				// The button is offered for corp.example; the provider answers for another address.
				email = "someone@corp.example"
			}
			w.idp.signIn(tc.user)
			r := c.get(w.authorize(w.start(c, email)))
			msg := r.doc.Find("[data-testid=signin-error]").Text()
			if r.status != http.StatusUnauthorized || !strings.Contains(msg, tc.want) {
				t.Fatalf("status %d, message %q; want 401 saying %q", r.status, msg, tc.want)
			}
			if cookieNamed(r.header, "studio_session") != nil || signedInAs(c) != "" {
				t.Fatal("a refused answer signed someone in")
			}
		})
	}
	if got := app.userCount(); got != users {
		t.Fatalf("users = %d after refused answers, want %d", got, users)
	}
	if n := app.ssoLinks(); n != 0 {
		t.Fatalf("sso_links = %d after refused answers", n)
	}

	t.Run("replayed state", func(t *testing.T) {
		c := app.client()
		w.idp.signIn(bob)
		callback := w.authorize(w.start(c, bob.Email))
		if r := c.get(callback); r.status != http.StatusSeeOther {
			t.Fatalf("first use: status %d", r.status)
		}
		redeemed := w.idp.redeemed
		c.post("/signout", nil)
		r := c.get(callback)
		if msg := r.doc.Find("[data-testid=signin-error]").Text(); r.status != http.StatusUnauthorized || !strings.Contains(msg, "used already") {
			t.Fatalf("replay: status %d, %q", r.status, msg)
		}
		if signedInAs(c) != "" || w.idp.redeemed != redeemed {
			t.Fatal("a replayed state signed in, or its code was sent to the provider again")
		}
	})
	t.Run("another browser", func(t *testing.T) {
		c, thief := app.client(), app.client()
		w.idp.signIn(bob)
		callback := w.authorize(w.start(c, bob.Email))
		thief.get("/signin")
		r := thief.get(callback)
		if msg := r.doc.Find("[data-testid=signin-error]").Text(); r.status != http.StatusUnauthorized || !strings.Contains(msg, "another browser") {
			t.Fatalf("callback in another browser: status %d, %q", r.status, msg)
		}
		if signedInAs(thief) != "" {
			t.Fatal("the answer was taken by another browser")
		}
	})
}

// An account that exists already is linked to the provider's identity
// only once its owner gives the password: a provider asserting an email
// does not get its account.
func TestSSOLinksExistingUserOnlyWithPassword(t *testing.T) {
	w := newSSOWorld(t)
	app := w.app
	carol := app.addUser("carol@corp.example", w.inv.ID, domain.RoleProjectUser, "")
	c := app.client()
	r := w.signIn(c, idpUser{Subject: "corp|carol", Email: carol.Email, Verified: true})
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/signin/link") {
		t.Fatalf("callback for an existing account: status %d, Location %q", r.status, r.header.Get("Location"))
	}
	if signedInAs(c) != "" || app.ssoLinks() != 0 {
		t.Fatal("signed in or linked before the password")
	}
	page := c.get(r.header.Get("Location"))
	if !strings.Contains(page.doc.Find("[data-testid=sso-link-page]").Text(), carol.Email) {
		t.Fatalf("link page: status %d", page.status)
	}
	bad := c.post("/signin/link", url.Values{"password": {"not her password"}})
	if bad.status != http.StatusUnauthorized || !strings.Contains(bad.doc.Find("[data-testid=error-password]").Text(), "incorrect") {
		t.Fatalf("wrong password: status %d", bad.status)
	}
	if signedInAs(c) != "" || app.ssoLinks() != 0 {
		t.Fatal("a wrong password linked or signed in")
	}
	ok := c.post("/signin/link", url.Values{"password": {adminPassword}})
	if ok.status != http.StatusSeeOther || ok.header.Get("Location") != "/" || signedInAs(c) != carol.Email {
		t.Fatalf("right password: status %d, Location %q", ok.status, ok.header.Get("Location"))
	}
	if app.ssoLinks() != 1 || !strings.Contains(strings.Join(app.auditActions(app.org.ID), " "), domain.ActionSSOLink) {
		t.Fatal("no link recorded, or not audited")
	}
	// From now on the provider signs her in directly.
	next := app.client()
	if r := w.signIn(next, idpUser{Subject: "corp|carol", Email: carol.Email, Verified: true}); r.header.Get("Location") != "/" || signedInAs(next) != carol.Email {
		t.Fatalf("linked sign-in: status %d, Location %q", r.status, r.header.Get("Location"))
	}
	// Another identity asserting her email is asked for the password
	// again, and cannot take the account: it is linked to one identity.
	other := app.client()
	r = w.signIn(other, idpUser{Subject: "corp|impostor", Email: carol.Email, Verified: true})
	if !strings.HasPrefix(r.header.Get("Location"), "/signin/link") || signedInAs(other) != "" {
		t.Fatalf("another identity with her email: status %d, Location %q", r.status, r.header.Get("Location"))
	}
	if r := other.post("/signin/link", url.Values{"password": {adminPassword}}); signedInAs(other) != "" || app.ssoLinks() != 1 {
		t.Fatalf("a second identity was linked to the account: status %d", r.status)
	}
}

// "Require single sign-on": members can no longer open the organization's
// pages signed in with a password; support staff can, and it is audited.
// Programs using service accounts are not affected.
func TestRequireSSO(t *testing.T) {
	w := newSSOWorld(t)
	app := w.app
	orgPath := "/orgs/" + app.org.ID
	// An admin signed in with a password cannot require it yet: it would
	// lock everyone out if the provider does not work.
	r := w.admin.post(orgPath+"/security/policy", url.Values{"require_sso": {"on"}})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.doc.Find("[data-testid=error-require_sso]").Text(), "Sign in with the organization's provider first") {
		t.Fatalf("require without having signed in with it: status %d", r.status)
	}
	// The admin signs in with the provider (linking the account), then may.
	admin := app.client()
	r = w.signIn(admin, idpUser{Subject: "corp|admin", Email: adminEmail, Verified: true})
	r = admin.post("/signin/link", url.Values{"password": {adminPassword}})
	admin.secondFactor(adminEmail, r)
	if r := admin.post(orgPath+"/security/policy", url.Values{"require_sso": {"on"}}); r.status != http.StatusSeeOther {
		t.Fatalf("require single sign-on: status %d, %s", r.status, r.doc.Find(".field-error").Text())
	}

	dave := app.addUser("dave@example.com", w.inv.ID, domain.RoleProjectUser, "")
	c := app.signedIn(dave.Email)
	for _, p := range []string{orgPath, "/projects/" + w.inv.ID, "/projects/" + w.inv.ID + "/members"} {
		r := c.get(p)
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/signin/sso?org="+app.org.ID+"&next="+url.QueryEscape(p) {
			t.Fatalf("%s with a password session: status %d, Location %q", p, r.status, r.header.Get("Location"))
		}
	}
	start := c.get("/signin/sso?org=" + app.org.ID + "&next=" + url.QueryEscape(orgPath))
	if !strings.Contains(start.doc.Find("[data-testid=sso-start-message]").Text(), "Acme requires signing in with Corp Login") {
		t.Fatalf("start page: status %d", start.status)
	}
	if r := c.get("/"); r.status != http.StatusOK {
		t.Fatalf("the organization list: status %d", r.status)
	}
	// Signed in with the provider (and linked), the pages open.
	r = w.signIn(c, idpUser{Subject: "corp|dave", Email: dave.Email, Verified: true})
	if r := c.post("/signin/link", url.Values{"password": {adminPassword}}); r.status != http.StatusSeeOther {
		t.Fatalf("link: status %d", r.status)
	}
	if r := c.get(orgPath); r.status != http.StatusOK {
		t.Fatalf("%s after single sign-on: status %d", orgPath, r.status)
	}

	// Support staff are excepted, once audited per session.
	sam := app.addStaff("sam@example.com", w.inv.ID)
	app.giveTOTP(sam.Email)
	staff := app.signedIn(sam.Email)
	for range 2 {
		if r := staff.get(orgPath); r.status != http.StatusOK {
			t.Fatalf("staff with a password session: status %d", r.status)
		}
	}
	exceptions := 0
	for _, a := range app.auditActions(app.org.ID) {
		if a == domain.ActionSSOStaffException {
			exceptions++
		}
	}
	if exceptions != 1 {
		t.Fatalf("staff exceptions audited %d times, want once", exceptions)
	}

	// Programs are not people: the API answers service accounts as before.
	keyID, secret := app.addRobot(w.inv)
	req, _ := http.NewRequest(http.MethodGet, app.srv.URL+"/v2/projects/"+w.inv.ID, nil)
	req.SetBasicAuth(keyID, secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("API with Basic Auth under required single sign-on: status %d", resp.StatusCode)
	}
}

// The connection form: the client secret is sealed, never shown again;
// the issuer must be https; a domain belongs to one organization.
func TestSSOConnectionSettings(t *testing.T) {
	w := newSSOWorld(t)
	app := w.app
	path := "/orgs/" + app.org.ID + "/security"
	page := w.admin.get(path)
	if page.status != http.StatusOK || strings.Contains(page.body, w.idp.clientSecret) {
		t.Fatalf("settings page: status %d, or it shows the client secret", page.status)
	}
	if !strings.Contains(page.doc.Find("[data-testid=sso-state]").Text(), "Connected to Corp Login") {
		t.Fatalf("state = %q", page.doc.Find("[data-testid=sso-state]").Text())
	}
	// Saved again without a secret, the stored one stays (the sign-in still works).
	if r := w.admin.post(path+"/sso", w.connection(func(f url.Values) { f.Set("client_secret", "") })); r.status != http.StatusSeeOther {
		t.Fatalf("save without a secret: status %d", r.status)
	}
	if r := w.signIn(app.client(), bob); r.status != http.StatusSeeOther {
		t.Fatalf("sign-in after saving without a secret: status %d", r.status)
	}
	for _, tc := range []struct {
		field, value, want string
	}{
		{"issuer", "http://idp.example.com", "must be an https:// URL"},
		{"issuer", "https://idp.example.com/?a=b", "without a query"},
		{"domains", "not a domain", "is not a domain name"},
		{"default_role", string(domain.RoleProjectAdmin), "Project user or Project developer at most"},
		{"client_id", "", "Enter the client id"},
	} {
		before := app.auditActions(app.org.ID)
		r := w.admin.post(path+"/sso", w.connection(func(f url.Values) { f.Set(tc.field, tc.value) }))
		if msg := r.doc.Find("[data-testid=error-" + tc.field + "]").Text(); r.status != http.StatusUnprocessableEntity || !strings.Contains(msg, tc.want) {
			t.Errorf("%s=%q: status %d, message %q", tc.field, tc.value, r.status, msg)
		}
		if len(app.auditActions(app.org.ID)) != len(before) {
			t.Errorf("%s=%q: a refused form changed something", tc.field, tc.value)
		}
	}
	// Another organization cannot take a domain that signs in here.
	other, otherAdmin := app.addOrg("Other Corp", "root@other.example")
	oc := app.signedIn(otherAdmin.Email)
	r := oc.post("/orgs/"+other.ID+"/security/sso", w.connection(func(f url.Values) { f.Set("default_role", "") }))
	if r.status != http.StatusConflict && r.status != http.StatusUnprocessableEntity || !strings.Contains(r.doc.Find("[data-testid=error-domains]").Text(), "another organization") {
		t.Fatalf("a taken domain: status %d, %q", r.status, r.doc.Find("[data-testid=error-domains]").Text())
	}
	// The secret is sealed in the database, and absent from the audit log.
	for _, e := range auditEntries(t, app) {
		if strings.Contains(e.Detail, w.idp.clientSecret) {
			t.Fatalf("the audit log holds the client secret: %q", e.Detail)
		}
	}
	if inDatabaseFiles(t, app, w.idp.clientSecret) {
		t.Fatal("the client secret is in the database files in plain text")
	}
	// Disconnecting stops the sign-in, after confirmation.
	if r := w.admin.post(path+"/sso/delete", nil); r.status != http.StatusBadRequest {
		t.Fatalf("disconnect without confirmation: status %d", r.status)
	}
	if r := w.admin.post(path+"/sso/delete", url.Values{"confirm": {"yes"}}); r.status != http.StatusSeeOther {
		t.Fatalf("disconnect: status %d", r.status)
	}
	c := app.client()
	if r := c.get("/signin/sso/start?email=" + url.QueryEscape(bob.Email)); r.status != http.StatusNotFound {
		t.Fatalf("single sign-on after disconnecting: status %d", r.status)
	}
}

// addStaff makes a support staff member with a password (adminPassword)
// and, when projectID is set, Project user there.
func (a *testApp) addStaff(email, projectID string) domain.User {
	a.t.Helper()
	ctx := context.Background()
	hash, err := domain.NewHasher(1).Hash(ctx, adminPassword)
	if err != nil {
		a.t.Fatal(err)
	}
	u := domain.User{Email: email, DisplayName: "Staff " + email, PasswordHash: hash, Staff: true, CreateTime: a.clock.Now(), EmailVerified: true}
	err = a.store.Update(ctx, func(tx domain.Tx) error {
		if err := tx.CreateUser(ctx, &u); err != nil || projectID == "" {
			return err
		}
		p, err := tx.ProjectByID(ctx, projectID)
		if err != nil {
			return err
		}
		m := domain.Membership{OrganizationID: p.OrganizationID, ProjectID: projectID, Account: domain.AccountRef{Type: domain.AccountUser, ID: itoa(u.ID)},
			Role: domain.RoleProjectUser, Status: domain.StatusAccepted, CreateTime: a.clock.Now()}
		return tx.CreateMembership(ctx, &m)
	})
	if err != nil {
		a.t.Fatal(err)
	}
	return u
}

// addRobot makes a service account of project p with Basic Auth on,
// Project developer there, and a key; it returns the key's id and secret.
func (a *testApp) addRobot(p domain.Project) (string, string) {
	a.t.Helper()
	ctx := context.Background()
	now := a.clock.Now()
	sealer, err := domain.NewSealer([]byte("an AES-256 key of 32 bytes......"))
	if err != nil {
		a.t.Fatal(err)
	}
	sa := domain.ServiceAccount{ID: domain.NewID(now), ProjectID: p.ID, DisplayName: "Robot", EnableBasicAuth: true, CreateTime: now, UpdateTime: now}
	sa.Email = domain.ServiceAccountEmail(sa.ID, p.ID, "d21s.com")
	secret := domain.NewKeySecret()
	k := domain.Key{ID: domain.NewID(now), ServiceAccountID: sa.ID, CreateTime: now}
	k.Sealed = sealer.Seal([]byte(secret), []byte(k.ID))
	m := domain.Membership{OrganizationID: p.OrganizationID, ProjectID: p.ID, Account: sa.Ref(), Role: domain.RoleProjectDev, Status: domain.StatusAccepted, CreateTime: now}
	err = a.store.Update(ctx, func(tx domain.Tx) error {
		if err := tx.CreateServiceAccount(ctx, sa); err != nil {
			return err
		}
		if err := tx.CreateKey(ctx, k); err != nil {
			return err
		}
		return tx.CreateMembership(ctx, &m)
	})
	if err != nil {
		a.t.Fatal(err)
	}
	return k.ID, secret
}

func auditEntries(t *testing.T, app *testApp) []domain.AuditEntry {
	t.Helper()
	entries, err := app.store.ListAudit(context.Background(), domain.AuditFilter{}, 0, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	return entries
}

// inDatabaseFiles reports whether text is in the database files, after a
// checkpoint so the WAL's content is in the main file too.
func inDatabaseFiles(t *testing.T, app *testApp, text string) bool {
	t.Helper()
	raw, err := sql.Open("sqlite", "file:"+app.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	files, err := filepath.Glob(app.dbPath + "*")
	if err != nil || len(files) == 0 {
		t.Fatalf("database files: %v %v", files, err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), text) {
			return true
		}
	}
	return false
}

// Connecting or changing the identity provider in a session whose
// password is old asks for it first.
func TestChangingSSONeedsRecentSignIn(t *testing.T) {
	w := newSSOWorld(t)
	w.app.clock.Advance(domain.ReauthAfter + time.Minute)
	path := "/orgs/" + w.app.org.ID + "/security/sso"
	before := w.app.auditActions(w.app.org.ID)
	r := w.admin.post(path, w.connection(func(f url.Values) { f.Set("issuer", "https://evil.example") }))
	if r.status != http.StatusUnauthorized || !strings.Contains(r.doc.Find("[data-testid=reauth-message]").Text(), "To change single sign-on") {
		t.Fatalf("stale session: status %d", r.status)
	}
	if len(w.app.auditActions(w.app.org.ID)) != len(before) {
		t.Fatal("the provider changed before the password")
	}
	// The prompt carries the form again, but never the client secret:
	// once the password is confirmed, the form asks for it again instead
	// of saving the change with the old secret.
	if strings.Contains(r.body, w.idp.clientSecret) {
		t.Fatal("the password prompt holds the client secret")
	}
	action, fields := promptForm(r.doc)
	fields.Set("reauth_password", adminPassword)
	r = w.admin.post(action, fields)
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.doc.Find("[data-testid=error-client_secret]").Text(), "Enter the client secret again") {
		t.Fatalf("after the password: status %d", r.status)
	}
	if len(w.app.auditActions(w.app.org.ID)) != len(before) || strings.Contains(r.body, w.idp.clientSecret) {
		t.Fatal("saved without the secret, or the page shows it")
	}
	if r := w.admin.post(path, w.connection(func(f url.Values) { f.Set("provider_name", "Corp Login 2") })); r.status != http.StatusSeeOther {
		t.Fatalf("sent again with the secret: status %d", r.status)
	}
}

// The default project stays chosen on the settings page even when it is
// not among the first projects by name, so saving the form keeps it.
func TestSSODefaultProjectKeptBeyondFirstPage(t *testing.T) {
	w := newSSOWorld(t)
	for i := range 101 {
		w.app.addProject(w.app.org.ID, fmt.Sprintf("A project %03d", i))
	}
	page := w.admin.get("/orgs/" + w.app.org.ID + "/security")
	if got := page.doc.Find("[data-testid=sso-default_project] option[selected]").AttrOr("value", ""); got != w.inv.ID {
		t.Fatalf("selected default project = %q, want the inventory project %s", got, w.inv.ID)
	}
}
