package web_test

import (
	"database/sql"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"studio/domain"

	"github.com/PuerkitoBio/goquery"
	"github.com/pquerna/otp/totp"
)

// reauthWorld is one fresh fixture of the re-authentication sweep: every
// sensitive change is one form post away from the first administrator
// (organization admin and support staff), and none is made yet.
type reauthWorld struct {
	app          *testApp
	project      domain.Project
	sa           domain.ServiceAccount // Basic Auth off, no role, one working key
	keyID        string
	member       domain.User // Project user of project
	pendingAdmin domain.User // invited as Project admin of project, not yet accepted
	pendingOrg   domain.User // invited as organization admin, not yet accepted
	// passkeyID is a passkey of the administrator; totpSecret the seed of
	// an authenticator app being set up (see prepare).
	passkeyID  int64
	totpSecret string
}

func newReauthWorld(t *testing.T) *reauthWorld {
	app := newApp(t)
	w := &reauthWorld{app: app, project: app.addProject(app.org.ID, "Plant")}
	w.sa = app.addServiceAccount(w.project, "Robot")
	w.keyID = app.addKey(w.sa).ID
	w.member = app.addUser("member@example.com", w.project.ID, domain.RoleProjectUser, "")
	w.pendingAdmin = app.memAddPending("pending-admin@example.com", w.project, domain.RoleProjectAdmin)
	w.pendingOrg = app.memAddPending("pending-org@example.com", w.project, domain.RoleProjectUser)
	app.addMembershipStatus(memUserRef(w.pendingOrg), app.org.ID, "", domain.RoleOrgAdmin, domain.StatusPending)
	return w
}

// prepare readies the sign-in security a route changes: the
// administrator's authenticator app (given by the test app) stays, except
// for the routes that set one up, which find none (and, to confirm one,
// one being set up); the others find a passkey of the administrator too
// (so the app may be turned off) and the organization connected to an
// identity provider.
func (w *reauthWorld) prepare(route string) {
	w.app.t.Helper()
	ctx := w.app.t.Context()
	admin, err := w.app.store.UserByEmail(ctx, adminEmail)
	if err != nil {
		w.app.t.Fatal(err)
	}
	db := w.app.openWritable()
	if route == "/account/security/totp" || route == "/account/security/totp/confirm" {
		w.app.exec(db, "DELETE FROM totp_factors WHERE user_id = ?", admin.ID)
		w.app.factors.mu.Lock()
		delete(w.app.factors.secrets, adminEmail)
		w.app.factors.mu.Unlock()
		if route == "/account/security/totp/confirm" {
			setup, err := w.app.services.SecondFactors.BeginTOTP(ctx, domain.UserPrincipal(admin, "test setup"))
			if err != nil {
				w.app.t.Fatal(err)
			}
			w.totpSecret = setup.Secret
		}
		return
	}
	w.app.exec(db, "INSERT INTO webauthn_users (user_id, handle) VALUES (?, x'0102')", admin.ID)
	w.app.exec(db, "INSERT INTO passkeys (user_id, credential_id, name, record_sealed, create_time) VALUES (?, x'0a0b', 'Key', x'00', 1)", admin.ID)
	w.passkeyID = int64(w.app.rawCount("SELECT id FROM passkeys WHERE user_id = ?", admin.ID))
	w.app.exec(db, `INSERT INTO sso_connections (organization_id, provider_name, issuer, client_id, client_secret_sealed, create_time, update_time)
		VALUES (?, 'Corp Login', 'https://idp.example', 'client', x'00', 1, 1)`, w.app.org.ID)
}

// openWritable opens the app's database file beside the server, to write.
func (a *testApp) openWritable() *sql.DB {
	a.t.Helper()
	db, err := sql.Open("sqlite", "file:"+a.dbPath+"?_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)")
	if err != nil {
		a.t.Fatal(err)
	}
	a.t.Cleanup(func() { db.Close() })
	return db
}

