package web_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"studio/domain"

	"github.com/PuerkitoBio/goquery"
)

// inventory returns the first organization's inventory project.
func (a *testApp) inventory() domain.Project {
	a.t.Helper()
	list, err := a.store.ListProjects(context.Background(), domain.ProjectFilter{OrganizationID: a.org.ID}, domain.Cursor{}, 100)
	if err != nil {
		a.t.Fatal(err)
	}
	for _, p := range list {
		if p.Inventory {
			return p
		}
	}
	a.t.Fatal("no inventory project")
	return domain.Project{}
}

// addServiceAccount makes an account in project p directly in the store.
func (a *testApp) addServiceAccount(p domain.Project, name string) domain.ServiceAccount {
	a.t.Helper()
	ctx := context.Background()
	now := a.clock.Now()
	sa := domain.ServiceAccount{ID: domain.NewID(now), ProjectID: p.ID, DisplayName: name, CreateTime: now, UpdateTime: now}
	sa.Email = domain.ServiceAccountEmail(sa.ID, p.ID, "d21s.com")
	if err := a.store.Update(ctx, func(tx domain.Tx) error { return tx.CreateServiceAccount(ctx, sa) }); err != nil {
		a.t.Fatal(err)
	}
	return sa
}

func saPath(sa domain.ServiceAccount) string {
	return "/projects/" + sa.ProjectID + "/serviceaccounts/" + sa.ID
}

// htmxPost posts a form as htmx does for an element with hx-post.
func (c *client) htmxPost(path string, form url.Values) response {
	c.app.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, c.app.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("HX-Request", "true")
	req.Header.Set("X-CSRF-Token", c.csrf)
	return c.do(req)
}

func TestServiceAccountCreateAndList(t *testing.T) {
	app := newApp(t)
	inv := app.inventory()
	c := app.signedIn(adminEmail)
	list := "/projects/" + inv.ID + "/serviceaccounts"
	if r := c.get(list); r.status != http.StatusOK || r.doc.Find("[data-testid=no-sas]").Length() != 1 {
		t.Fatalf("empty list: status %d", r.status)
	}
	r := c.post(list, url.Values{"displayName": {"   "}})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.doc.Find("[data-testid=error-displayName]").Text(), "Enter a name") {
		t.Fatalf("empty name: status %d", r.status)
	}
	r = c.post(list, url.Values{"displayName": {" Weather station "}})
	loc := r.header.Get("Location")
	if r.status != http.StatusSeeOther || !strings.HasPrefix(loc, list+"/") {
		t.Fatalf("create: status %d location %q", r.status, loc)
	}
	saID := strings.TrimPrefix(loc, list+"/")
	page := c.get(loc)
	if got := page.doc.Find("[data-testid=sa-name-input]").AttrOr("value", ""); got != "Weather station" {
		t.Fatalf("name = %q", got)
	}
	wantEmail := saID + "@" + inv.ID + ".serviceaccount.d21s.com"
	if got := page.doc.Find("[data-testid=sa-email]").Text(); got != wantEmail {
		t.Fatalf("email = %q, want %q", got, wantEmail)
	}
	if got := page.doc.Find("[data-testid=role-select] option[selected]").Text(); got != "No access" {
		t.Fatalf("default role = %q", got)
	}
	if !strings.Contains(page.doc.Find("[data-testid=basic-state]").Text(), "off") {
		t.Fatal("Basic Auth not off by default")
	}
	// The email is shown, never an input.
	if page.doc.Find("input[name=email]").Length() != 0 {
		t.Fatal("the email is editable")
	}
	listed := c.get(list)
	row := listed.doc.Find("[data-testid=sa-row]")
	if row.Length() != 1 || row.Find("[data-testid=sa-link]").Text() != "Weather station" ||
		!strings.Contains(row.Text(), wantEmail) || row.Find("[data-testid=sa-keys]").Text() != "0" {
		t.Fatalf("list row = %q", row.Text())
	}
	if got := app.auditActions(app.org.ID)[0]; got != domain.ActionServiceAccountCreate {
		t.Fatalf("audit = %q", got)
	}
}

