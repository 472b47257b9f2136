package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"studio/domain"
)

// TestProjectDashboardCountsAndWarnings: a project's dashboard shows how
// many service accounts, keys and members it has, and its credential
// hygiene warnings, linked to the hygiene lists for an organization admin
// and to the project's own pages for anyone else (issue 16).
func TestProjectDashboardCountsAndWarnings(t *testing.T) {
	app := newApp(t)
	proj := app.addProject(app.org.ID, "Weather")
	admin := app.signedIn(adminEmail)
	app.addUser("viewer@example.com", proj.ID, domain.RoleProjectUser, "")
	quiet := app.addProject(app.org.ID, "Quiet")
	app.addUser("quiet@example.com", quiet.ID, domain.RoleProjectUser, "")

	text := func(r response, sel string) string {
		return strings.Join(strings.Fields(r.doc.Find(sel).Text()), " ")
	}
	// Empty: zeros, and no warning.
	r := admin.get("/projects/" + quiet.ID)
	if r.status != http.StatusOK || !strings.HasPrefix(text(r, "[data-testid=count-serviceaccounts]"), "0 ") ||
		r.doc.Find("[data-testid=no-warnings]").Length() != 1 {
		t.Fatalf("empty project: status %d counts %q", r.status, text(r, "[data-testid=project-counts]"))
	}

	uploader := browserSACreate(t, admin, proj.ID, "Uploader")
	browserSACreate(t, admin, proj.ID, "Keyless")
	browserSASetRole(t, admin, proj.ID, uploader, domain.RoleProjectAdmin)
	browserSACreateKey(t, admin, proj.ID, uploader, false)
	browserSACreateKey(t, admin, proj.ID, uploader, false)
	if r := admin.post(browserSAURL(proj.ID, uploader)+"/basicauth", url.Values{"enable": {"true"}}); r.status != http.StatusSeeOther {
		t.Fatalf("basic auth on: status %d", r.status)
	}
	// Make both keys unused for 100 days.
	app.clock.Advance(100 * 24 * time.Hour)
	admin = app.signedIn(adminEmail)

	r = admin.get("/projects/" + proj.ID)
	for sel, want := range map[string]string{
		"[data-testid=count-serviceaccounts]":  "2 Service Accounts",
		"[data-testid=count-keys]":             "2 Keys",
		"[data-testid=count-members]":          "2 Members", // the viewer and the Uploader's role
		"[data-testid=warning-unused-keys]":    "2 keys not used for 90 days or more",
		"[data-testid=warning-basic-auth]":     "1 service account with Basic Auth on",
		"[data-testid=warning-admin-accounts]": "1 service account with an admin role",
	} {
		if got := text(r, sel); !strings.HasPrefix(got, want) {
			t.Errorf("%s = %q, want it to start with %q", sel, got, want)
		}
	}
	hyg := "/orgs/" + app.org.ID + "/hygiene?"
	for sel, list := range map[string]domain.HygieneList{
		"[data-testid=warning-unused-keys] a": domain.ListUnusedKeys, "[data-testid=warning-basic-auth] a": domain.ListBasicAuth,
		"[data-testid=warning-admin-accounts] a": domain.ListAdminAccounts,
	} {
		want := hyg + url.Values{"list": {string(list)}, "project": {proj.ID}}.Encode()
		if href := r.doc.Find(sel).AttrOr("href", ""); href != want {
			t.Errorf("%s links to %q, want %q", sel, href, want)
		}
		if page := admin.get(r.doc.Find(sel).AttrOr("href", "")); page.status != http.StatusOK || page.doc.Find("[data-testid=hygiene-row]").Length() == 0 {
			t.Errorf("%s: the linked list (status %d) lists nothing", sel, page.status)
		}
	}
	// A project user sees the same numbers, linked to the project's pages.
	viewer := app.signedIn("viewer@example.com").get("/projects/" + proj.ID)
	if got := viewer.doc.Find("[data-testid=warning-unused-keys] a").AttrOr("href", ""); got != "/projects/"+proj.ID+"/serviceaccounts" {
		t.Errorf("the viewer's unused-keys link = %q", got)
	}
	if got := text(viewer, "[data-testid=count-keys]"); !strings.HasPrefix(got, "2 Keys") {
		t.Errorf("the viewer's key count = %q", got)
	}
	// Someone without access learns nothing.
	if r := app.signedIn("quiet@example.com").get("/projects/" + proj.ID); r.status != http.StatusNotFound {
		t.Fatalf("a stranger opens the dashboard: status %d", r.status)
	}
}
