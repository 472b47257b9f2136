package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"studio/domain"
)

// TestSupportCreatesOrganization: support staff create an organization in
// the console and make its first admin a person who is admin at once
// (verified email) or invited (the link shown once); anyone else is refused
// without learning the page exists; bad input changes nothing; every change
// is in the new organization's audit log as a support action (issue 16).
func TestSupportCreatesOrganization(t *testing.T) {
	app := newApp(t)
	ctx := context.Background()
	proj := app.addProject(app.org.ID, "Field")
	app.addUser("orgadmin@example.com", "", "", app.org.ID)
	app.addUser("verified@example.com", proj.ID, domain.RoleProjectUser, "")
	robot := browserSACreate(t, app.signedIn(adminEmail), proj.ID, "Robot")
	app.addStaff(supportEmail, "")
	app.giveTOTP(supportEmail) // staff need a second factor for the support console
	staff := app.signedIn(supportEmail)
	orgCount := func() int {
		t.Helper()
		es, err := app.store.ListAudit(ctx, domain.AuditFilter{Action: domain.ActionOrganizationCreate}, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		return len(es)
	}
	start := orgCount()

	// Not staff: the form and the action do not exist.
	other := app.signedIn("orgadmin@example.com")
	if r := other.get("/support/organizations/new"); r.status != http.StatusNotFound {
		t.Fatalf("an organization admin opens the form: status %d", r.status)
	}
	if r := other.post("/support/organizations", url.Values{"name": {"Sneaky"}, "adminEmail": {"orgadmin@example.com"}}); r.status != http.StatusNotFound {
		t.Fatalf("an organization admin creates an organization: status %d", r.status)
	}
	if staff.get("/support").doc.Find("[data-testid=new-org-link]").AttrOr("href", "") != "/support/organizations/new" {
		t.Fatal("the support console does not link to the form")
	}
	if r := staff.get("/support/organizations/new"); r.status != http.StatusOK || r.doc.Find("[data-testid=new-org-form]").Length() != 1 {
		t.Fatalf("form: status %d", r.status)
	}

	// Bad input: the message beside the field, what was typed kept, nothing made.
	for _, tc := range []struct{ name, email, field string }{
		{"  ", "verified@example.com", "name"},
		{"Globex", "not an email", "adminEmail"},
		{"Globex", app.storedServiceAccount(robot).Email, "adminEmail"},
	} {
		r := staff.post("/support/organizations", url.Values{"name": {tc.name}, "adminEmail": {tc.email}})
		if r.status != http.StatusUnprocessableEntity || r.doc.Find("[data-testid=error-"+tc.field+"]").Length() != 1 ||
			r.doc.Find("[data-testid=new-org-admin-email]").AttrOr("value", "") != tc.email {
			t.Errorf("%q %q: status %d, no message beside %s", tc.name, tc.email, r.status, tc.field)
		}
	}
	if orgCount() != start {
		t.Fatal("refused input made an organization")
	}

	// A verified user is admin at once.
	r := staff.post("/support/organizations", url.Values{"name": {"Globex"}, "adminEmail": {"verified@example.com"}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/support" {
		t.Fatalf("create Globex: status %d location %q", r.status, r.header.Get("Location"))
	}
	if flash := staff.get("/support").doc.Find("[data-testid=flash]").Text(); !strings.Contains(flash, "Globex is created; verified@example.com is its organization admin") {
		t.Fatalf("flash %q", flash)
	}
	home := app.signedIn("verified@example.com").get("/")
	if !strings.Contains(home.doc.Find("[data-testid=org-list]").Text(), "Globex") {
		t.Fatal("the new admin does not see Globex")
	}
	entries, err := app.store.ListAudit(ctx, domain.AuditFilter{Action: domain.ActionOrganizationCreate}, 0, 1)
	if err != nil || len(entries) != 1 {
		t.Fatal(err)
	}
	globexID := entries[0].OrganizationID
	log, err := app.store.ListAudit(ctx, domain.AuditFilter{OrganizationID: globexID}, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range log {
		got = append(got, e.Action)
		if !e.ActorStaff || e.ActorEmail != supportEmail {
			t.Errorf("%s entry is not a support action of %s: %+v", e.Action, supportEmail, e)
		}
	}
	if strings.Join(got, ",") != "membership.create,project.create,organization.create" {
		t.Fatalf("Globex's audit log = %v", got)
	}

	// A new email is invited: the link once, never cached; the membership pending.
	r = staff.post("/support/organizations", url.Values{"name": {"Initech"}, "adminEmail": {"boss@initech.example"}})
	link := strings.TrimSpace(r.doc.Find("[data-testid=invite-link]").Text())
	if r.status != http.StatusOK || !strings.HasPrefix(link, "http://studio.test/invite/") || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("create Initech: status %d link %q cache %q", r.status, link, r.header.Get("Cache-Control"))
	}
	boss, err := app.store.UserByEmail(ctx, "boss@initech.example")
	if err != nil || !boss.Pending() {
		t.Fatalf("pending user: %+v %v", boss, err)
	}
	invite := app.client().get(strings.TrimPrefix(link, "http://studio.test"))
	if !strings.Contains(invite.doc.Find("[data-testid=invite-for]").Text(), "the organization Initech as Organization admin") {
		t.Fatalf("invite page says %q", invite.doc.Find("[data-testid=invite-for]").Text())
	}
	if orgCount() != start+2 {
		t.Fatalf("%d organizations made, want 2", orgCount()-start)
	}
}
