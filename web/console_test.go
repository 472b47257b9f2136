package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"studio/domain"

	"github.com/PuerkitoBio/goquery"
)

// auditActions returns the actions of an organization's audit log, newest first.
func (a *testApp) auditActions(orgID string) []string {
	a.t.Helper()
	entries, err := a.store.ListAudit(context.Background(), domain.AuditFilter{OrganizationID: orgID}, 0, 1000)
	if err != nil {
		a.t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Action)
	}
	return out
}

func cookieNamed(h http.Header, name string) *http.Cookie {
	for _, c := range (&http.Response{Header: h}).Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func TestSignInSetsSafeSessionCookieAndRenewsIt(t *testing.T) {
	app := newApp(t)
	c := app.client()
	c.get("/signin")
	r := c.post("/signin", url.Values{"email": {"  ADMIN@example.com "}, "password": {adminPassword}, "next": {"/orgs/" + app.org.ID}})
	// The administrator has an authenticator app: next survives its step.
	r = c.secondFactor(adminEmail, r)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/orgs/"+app.org.ID {
		t.Fatalf("sign in: status %d location %q", r.status, r.header.Get("Location"))
	}
	ck := cookieNamed(r.header, "studio_session")
	if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Secure {
		t.Fatalf("session cookie = %+v, want HttpOnly, SameSite=Lax, not Secure without TLS", ck)
	}
	// Signing in again gives a new session id; the first one stops working.
	r2 := c.secondFactor(adminEmail, c.post("/signin", url.Values{"email": {adminEmail}, "password": {adminPassword}}))
	ck2 := cookieNamed(r2.header, "studio_session")
	if ck2 == nil || ck2.Value == ck.Value {
		t.Fatal("sign-in did not renew the session cookie")
	}
	stale := app.client()
	u, _ := url.Parse(app.srv.URL)
	stale.http.Jar.SetCookies(u, []*http.Cookie{{Name: "studio_session", Value: ck.Value}})
	if r := stale.get("/"); r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/signin") {
		t.Fatalf("old session still works: status %d", r.status)
	}
}

func TestSignInRefusesOpenRedirect(t *testing.T) {
	app := newApp(t)
	for _, next := range []string{"https://evil.example/", "//evil.example/", "/\\evil.example"} {
		c := app.client()
		c.get("/signin")
		r := c.secondFactor(adminEmail, c.post("/signin", url.Values{"email": {adminEmail}, "password": {adminPassword}, "next": {next}}))
		if loc := r.header.Get("Location"); loc != "/" {
			t.Errorf("next=%q redirected to %q, want /", next, loc)
		}
	}
}

func TestSignInFailureIsGeneric(t *testing.T) {
	app := newApp(t)
	var messages []string
	for _, creds := range [][2]string{{adminEmail, "wrong password!"}, {"nobody@example.com", adminPassword}, {"", ""}} {
		c := app.client()
		c.get("/signin")
		r := c.post("/signin", url.Values{"email": {creds[0]}, "password": {creds[1]}})
		if r.status != http.StatusUnauthorized {
			t.Fatalf("%v: status %d, want 401", creds, r.status)
		}
		if cookieNamed(r.header, "studio_session") != nil {
			t.Fatalf("%v: a failed sign-in set a session cookie", creds)
		}
		messages = append(messages, r.doc.Find("[data-testid=signin-error]").Text())
		if got, _ := r.doc.Find("#email").Attr("value"); got != strings.TrimSpace(creds[0]) {
			t.Errorf("typed email not kept: %q", got)
		}
	}
	if messages[0] == "" || messages[0] != messages[1] || messages[1] != messages[2] {
		t.Fatalf("failure messages differ or are empty: %q", messages)
	}
	if strings.Contains(app.logs.String(), "wrong password!") {
		t.Fatal("a password reached the logs")
	}
}