func (a *testApp) exec(db *sql.DB, query string, args ...any) {
	a.t.Helper()
	if _, err := db.Exec(query, args...); err != nil {
		a.t.Fatalf("%s: %v", query, err)
	}
}

// addMembershipStatus gives an account a role with the given status.
func (a *testApp) addMembershipStatus(ref domain.AccountRef, orgID, projectID string, role domain.Role, status domain.MembershipStatus) {
	a.t.Helper()
	ctx := a.t.Context()
	m := domain.Membership{OrganizationID: orgID, ProjectID: projectID, Account: ref, Role: role, Status: status, CreateTime: a.clock.Now()}
	if err := a.store.Update(ctx, func(tx domain.Tx) error { return tx.CreateMembership(ctx, &m) }); err != nil {
		a.t.Fatal(err)
	}
}

// path fills a route's parameters so that its change, if it makes one,
// is sensitive: the pending admins for invite links and organization
// admin routes, the service account on support routes, the project user
// elsewhere.
func (w *reauthWorld) path(route string) string {
	member := itoa(w.member.ID)
	switch {
	case strings.Contains(route, "/admins/:member"):
		member = itoa(w.pendingOrg.ID)
	case strings.HasSuffix(route, "/invite-link"):
		member = itoa(w.pendingAdmin.ID)
	case strings.HasPrefix(route, "/support/accounts/:member"):
		member = w.sa.ID
	}
	return strings.NewReplacer(":org", w.app.org.ID, ":project", w.project.ID, ":sa", w.sa.ID, ":key", w.keyID,
		":member", member, ":token", strings.Repeat("ab", 32), ":passkey", itoa(w.passkeyID)).Replace(route)
}

// form is one form for every route, asking each for its most powerful change.
func (w *reauthWorld) form() url.Values {
	admin := string(domain.RoleProjectAdmin)
	f := url.Values{
		"role": {admin}, "role-" + w.project.ID: {admin}, "email": {"newcomer@example.com"},
		"enable": {"true"}, "grace": {"24h"}, "confirm": {"yes"},
		"reason": {"Checking re-authentication"}, "displayName": {"Swept"},
		"require_second_factor": {"on"},
	}
	if w.totpSecret != "" {
		code, err := totp.GenerateCode(w.totpSecret, w.app.clock.Now())
		if err != nil {
			w.app.t.Fatal(err)
		}
		f.Set("code", code)
	}
	return f
}

// openReadOnly opens the app's database file beside the server.
func (a *testApp) openReadOnly() *sql.DB {
	a.t.Helper()
	db, err := sql.Open("sqlite", "file:"+a.dbPath+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		a.t.Fatal(err)
	}
	a.t.Cleanup(func() { db.Close() })
	return db
}