func TestServiceAccountListSearchAndPages(t *testing.T) {
	app := newApp(t)
	inv := app.inventory()
	for i := 0; i < 60; i++ {
		app.addServiceAccount(inv, fmt.Sprintf("Gateway %02d", i))
	}
	target := app.addServiceAccount(inv, "Billing exporter")
	c := app.signedIn(adminEmail)
	seen := map[string]bool{}
	path := "/projects/" + inv.ID + "/serviceaccounts"
	for i := 0; path != ""; i++ {
		if i > 3 {
			t.Fatal("pagination does not end")
		}
		r := c.get(path)
		r.doc.Find("[data-testid=sa-link]").Each(func(_ int, s *goquery.Selection) {
			if seen[s.Text()] {
				t.Errorf("%s listed twice", s.Text())
			}
			seen[s.Text()] = true
		})
		path = r.doc.Find("[data-testid=next-page]").AttrOr("href", "")
	}
	if len(seen) != 61 {
		t.Fatalf("%d accounts over all pages, want 61", len(seen))
	}
	byName := c.get("/projects/" + inv.ID + "/serviceaccounts?q=BILLING")
	byEmail := c.get("/projects/" + inv.ID + "/serviceaccounts?q=" + target.ID[:12])
	for _, r := range []response{byName, byEmail} {
		if got := r.doc.Find("[data-testid=sa-link]").Text(); got != "Billing exporter" {
			t.Errorf("search found %q", got)
		}
	}
}

func TestServiceAccountRoleBasicAuthAndRename(t *testing.T) {
	app := newApp(t)
	inv := app.inventory()
	sa := app.addServiceAccount(inv, "Exporter")
	c := app.signedIn(adminEmail)
	c.get(saPath(sa))
	ref := domain.AccountRef{Type: domain.AccountServiceAccount, ID: sa.ID}
	role := func() domain.Role {
		m, err := app.store.ProjectMembership(context.Background(), inv.ID, ref)
		if domain.ErrorCode(err) == domain.ENOTFOUND {
			return domain.RoleNone
		}
		if err != nil {
			t.Fatal(err)
		}
		return m.Role
	}
	// Without JavaScript: post, redirect, flash.
	r := c.post(saPath(sa)+"/role", url.Values{"role": {string(domain.RoleProjectDev)}})
	if r.status != http.StatusSeeOther || role() != domain.RoleProjectDev {
		t.Fatalf("grant developer: status %d role %q", r.status, role())
	}
	if got := c.get(saPath(sa)).doc.Find("[data-testid=role-select] option[selected]").Text(); got != "Project developer" {
		t.Fatalf("page shows role %q", got)
	}
	// With htmx: the role section comes back with a toast.
	r = c.htmxPost(saPath(sa)+"/role", url.Values{"role": {string(domain.RoleProjectAdmin)}})
	if r.status != http.StatusOK || r.doc.Find("#sa-role [data-testid=role-select] option[selected]").Text() != "Project admin" ||
		!strings.Contains(r.doc.Find("[data-testid=toast]").Text(), "Project admin") || role() != domain.RoleProjectAdmin {
		t.Fatalf("htmx role change: status %d body %q", r.status, r.body)
	}
	if r.doc.Find("html").Length() == 1 && r.doc.Find("header.topbar").Length() != 0 {
		t.Fatal("htmx got a whole page instead of the fragment")
	}
	r = c.post(saPath(sa)+"/role", url.Values{"role": {string(domain.RoleOrgAdmin)}})
	if r.status != http.StatusBadRequest || role() != domain.RoleProjectAdmin {
		t.Fatalf("organization role in a project: status %d role %q", r.status, role())
	}
	r = c.post(saPath(sa)+"/role", url.Values{"role": {""}})
	if r.status != http.StatusSeeOther || role() != domain.RoleNone {
		t.Fatalf("remove role: status %d role %q", r.status, role())
	}

	r = c.htmxPost(saPath(sa)+"/basicauth", url.Values{"enable": {"true"}})
	got := app.storedServiceAccount(sa.ID)
	if r.status != http.StatusOK || !got.EnableBasicAuth || !strings.Contains(r.doc.Find("[data-testid=basic-state]").Text(), "on") {
		t.Fatalf("enable Basic Auth: status %d enabled %v", r.status, got.EnableBasicAuth)
	}
	if r := c.post(saPath(sa)+"/basicauth", url.Values{"enable": {"maybe"}}); r.status != http.StatusBadRequest {
		t.Fatalf("bad enable value: status %d", r.status)
	}
	c.post(saPath(sa)+"/basicauth", url.Values{"enable": {"false"}})
	if got := app.storedServiceAccount(sa.ID); got.EnableBasicAuth {
		t.Fatal("Basic Auth still on")
	}

	r = c.htmxPost(saPath(sa)+"/name", url.Values{"displayName": {"  "}})
	if r.status != http.StatusUnprocessableEntity || r.doc.Find("[data-testid=error-displayName]").Length() != 1 ||
		r.doc.Find("[data-testid=sa-name-input]").AttrOr("value", "x") != "  " {
		t.Fatalf("empty rename: status %d", r.status)
	}
	r = c.htmxPost(saPath(sa)+"/name", url.Values{"displayName": {"Exporter v2"}})
	if got := app.storedServiceAccount(sa.ID); r.status != http.StatusOK || got.DisplayName != "Exporter v2" {
		t.Fatalf("rename: status %d name %q", r.status, got.DisplayName)
	}
	actions := app.auditActions(app.org.ID)
	want := []string{domain.ActionServiceAccountUpdate, domain.ActionBasicAuthDisable, domain.ActionBasicAuthEnable,
		domain.ActionMembershipDelete, domain.ActionMembershipUpdate, domain.ActionMembershipCreate}
	if strings.Join(actions[:len(want)], ",") != strings.Join(want, ",") {
		t.Fatalf("audit = %v, want %v first", actions[:len(want)], want)
	}
}

var secretPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

func TestServiceAccountKeySecretShownOnce(t *testing.T) {
	app := newApp(t)
	inv := app.inventory()
	sa := app.addServiceAccount(inv, "Uploader")
	c := app.signedIn(adminEmail)
	c.get(saPath(sa))
	r := c.post(saPath(sa)+"/keys", nil)
	if r.status != http.StatusOK {
		t.Fatalf("create key: status %d", r.status)
	}
	secret := r.doc.Find("[data-testid=new-key-secret]").Text()
	keyID := r.doc.Find("[data-testid=new-key-id]").Text()
	if !secretPattern.MatchString(secret) || !domain.ValidID(keyID) {
		t.Fatalf("dialog shows key %q secret %q", keyID, secret)
	}
	if r.header.Get("Cache-Control") != "no-store" || r.doc.Find("[hx-history=false]").Length() != 1 {
		t.Fatal("the secret's response may be cached or kept in htmx history")
	}
	if !strings.Contains(r.doc.Find("[data-testid=secret-warning]").Text(), "cannot be shown again") {
		t.Fatal("no warning")
	}
	href := r.doc.Find("[data-testid=download-credentials]").AttrOr("href", "")
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(href, "data:application/json;base64,"))
	if err != nil {
		t.Fatalf("credentials link %q: %v", href, err)
	}
	var creds struct {
		ServiceAccount struct{ KeyID, Secret, Email, Algorithm, TokenEndpoint string }
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&creds); err != nil {
		t.Fatal(err)
	}
	want := struct{ KeyID, Secret, Email, Algorithm, TokenEndpoint string }{keyID, secret, sa.Email, "HS256", "http://studio.test/oauth2/token"}
	if creds.ServiceAccount != want {
		t.Fatalf("credentials file = %+v, want %+v", creds.ServiceAccount, want)
	}
	// Every later page shows the key but never the secret.
	again := c.get(saPath(sa))
	if strings.Contains(again.body, secret) || again.doc.Find("[data-testid=key-id]").Text() != keyID {
		t.Fatal("the secret is shown again, or the key is not listed")
	}
	if strings.Contains(app.logs.String(), secret) {
		t.Fatal("the secret reached the logs")
	}
	entries, err := app.store.ListAudit(context.Background(), domain.AuditFilter{}, 0, 100)
	if err != nil || len(entries) == 0 {
		t.Fatalf("audit log to search for the secret: %d entries, %v", len(entries), err)
	}
	for _, e := range entries {
		if strings.Contains(fmt.Sprintf("%+v", e), secret) {
			t.Fatal("the secret is in the audit log")
		}
	}
	k, err := app.store.KeyByID(context.Background(), keyID)
	if err != nil || strings.Contains(string(k.Sealed), secret) {
		t.Fatalf("key row: %v", err)
	}
}