func TestSignInThrottlesRepeatedFailures(t *testing.T) {
	app := newApp(t)
	c := app.client()
	c.get("/signin")
	for i := 0; i < domain.PasswordFreeFailures; i++ {
		if r := c.post("/signin", url.Values{"email": {adminEmail}, "password": {"wrong"}}); r.status != http.StatusUnauthorized {
			t.Fatalf("attempt %d: status %d", i+1, r.status)
		}
	}
	r := c.post("/signin", url.Values{"email": {adminEmail}, "password": {adminPassword}})
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
		t.Fatalf("after %d failures the right password gave status %d (Retry-After %q), want 429",
			domain.PasswordFreeFailures, r.status, r.header.Get("Retry-After"))
	}
	if msg := r.doc.Find("[data-testid=signin-error]").Text(); !strings.Contains(msg, "Try again in") {
		t.Fatalf("throttle message = %q", msg)
	}
	// Once the window has passed, the right password works again.
	app.clock.Advance(domain.SignInWindow + 1)
	c.signIn(adminEmail, adminPassword)
}

func TestSignInThrottlesPerAddress(t *testing.T) {
	app := newApp(t)
	c := app.client()
	c.get("/signin")
	for i := 0; i < domain.SignInAddressLimit; i++ {
		email := fmt.Sprintf("guess%d@example.com", i)
		c.post("/signin", url.Values{"email": {email}, "password": {"wrong"}, "_csrf": {c.csrf}})
	}
	// X-Forwarded-For is not trusted: a rotating header does not escape the limit.
	form := url.Values{"email": {adminEmail}, "password": {adminPassword}, "_csrf": {c.csrf}}
	req, _ := http.NewRequest(http.MethodPost, app.srv.URL+"/signin", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", "203.0.113.9")
	if r := c.do(req); r.status != http.StatusTooManyRequests {
		t.Fatalf("status %d, want 429 once the address made %d failures", r.status, domain.SignInAddressLimit)
	}
}

func TestCSRFRefusesUnsafeRequestsWithoutToken(t *testing.T) {
	app := newApp(t)
	c := app.signedIn(adminEmail)
	before := len(app.auditActions(app.org.ID))
	for name, form := range map[string]url.Values{
		"missing": {"displayName": {"Sneaky"}, "_csrf": {""}},
		"wrong":   {"displayName": {"Sneaky"}, "_csrf": {strings.Repeat("a", 64)}},
	} {
		r := c.post("/orgs/"+app.org.ID+"/projects", form)
		if r.status != http.StatusForbidden {
			t.Errorf("%s token: status %d, want 403", name, r.status)
		}
		if !strings.Contains(r.doc.Find("[data-testid=error-message]").Text(), "expired") {
			t.Errorf("%s token: no clear message", name)
		}
	}
	// A cross-site browser request is refused even with the right token.
	form := url.Values{"displayName": {"Sneaky"}, "_csrf": {c.csrf}}
	req, _ := http.NewRequest(http.MethodPost, app.srv.URL+"/orgs/"+app.org.ID+"/projects", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if r := c.do(req); r.status != http.StatusForbidden {
		t.Errorf("cross-site: status %d, want 403", r.status)
	}
	// The sign-in form is protected too.
	anon := app.client()
	if r := anon.post("/signin", url.Values{"email": {adminEmail}, "password": {adminPassword}, "_csrf": {"x"}}); r.status != http.StatusForbidden {
		t.Errorf("sign-in without token: status %d", r.status)
	}
	list, err := app.store.ListProjects(context.Background(), domain.ProjectFilter{Query: "Sneaky"}, domain.Cursor{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 0 || len(app.auditActions(app.org.ID)) != before {
		t.Fatal("a refused request changed something")
	}
	// The htmx header carries the token as well as the form field does.
	req, _ = http.NewRequest(http.MethodPost, app.srv.URL+"/orgs/"+app.org.ID+"/projects", strings.NewReader("displayName=ViaHeader"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-CSRF-Token", c.csrf)
	if r := c.do(req); r.status != http.StatusSeeOther {
		t.Fatalf("header token: status %d, want 303", r.status)
	}
}

func TestCreateProjectListsItAndAudits(t *testing.T) {
	app := newApp(t)
	c := app.signedIn(adminEmail)
	r := c.post("/orgs/"+app.org.ID+"/projects", url.Values{"displayName": {"  Greenhouse  "}})
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/projects/") {
		t.Fatalf("create: status %d location %q", r.status, r.header.Get("Location"))
	}
	id := strings.TrimPrefix(r.header.Get("Location"), "/projects/")
	page := c.get("/projects/" + id)
	if got := page.doc.Find("[data-testid=project-name]").Text(); got != "Greenhouse" {
		t.Fatalf("project page name = %q", got)
	}
	if flash := page.doc.Find("[data-testid=flash]").Text(); !strings.Contains(flash, "created") {
		t.Fatalf("flash = %q", flash)
	}
	org := c.get("/orgs/" + app.org.ID)
	names := org.doc.Find("[data-testid=project-link]").Map(func(_ int, s *goquery.Selection) string { return s.Text() })
	if strings.Join(names, ",") != "Greenhouse,Inventory" {
		t.Fatalf("projects listed = %v", names)
	}
	if org.doc.Find("[data-testid=project-row]").Eq(1).Find("[data-testid=inventory-badge]").Length() != 1 {
		t.Fatal("inventory project has no badge")
	}
	if got := app.auditActions(app.org.ID)[0]; got != domain.ActionProjectCreate {
		t.Fatalf("last audit action = %q", got)
	}
}

func TestCreateProjectValidationKeepsInput(t *testing.T) {
	app := newApp(t)
	c := app.signedIn(adminEmail)
	before := len(app.auditActions(app.org.ID))
	long := strings.Repeat("é", 101)
	for _, tc := range []struct{ name, want string }{{"   ", "Enter a name"}, {long, "at most 100"}, {"a\tb", "control characters"}} {
		r := c.post("/orgs/"+app.org.ID+"/projects", url.Values{"displayName": {tc.name}})
		if r.status != http.StatusUnprocessableEntity {
			t.Fatalf("%q: status %d, want 422", tc.name, r.status)
		}
		if msg := r.doc.Find("[data-testid=error-displayName]").Text(); !strings.Contains(msg, tc.want) {
			t.Errorf("%q: message %q, want it to contain %q", tc.name, msg, tc.want)
		}
		if v, _ := r.doc.Find("[data-testid=new-project-name]").Attr("value"); v != tc.name {
			t.Errorf("typed name not kept: %q", v)
		}
	}
	if len(app.auditActions(app.org.ID)) != before {
		t.Fatal("invalid input changed something")
	}
}

func TestOrganizationPageSearchAndPagination(t *testing.T) {
	app := newApp(t)
	for i := 0; i < 60; i++ {
		app.addProject(app.org.ID, fmt.Sprintf("Site %02d", i))
	}
	c := app.signedIn(adminEmail)
	seen := map[string]bool{}
	path := "/orgs/" + app.org.ID
	for pages := 0; path != ""; pages++ {
		if pages > 3 {
			t.Fatal("pagination does not end")
		}
		r := c.get(path)
		r.doc.Find("[data-testid=project-link]").Each(func(_ int, s *goquery.Selection) {
			if seen[s.Text()] {
				t.Errorf("%s listed twice", s.Text())
			}
			seen[s.Text()] = true
		})
		path, _ = r.doc.Find("[data-testid=next-page]").Attr("href")
	}
	if len(seen) != 61 {
		t.Fatalf("saw %d projects over all pages, want 61", len(seen))
	}
	r := c.get("/orgs/" + app.org.ID + "?q=site+0")
	if n := r.doc.Find("[data-testid=project-link]").Length(); n != 10 {
		t.Fatalf("search 'site 0' found %d, want 10", n)
	}
	r = c.get("/orgs/" + app.org.ID + "?q=nothing-like-this")
	if !strings.Contains(r.doc.Find("[data-testid=no-projects]").Text(), "No project matches") {
		t.Fatal("empty search result has no message")
	}
	if r := c.get("/orgs/" + app.org.ID + "?page=garbage"); r.status != http.StatusBadRequest {
		t.Fatalf("bad page token: status %d, want 400", r.status)
	}
}

func TestRenameAndDeleteProject(t *testing.T) {
	app := newApp(t)
	p := app.addProject(app.org.ID, "Old name")
	c := app.signedIn(adminEmail)
	r := c.post("/projects/"+p.ID+"/settings", url.Values{"displayName": {"New name"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("rename: status %d", r.status)
	}
	got, _ := app.store.ProjectByID(context.Background(), p.ID)
	if got.DisplayName != "New name" {
		t.Fatalf("name in database = %q", got.DisplayName)
	}
	settings := c.get("/projects/" + p.ID + "/settings")
	if v, _ := settings.doc.Find("[data-testid=rename-input]").Attr("value"); v != "New name" {
		t.Fatalf("settings shows %q", v)
	}
	if r := c.post("/projects/"+p.ID+"/settings", url.Values{"displayName": {""}}); r.status != http.StatusUnprocessableEntity ||
		r.doc.Find("[data-testid=error-displayName]").Length() != 1 {
		t.Fatalf("empty rename: status %d", r.status)
	}
	// Delete needs the typed name.
	if r := c.get("/projects/" + p.ID + "/delete"); r.doc.Find("[data-testid=delete-form]").Length() != 1 {
		t.Fatal("no confirmation form")
	}
	r = c.post("/projects/"+p.ID+"/delete", url.Values{"confirm": {"new name"}})
	if r.status != http.StatusUnprocessableEntity || r.doc.Find("[data-testid=error-confirm]").Length() != 1 {
		t.Fatalf("wrong confirmation: status %d", r.status)
	}
	if _, err := app.store.ProjectByID(context.Background(), p.ID); err != nil {
		t.Fatal("project deleted without confirmation")
	}
	r = c.post("/projects/"+p.ID+"/delete", url.Values{"confirm": {"New name"}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/orgs/"+app.org.ID {
		t.Fatalf("delete: status %d location %q", r.status, r.header.Get("Location"))
	}
	if _, err := app.store.ProjectByID(context.Background(), p.ID); domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Fatalf("project still there: %v", err)
	}
	actions := app.auditActions(app.org.ID)
	if actions[0] != domain.ActionProjectDelete || actions[1] != domain.ActionProjectUpdate {
		t.Fatalf("audit actions = %v", actions[:2])
	}
	if r := c.get("/projects/" + p.ID); r.status != http.StatusNotFound {
		t.Fatalf("deleted project page: status %d", r.status)
	}
}

func TestInventoryProjectCannotBeDeleted(t *testing.T) {
	app := newApp(t)
	c := app.signedIn(adminEmail)
	list, _ := app.store.ListProjects(context.Background(), domain.ProjectFilter{OrganizationID: app.org.ID}, domain.Cursor{}, 10)
	inv := list[0]
	if !inv.Inventory {
		t.Fatal("first project is not the inventory")
	}
	if r := c.get("/projects/" + inv.ID + "/settings"); r.doc.Find("[data-testid=delete-link]").Length() != 0 ||
		r.doc.Find("[data-testid=inventory-note]").Length() != 1 {
		t.Fatal("inventory settings offer deletion")
	}
	r := c.post("/projects/"+inv.ID+"/delete", url.Values{"confirm": {inv.DisplayName}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("status %d", r.status)
	}
	follow := c.get(r.header.Get("Location"))
	if !strings.Contains(follow.doc.Find("[data-testid=flash]").Text(), "cannot be deleted") {
		t.Fatalf("no message: %q", follow.doc.Find("[data-testid=flash]").Text())
	}
	if _, err := app.store.ProjectByID(context.Background(), inv.ID); err != nil {
		t.Fatal("inventory project deleted")
	}
}

// TestOutsiderGets404Everywhere: pages of an organization a user has no
// part in answer 404, never 403 or data, and change nothing.
func TestOutsiderGets404Everywhere(t *testing.T) {
	app := newApp(t)
	p := app.addProject(app.org.ID, "Secret project")
	app.addOrg("Other Org", "other@example.com")
	outsider := app.signedIn("other@example.com")
	before := len(app.auditActions(app.org.ID))
	gets := []string{"/orgs/" + app.org.ID, "/orgs/" + app.org.ID + "/audit", "/projects/" + p.ID,
		"/projects/" + p.ID + "/settings", "/projects/" + p.ID + "/delete", "/orgs/nope", "/projects/zzzzzzzzzzzzzzzzzzzz"}
	for _, path := range gets {
		r := outsider.get(path)
		if r.status != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", path, r.status)
		}
		if strings.Contains(r.body, "Secret project") {
			t.Errorf("GET %s leaks the project name", path)
		}
	}
	posts := map[string]url.Values{
		"/orgs/" + app.org.ID + "/projects": {"displayName": {"Intruder"}},
		"/projects/" + p.ID + "/settings":   {"displayName": {"Hijacked"}},
		"/projects/" + p.ID + "/delete":     {"confirm": {"Secret project"}},
	}
	for path, form := range posts {
		if r := outsider.post(path, form); r.status != http.StatusNotFound {
			t.Errorf("POST %s: status %d, want 404", path, r.status)
		}
	}
	got, err := app.store.ProjectByID(context.Background(), p.ID)
	if err != nil || got.DisplayName != "Secret project" || len(app.auditActions(app.org.ID)) != before {
		t.Fatal("an outsider changed something")
	}
	if r := outsider.get("/"); strings.Contains(r.body, "Acme") {
		t.Fatal("the organization list shows an organization the user is not in")
	}
}

// TestProjectRolesInTheConsole: each role sees what it may and is refused the rest.
func TestProjectRolesInTheConsole(t *testing.T) {
	app := newApp(t)
	p := app.addProject(app.org.ID, "Field sensors")
	other := app.addProject(app.org.ID, "Other project")
	cases := []struct {
		role                      domain.Role
		canRename, canDelete, adm bool
	}{
		{domain.RoleProjectUser, false, false, false},
		{domain.RoleProjectDev, false, false, false},
		{domain.RoleProjectAdmin, true, true, false},
	}
	for _, tc := range cases {
		t.Run(string(tc.role), func(t *testing.T) {
			email := strings.ReplaceAll(string(tc.role), "/", ".") + "@example.com"
			app.addUser(email, p.ID, tc.role, "")
			c := app.signedIn(email)
			dash := c.get("/projects/" + p.ID)
			if dash.status != http.StatusOK || dash.doc.Find("[data-testid=your-role]").Text() != domain.RoleDisplayName(tc.role) {
				t.Fatalf("dashboard: status %d role %q", dash.status, dash.doc.Find("[data-testid=your-role]").Text())
			}
			settings := c.get("/projects/" + p.ID + "/settings")
			if has := settings.doc.Find("[data-testid=rename-form]").Length() == 1; has != tc.canRename {
				t.Errorf("rename form shown = %v, want %v", has, tc.canRename)
			}
			if has := settings.doc.Find("[data-testid=delete-link]").Length() == 1; has != tc.canDelete {
				t.Errorf("delete link shown = %v, want %v", has, tc.canDelete)
			}
			if !tc.canRename {
				if r := c.post("/projects/"+p.ID+"/settings", url.Values{"displayName": {"Forged"}}); r.status != http.StatusForbidden {
					t.Errorf("forged rename: status %d, want 403", r.status)
				}
				if r := c.post("/projects/"+p.ID+"/delete", url.Values{"confirm": {"Field sensors"}}); r.status != http.StatusForbidden {
					t.Errorf("forged delete: status %d, want 403", r.status)
				}
			}
			// Creating projects and reading the audit log are for organization admins.
			if r := c.post("/orgs/"+app.org.ID+"/projects", url.Values{"displayName": {"Mine"}}); r.status != http.StatusForbidden {
				t.Errorf("create project: status %d, want 403", r.status)
			}
			if r := c.get("/orgs/" + app.org.ID + "/audit"); r.status != http.StatusForbidden {
				t.Errorf("audit: status %d, want 403", r.status)
			}
			org := c.get("/orgs/" + app.org.ID)
			if org.doc.Find("[data-testid=create-project-form]").Length() != 0 {
				t.Error("create form shown to a non-admin")
			}
			if names := org.doc.Find("[data-testid=project-link]").Text(); names != "Field sensors" {
				t.Errorf("org page lists %q, want only the member's project", names)
			}
			if r := c.get("/projects/" + other.ID); r.status != http.StatusNotFound {
				t.Errorf("project without membership: status %d, want 404", r.status)
			}
		})
	}
	got, _ := app.store.ProjectByID(context.Background(), p.ID)
	if got.DisplayName != "Field sensors" {
		t.Fatalf("project renamed to %q", got.DisplayName)
	}
}

func TestOrganizationAdminOfAnotherOrgSeesOnlyItsOwn(t *testing.T) {
	app := newApp(t)
	other, _ := app.addOrg("Globex", "globex-admin@example.com")
	c := app.signedIn("globex-admin@example.com")
	if r := c.get("/orgs/" + other.ID + "/audit"); r.status != http.StatusOK {
		t.Fatalf("own audit: status %d", r.status)
	}
	if r := c.get("/orgs/" + app.org.ID + "/audit"); r.status != http.StatusNotFound {
		t.Fatalf("other org's audit: status %d, want 404", r.status)
	}
}

func TestAuditPageShowsChanges(t *testing.T) {
	app := newApp(t)
	c := app.signedIn(adminEmail)
	c.post("/orgs/"+app.org.ID+"/projects", url.Values{"displayName": {"Audited"}})
	r := c.get("/orgs/" + app.org.ID + "/audit")
	if r.status != http.StatusOK {
		t.Fatalf("status %d", r.status)
	}
	first := r.doc.Find("[data-testid=audit-row]").First()
	if first.Find("[data-testid=audit-action]").Text() != domain.ActionProjectCreate ||
		!strings.Contains(first.Text(), adminEmail) || !strings.Contains(first.Text(), "Audited") ||
		!strings.Contains(first.Text(), "127.0.0.1") {
		t.Fatalf("newest audit row = %q", first.Text())
	}
}

func TestSignOutInvalidatesCopiedCookie(t *testing.T) {
	app := newApp(t)
	c := app.signedIn(adminEmail)
	u, _ := url.Parse(app.srv.URL)
	copied := app.client()
	copied.http.Jar.SetCookies(u, c.http.Jar.Cookies(u))
	if r := copied.get("/"); r.status != http.StatusOK {
		t.Fatalf("copied cookie before sign-out: status %d", r.status)
	}
	if r := c.post("/signout", nil); r.status != http.StatusSeeOther || r.header.Get("Location") != "/signin" {
		t.Fatalf("sign out: status %d", r.status)
	}
	if r := copied.get("/"); r.status != http.StatusSeeOther {
		t.Fatalf("copied cookie after sign-out: status %d, want a redirect to sign in", r.status)
	}
}

func TestSessionIdleTimeout(t *testing.T) {
	app := newApp(t)
	c := app.signedIn(adminEmail)
	app.clock.Advance(13 * 60 * 60 * 1e9) // 13 hours, beyond the 12-hour idle timeout
	if r := c.get("/"); r.status != http.StatusSeeOther {
		t.Fatalf("idle session still works: status %d", r.status)
	}
}

func TestChangePassword(t *testing.T) {
	app := newApp(t)
	c := app.signedIn(adminEmail)
	other := app.signedIn(adminEmail)
	r := c.post("/account/password", url.Values{"current": {"nope"}, "new": {"a much better password"}, "confirm": {"a much better password"}})
	if r.status != http.StatusUnprocessableEntity || r.doc.Find("[data-testid=error-current]").Length() != 1 {
		t.Fatalf("wrong current password: status %d", r.status)
	}
	r = c.post("/account/password", url.Values{"current": {adminPassword}, "new": {"short"}, "confirm": {"short"}})
	if r.doc.Find("[data-testid=error-new]").Length() != 1 {
		t.Fatal("short password accepted")
	}
	r = c.post("/account/password", url.Values{"current": {adminPassword}, "new": {"a much better password"}, "confirm": {"a much better passwort"}})
	if r.doc.Find("[data-testid=error-confirm]").Length() != 1 {
		t.Fatal("mismatch accepted")
	}
	if strings.Contains(r.body, "a much better") {
		t.Fatal("a password was written back into the page")
	}
	r = c.post("/account/password", url.Values{"current": {adminPassword}, "new": {"a much better password"}, "confirm": {"a much better password"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("change: status %d", r.status)
	}
	if r := c.get("/"); r.status != http.StatusOK {
		t.Fatalf("the session that changed the password was signed out: %d", r.status)
	}
	if r := other.get("/"); r.status != http.StatusSeeOther {
		t.Fatalf("another session survived the password change: %d", r.status)
	}
	app.clock.Advance(domain.SignInWindow)
	fresh := app.client()
	fresh.signIn(adminEmail, "a much better password")
	if app.auditActions(app.org.ID) == nil {
		t.Fatal("no audit")
	}
}

func TestErrorPagesAndHeaders(t *testing.T) {
	app := newApp(t)
	c := app.signedIn(adminEmail)
	r := c.get("/no/such/page")
	if r.status != http.StatusNotFound || r.doc.Find("[data-testid=error-page] h1").Text() != "Not found" {
		t.Fatalf("404 page: status %d %q", r.status, r.doc.Find("h1").Text())
	}
	for _, h := range []string{"Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy", "X-Request-Id"} {
		if r.header.Get(h) == "" {
			t.Errorf("missing header %s", h)
		}
	}
	if !strings.Contains(r.header.Get("Content-Security-Policy"), "script-src 'self'") {
		t.Error("CSP allows more than our own scripts")
	}
	// htmx requests get a toast fragment instead of a page.
	req, _ := http.NewRequest(http.MethodGet, app.srv.URL+"/projects/zzzzzzzzzzzzzzzzzzzz", nil)
	req.Header.Set("HX-Request", "true")
	hr := c.do(req)
	if hr.status != http.StatusNotFound || hr.doc.Find("[data-testid=toast]").Length() != 1 || hr.header.Get("HX-Reswap") != "none" {
		t.Fatalf("htmx 404: status %d body %q", hr.status, hr.body)
	}
	// Logs carry the request id.
	if id := r.header.Get("X-Request-Id"); !strings.Contains(app.logs.String(), "request_id="+id) {
		t.Fatal("request id not in the logs")
	}
}

func TestHealthz(t *testing.T) {
	app := newApp(t)
	r := app.client().get("/healthz")
	if r.status != http.StatusOK || !strings.Contains(r.body, `"database":"ok"`) {
		t.Fatalf("healthz: %d %s", r.status, r.body)
	}
	app.store.Close()
	if r := app.client().get("/healthz"); r.status != http.StatusServiceUnavailable {
		t.Fatalf("healthz with a closed database: %d", r.status)
	}
}

func TestInviteTokensStayOutOfTheLogs(t *testing.T) {
	app := newApp(t)
	token := strings.Repeat("ab", 32)
	if r := app.client().get("/invite/" + token); r.status != http.StatusNotFound {
		t.Fatalf("unknown invite: status %d", r.status)
	}
	logs := app.logs.String()
	if strings.Contains(logs, token) || !strings.Contains(logs, "/invite/[redacted]") {
		t.Fatalf("logs = %q", logs)
	}
}