// rows reads a query's rows as lines of text, sorted.
func (a *testApp) rows(db *sql.DB, query string) []string {
	a.t.Helper()
	rs, err := db.Query(query)
	if err != nil {
		a.t.Fatalf("%s: %v", query, err)
	}
	defer rs.Close()
	cols, _ := rs.Columns()
	var out []string
	for rs.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			a.t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%v", vals))
	}
	if err := rs.Err(); err != nil {
		a.t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// dbDump is every row of every table but the sessions (which a request
// touches), for "nothing changed".
func (a *testApp) dbDump() string {
	a.t.Helper()
	db := a.openReadOnly()
	var b strings.Builder
	for _, table := range a.rows(db, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'sessions'") {
		name := strings.Trim(table, "[]")
		fmt.Fprintf(&b, "%s\n", name)
		for _, r := range a.rows(db, "SELECT * FROM "+name) {
			fmt.Fprintf(&b, "  %s\n", r)
		}
	}
	return b.String()
}

// powers lists what the sensitive changes make: admin memberships, keys,
// accounts with Basic Auth on, invite links for pending admins; and the
// state of sign-in security (second factors, recovery codes, sign-in
// policies, identity providers), which they may also take away.
func (a *testApp) powers() map[string]bool {
	a.t.Helper()
	db := a.openReadOnly()
	out := map[string]bool{}
	for _, q := range []string{
		"SELECT 'project admin', project_id, user_id, service_account_id, status FROM project_members WHERE role = 'roles/project.admin'",
		"SELECT 'organization admin', organization_id, user_id, service_account_id, status FROM organization_members",
		"SELECT 'key', id FROM keys",
		"SELECT 'basic auth on', id FROM service_accounts WHERE enable_basic_auth = 1",
		"SELECT 'authenticator app', user_id, confirm_time FROM totp_factors",
		"SELECT 'no authenticator app', id FROM users WHERE id NOT IN (SELECT user_id FROM totp_factors WHERE confirm_time <> 0)",
		"SELECT 'passkeys', u.id, (SELECT count(*) FROM passkeys p WHERE p.user_id = u.id) FROM users u",
		"SELECT 'recovery codes', user_id, group_concat(code_hash) FROM recovery_codes WHERE used_time = 0 GROUP BY user_id",
		"SELECT 'sign-in policy', organization_id, require_second_factor, require_sso FROM organization_signin_policies",
		"SELECT 'single sign-on', o.id, (SELECT count(*) FROM sso_connections c WHERE c.organization_id = o.id) FROM organizations o",
		`SELECT 'invite link to admin', i.id, i.shareable_hash, i.emailed_hash FROM invitations i
			LEFT JOIN project_members pm ON pm.id = i.project_member_id
			WHERE i.organization_member_id IS NOT NULL OR pm.role = 'roles/project.admin'`,
	} {
		for _, r := range a.rows(db, q) {
			out[r] = true
		}
	}
	return out
}

func newPowers(before, after map[string]bool) []string {
	var out []string
	for p := range after {
		if !before[p] {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// promptForm is the hidden fields of the password prompt, to send again.
func promptForm(doc *goquery.Document) (string, url.Values) {
	form := doc.Find("[data-testid=reauth-form]")
	fields := url.Values{}
	form.Find("input[type=hidden]").Each(func(_ int, in *goquery.Selection) {
		if name := in.AttrOr("name", ""); name != "_csrf" {
			fields.Add(name, in.AttrOr("value", ""))
		}
	})
	return form.AttrOr("action", ""), fields
}

// TestReauthenticationSweep sends every unsafe console route of the router
// a form asking for its most powerful change, as the first administrator
// (organization admin and support staff) who signed in 16 minutes ago.
// Each route either answers with the password prompt, having changed
// nothing in the database, and makes its change once the password is
// confirmed; or makes none of the sensitive changes at all. Between them,
// the prompted routes ask about every kind of sensitive change.
func TestReauthenticationSweep(t *testing.T) {
	if testing.Short() {
		t.Skip("one server per route")
	}
	asked := map[string][]string{} // prompt message → routes
	for _, key := range routeKeys(t, newApp(t), false) {
		method, route, _ := strings.Cut(key, " ")
		if method == http.MethodGet {
			continue
		}
		w := newReauthWorld(t)
		w.prepare(route)
		c := w.app.signedIn(adminEmail)
		w.app.clock.Advance(domain.ReauthAfter + time.Minute)
		before, powers := w.app.dbDump(), w.app.powers()
		r := c.post(w.path(route), w.form())
		if r.doc.Find("[data-testid=reauth-form]").Length() == 0 {
			if gained := newPowers(powers, w.app.powers()); len(gained) > 0 {
				t.Errorf("%s made a sensitive change without asking for the password (status %d): %v", key, r.status, gained)
			}
			continue
		}
		msg := strings.TrimSpace(r.doc.Find("[data-testid=reauth-message]").Text())
		asked[msg] = append(asked[msg], key)
		if r.status != http.StatusUnauthorized {
			t.Errorf("%s: prompt with status %d, want 401", key, r.status)
		}
		if after := w.app.dbDump(); after != before {
			t.Errorf("%s asked for the password but changed the database:\nbefore:\n%s\nafter:\n%s", key, before, after)
		}
		action, fields := promptForm(r.doc)
		if action != w.path(route) {
			t.Errorf("%s: the prompt posts to %q", key, action)
		}
		fields.Set("reauth_password", adminPassword)
		r = c.post(action, fields)
		if r.status >= 400 || r.doc.Find("[data-testid=reauth-form]").Length() != 0 {
			t.Errorf("%s after confirming the password: status %d %s", key, r.status, r.doc.Find("[data-testid=error-message], .field-error").Text())
		}
		if gained := newPowers(powers, w.app.powers()); len(gained) == 0 {
			t.Errorf("%s after confirming the password: no sensitive change made", key)
		}
	}
	for _, change := range []domain.Sensitive{domain.GrantProjectAdmin, domain.GrantOrgAdmin, domain.CreateKeyChange, domain.RotateKeyChange, domain.BasicAuthOn,
		domain.SetUpAuthenticator, domain.TurnOffAuthenticator, domain.MakeRecoveryCodes, domain.RemovePasskeyChange,
		domain.ChangeSignInPolicy, domain.DisconnectSingleSignOn} {
		found := false
		for msg := range asked {
			found = found || strings.HasPrefix(msg, "To "+string(change)+",")
		}
		if !found {
			t.Errorf("no route asked for the password to %s", change)
		}
	}
	var lines []string
	for msg, keys := range asked {
		lines = append(lines, fmt.Sprintf("%s: %s", msg, strings.Join(keys, ", ")))
	}
	sort.Strings(lines)
	t.Logf("routes that ask for the password:\n%s", strings.Join(lines, "\n"))
}

// TestReauthPromptSaysWhatWasLast: the prompt says "You signed in …" when
// the sign-in is the last proof of the password, and "You confirmed your
// password …" once a confirmation came after it (issue 16).
func TestReauthPromptSaysWhatWasLast(t *testing.T) {
	w := newReauthWorld(t)
	c := w.app.signedIn(adminEmail)
	basic := w.path("/projects/:project/serviceaccounts/:sa/basicauth")
	prompt := func(when string) string {
		t.Helper()
		r := c.post(basic, url.Values{"enable": {"true"}})
		msg := strings.TrimSpace(r.doc.Find("[data-testid=reauth-message]").Text())
		if r.status != http.StatusUnauthorized || msg == "" {
			t.Fatalf("%s: status %d, no prompt", when, r.status)
		}
		if w.app.storedServiceAccount(w.sa.ID).EnableBasicAuth {
			t.Fatalf("%s: Basic Auth went on without the password", when)
		}
		return msg
	}
	w.app.clock.Advance(domain.ReauthAfter + time.Minute)
	if got, want := prompt("after sign-in"), "To switch Basic Auth on, confirm your password. You signed in more than 15 minutes ago."; got != want {
		t.Fatalf("prompt after sign-in = %q, want %q", got, want)
	}
	r := c.post(basic, url.Values{"enable": {"true"}, "reauth_password": {adminPassword}})
	if r.status != http.StatusSeeOther || !w.app.storedServiceAccount(w.sa.ID).EnableBasicAuth {
		t.Fatalf("confirming the password: status %d", r.status)
	}
	c.post(basic, url.Values{"enable": {"false"}})
	w.app.clock.Advance(domain.ReauthAfter + time.Minute)
	if got, want := prompt("after a confirmation"), "To switch Basic Auth on, confirm your password. You confirmed your password more than 15 minutes ago."; got != want {
		t.Fatalf("prompt after a confirmation = %q, want %q", got, want)
	}
}