func TestServiceAccountKeyLimitAndDelete(t *testing.T) {
	app := newApp(t)
	inv := app.inventory()
	sa := app.addServiceAccount(inv, "Many keys")
	c := app.signedIn(adminEmail)
	c.get(saPath(sa))
	for i := 0; i < domain.MaxKeysPerAccount; i++ {
		if r := c.htmxPost(saPath(sa)+"/keys", nil); r.status != http.StatusOK {
			t.Fatalf("key %d: status %d", i+1, r.status)
		}
	}
	r := c.htmxPost(saPath(sa)+"/keys", nil)
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.doc.Find("[data-testid=key-error]").Text(), "10 keys") ||
		r.doc.Find("[data-testid=new-key-secret]").Length() != 0 {
		t.Fatalf("11th key: status %d error %q", r.status, r.doc.Find("[data-testid=key-error]").Text())
	}
	if n, _ := app.store.CountKeys(context.Background(), sa.ID); n != domain.MaxKeysPerAccount {
		t.Fatalf("%d keys stored", n)
	}
	keys, _ := app.store.ListKeys(context.Background(), sa.ID, "", 20)
	k := keys[0]
	confirm := c.get(saPath(sa) + "/keys/" + k.ID + "/delete")
	if confirm.doc.Find("[data-testid=delete-key-form]").Length() != 1 {
		t.Fatal("no confirmation page")
	}
	if r := c.post(saPath(sa)+"/keys/"+k.ID+"/delete", url.Values{}); r.status != http.StatusBadRequest {
		t.Fatalf("delete without confirmation: status %d", r.status)
	}
	if r := c.post(saPath(sa)+"/keys/"+k.ID+"/delete", url.Values{"confirm": {"yes"}}); r.status != http.StatusSeeOther {
		t.Fatalf("delete: status %d", r.status)
	}
	if _, err := app.store.KeyByID(context.Background(), k.ID); domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Fatal("key still stored")
	}
	if got := app.auditActions(app.org.ID)[0]; got != domain.ActionKeyDelete {
		t.Fatalf("audit = %q", got)
	}
	// The key of another account is not found through this one.
	other := app.addServiceAccount(inv, "Other")
	if r := c.post(saPath(other)+"/keys/"+keys[1].ID+"/delete", url.Values{"confirm": {"yes"}}); r.status != http.StatusNotFound {
		t.Fatalf("foreign key: status %d", r.status)
	}
}

func TestServiceAccountDeleteRemovesKeysAndMemberships(t *testing.T) {
	app := newApp(t)
	inv := app.inventory()
	sa := app.addServiceAccount(inv, "Doomed")
	otherOrg, _ := app.addOrg("Partner", "partner@example.com")
	partnerProject := app.addProject(otherOrg.ID, "Partner project")
	c := app.signedIn(adminEmail)
	c.get(saPath(sa))
	c.post(saPath(sa)+"/role", url.Values{"role": {string(domain.RoleProjectUser)}})
	c.post(saPath(sa)+"/keys", nil)
	ctx := context.Background()
	ref := domain.AccountRef{Type: domain.AccountServiceAccount, ID: sa.ID}
	err := app.store.Update(ctx, func(tx domain.Tx) error {
		m := domain.Membership{OrganizationID: otherOrg.ID, ProjectID: partnerProject.ID, Account: ref, Role: domain.RoleProjectUser, Status: domain.StatusAccepted}
		if err := tx.CreateMembership(ctx, &m); err != nil {
			return err
		}
		o := domain.Membership{OrganizationID: otherOrg.ID, Account: ref, Role: domain.RoleOrgAdmin, Status: domain.StatusAccepted}
		return tx.CreateMembership(ctx, &o)
	})
	if err != nil {
		t.Fatal(err)
	}
	// The partner's organization and project are counted, not named: this
	// admin has no access there.
	page := c.get(saPath(sa))
	if n := page.doc.Find("[data-testid=membership-row]").Length(); n != 0 || !strings.Contains(page.doc.Find("[data-testid=hidden-memberships]").Text(), "2 elsewhere") {
		t.Fatalf("access elsewhere lists %d rows and says %q, want 2 elsewhere (partner org and its project)", n, page.doc.Find("[data-testid=hidden-memberships]").Text())
	}
	confirm := c.get(saPath(sa) + "/delete")
	if n := confirm.doc.Find("[data-testid=membership-row]").Length(); n != 1 || !strings.Contains(confirm.doc.Find("[data-testid=hidden-memberships]").Text(), "And 2 elsewhere") {
		t.Fatalf("confirmation lists %d memberships, want 1 and 2 elsewhere", n)
	}
	if r := c.post(saPath(sa)+"/delete", url.Values{"confirm": {"doomed"}}); r.status != http.StatusUnprocessableEntity {
		t.Fatalf("wrong name: status %d", r.status)
	}
	if _, err := app.store.ServiceAccountByID(ctx, sa.ID); err != nil {
		t.Fatal("deleted without the typed name")
	}
	r := c.post(saPath(sa)+"/delete", url.Values{"confirm": {"Doomed"}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/projects/"+inv.ID+"/serviceaccounts" {
		t.Fatalf("delete: status %d", r.status)
	}
	if _, err := app.store.ServiceAccountByID(ctx, sa.ID); domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Fatal("account still stored")
	}
	if n := app.keyCount(sa.ID); n != 0 {
		t.Fatalf("%d keys left", n)
	}
	if ms := app.memberships(ref); len(ms) != 0 {
		t.Fatalf("%d memberships left", len(ms))
	}
}

// TestServiceAccountPermissionsInTheConsole: readers see read-only pages,
// forged writes are refused and change nothing; outsiders get 404; a
// membership of the account elsewhere gives no rights over it.
func TestServiceAccountPermissionsInTheConsole(t *testing.T) {
	app := newApp(t)
	inv := app.inventory()
	sa := app.addServiceAccount(inv, "Protected")
	other := app.addProject(app.org.ID, "Elsewhere")
	ctx := context.Background()
	app.store.Update(ctx, func(tx domain.Tx) error {
		m := domain.Membership{OrganizationID: app.org.ID, ProjectID: other.ID, Account: domain.AccountRef{Type: domain.AccountServiceAccount, ID: sa.ID},
			Role: domain.RoleProjectUser, Status: domain.StatusAccepted}
		return tx.CreateMembership(ctx, &m)
	})
	app.addUser("reader@example.com", inv.ID, domain.RoleProjectUser, "")
	app.addUser("dev@example.com", inv.ID, domain.RoleProjectDev, "")
	app.addUser("elsewhere-admin@example.com", other.ID, domain.RoleProjectAdmin, "")
	app.addOrg("Outside", "outsider@example.com")
	writes := map[string]url.Values{
		saPath(sa) + "/name":                       {"displayName": {"Hijacked"}},
		saPath(sa) + "/basicauth":                  {"enable": {"true"}},
		saPath(sa) + "/role":                       {"role": {string(domain.RoleProjectAdmin)}},
		saPath(sa) + "/keys":                       {},
		saPath(sa) + "/delete":                     {"confirm": {"Protected"}},
		"/projects/" + inv.ID + "/serviceaccounts": {"displayName": {"Intruder"}},
	}
	for _, tc := range []struct {
		email      string
		readStatus int
		denied     int
	}{
		{"reader@example.com", http.StatusOK, http.StatusForbidden},
		{"dev@example.com", http.StatusOK, http.StatusForbidden},
		{"elsewhere-admin@example.com", http.StatusNotFound, http.StatusNotFound},
		{"outsider@example.com", http.StatusNotFound, http.StatusNotFound},
	} {
		t.Run(tc.email, func(t *testing.T) {
			c := app.signedIn(tc.email)
			for _, path := range []string{"/projects/" + inv.ID + "/serviceaccounts", saPath(sa)} {
				r := c.get(path)
				if r.status != tc.readStatus {
					t.Errorf("GET %s: status %d, want %d", path, r.status, tc.readStatus)
				}
				if r.status == http.StatusOK && r.doc.Find("form[method=post]").Not("[action='/signout']").Length() != 0 {
					t.Errorf("GET %s shows forms to a reader", path)
				}
			}
			for path, form := range writes {
				if r := c.post(path, form); r.status != tc.denied {
					t.Errorf("POST %s: status %d, want %d", path, r.status, tc.denied)
				}
			}
		})
	}
	got := app.storedServiceAccount(sa.ID)
	if got.DisplayName != "Protected" || got.EnableBasicAuth {
		t.Fatal("a refused request changed the account")
	}
	if n := app.keyCount(sa.ID); n != 0 {
		t.Fatal("a refused request made a key")
	}
	if _, err := app.store.ProjectMembership(ctx, inv.ID, domain.AccountRef{Type: domain.AccountServiceAccount, ID: sa.ID}); domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Fatal("a refused request granted a role")
	}
	// The account asked for through another project of the organization is not found, even for its admin.
	admin := app.signedIn(adminEmail)
	if r := admin.get("/projects/" + other.ID + "/serviceaccounts/" + sa.ID); r.status != http.StatusNotFound {
		t.Fatalf("account through a project that does not own it: status %d", r.status)
	}
	if r := admin.get("/projects/" + inv.ID + "/serviceaccounts/zzzzzzzzzzzzzzzzzzzz"); r.status != http.StatusNotFound {
		t.Fatalf("unknown account: status %d", r.status)
	}
}

func TestProjectWithServiceAccountsCannotBeDeleted(t *testing.T) {
	app := newApp(t)
	p := app.addProject(app.org.ID, "Busy")
	app.addServiceAccount(p, "Tenant")
	c := app.signedIn(adminEmail)
	r := c.post("/projects/"+p.ID+"/delete", url.Values{"confirm": {"Busy"}})
	follow := c.get(r.header.Get("Location"))
	if !strings.Contains(follow.doc.Find("[data-testid=flash]").Text(), "not empty") {
		t.Fatalf("flash = %q", follow.doc.Find("[data-testid=flash]").Text())
	}
	if _, err := app.store.ProjectByID(context.Background(), p.ID); err != nil {
		t.Fatal("project deleted")
	}
}

func TestAccountPageShowsLastUseAndExamples(t *testing.T) {
	app := newApp(t)
	inv := app.inventory()
	sa := app.addServiceAccount(inv, "Reporter")
	c := app.signedIn(adminEmail)
	c.get(saPath(sa))
	c.post(saPath(sa)+"/basicauth", url.Values{"enable": {"true"}})
	r := c.post(saPath(sa)+"/keys", nil)
	keyID, secret := r.doc.Find("[data-testid=new-key-id]").Text(), r.doc.Find("[data-testid=new-key-secret]").Text()
	page := c.get(saPath(sa))
	if got := page.doc.Find("[data-testid=key-last-used]").Text(); !strings.Contains(got, "never used") {
		t.Fatalf("unused key shows %q", got)
	}
	for _, id := range []string{"example-env", "example-token", "example-basic"} {
		text := page.doc.Find("[data-testid=" + id + "]").Text()
		if !strings.Contains(text, "http://studio.test") || strings.Contains(text, secret) {
			t.Errorf("%s = %q: want this server's URL and never the secret", id, text)
		}
	}
	if !strings.Contains(page.doc.Find("[data-testid=example-env]").Text(), "DT_SERVICE_ACCOUNT_EMAIL="+sa.Email) {
		t.Error("the SDK example lacks the account's email")
	}
	req, _ := http.NewRequest(http.MethodGet, app.srv.URL+"/v2/projects/"+inv.ID+"/serviceaccounts", nil)
	req.SetBasicAuth(keyID, secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusNotFound {
		t.Fatalf("a key without a role read the list: %d", resp.StatusCode)
	}
	page = c.get(saPath(sa))
	if got := page.doc.Find("[data-testid=key-last-used]").Text(); !strings.Contains(got, "Basic Auth from 127.0.0.1") {
		t.Fatalf("used key shows %q", got)
	}
}
