package web_test

import (
	"net/http"
	"strings"
	"testing"

	"studio/domain"

	"github.com/PuerkitoBio/goquery"
)

// auditRows reads an audit page's rows as "action | target | details".
func auditRows(r response) []string {
	var out []string
	r.doc.Find("[data-testid=audit-row]").Each(func(_ int, row *goquery.Selection) {
		cells := row.Find("td")
		out = append(out, strings.Join([]string{
			strings.TrimSpace(row.Find("[data-testid=audit-action]").Text()),
			strings.Join(strings.Fields(cells.Eq(3).Text()), " "),
			strings.Join(strings.Fields(cells.Eq(5).Text()), " "),
		}, " | "))
	})
	return out
}

func rowsWith(rows []string, parts ...string) int {
	n := 0
	for _, r := range rows {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(r, p)
		}
		if all {
			n++
		}
	}
	return n
}

// TestSupportSearchesAndViewsAreAudited has support staff search for
// accounts and open them: the search is in the support audit; opening a
// person's account is in the audit log of each organization the person
// belongs to (and of no other), opening a service account in its own
// organization's, with the staff badge.
func TestSupportSearchesAndViewsAreAudited(t *testing.T) {
	app := newApp(t)
	inv := app.inventory()
	rival, _ := app.addOrg("Rival", "rival-admin@example.com")
	third, _ := app.addOrg("Third", "third-admin@example.com")
	target := app.addUser("target@example.com", inv.ID, domain.RoleProjectUser, "")
	app.addMembership(memUserRef(target), rival.ID, "", domain.RoleOrgAdmin)
	robot := app.addServiceAccount(inv, "Robot")
	staff := app.signedIn(adminEmail) // the first administrator is support staff

	if r := staff.get("/support?q=TARGET@"); r.status != http.StatusOK {
		t.Fatalf("search: status %d", r.status)
	}
	rows := auditRows(staff.get("/support/audit?action=" + domain.ActionSupportView))
	if rowsWith(rows, "support.view", "search target@", `searched for "target@": 1 account found`) != 1 {
		t.Fatalf("the support audit does not show the search: %q", rows)
	}

	if r := staff.get("/support/accounts/" + itoa(target.ID)); r.status != http.StatusOK {
		t.Fatalf("open the account: status %d", r.status)
	}
	if r := staff.get("/support/accounts/" + robot.ID); r.status != http.StatusOK {
		t.Fatalf("open the service account: status %d", r.status)
	}
	own := app.signedIn(adminEmail).get("/orgs/" + app.org.ID + "/audit")
	rows = auditRows(own)
	if rowsWith(rows, "support.view", "user target@example.com", "opened in the support console") != 1 ||
		rowsWith(rows, "support.view", "service account "+robot.Email) != 1 {
		t.Fatalf("the organization's audit log does not show the views: %q", rows)
	}
	if own.doc.Find("[data-testid=audit-row]:contains('support.view') [data-testid=staff-badge]").Length() != 2 {
		t.Error("the views do not carry the staff badge")
	}
	rows = auditRows(app.signedIn("rival-admin@example.com").get("/orgs/" + rival.ID + "/audit"))
	if rowsWith(rows, "support.view", "user target@example.com") != 1 || rowsWith(rows, "service account") != 0 {
		t.Fatalf("the rival organization's audit log: %q", rows)
	}
	rows = auditRows(app.signedIn("third-admin@example.com").get("/orgs/" + third.ID + "/audit"))
	if rowsWith(rows, "support.view") != 0 {
		t.Fatalf("an organization the account is not in sees the view: %q", rows)
	}
	// Someone who is not staff is refused, and nothing is recorded for them.
	before := app.memAuditCount()
	if r := app.signedIn("rival-admin@example.com").get("/support?q=target"); r.status != http.StatusNotFound {
		t.Fatalf("non-staff search: status %d", r.status)
	}
	if app.memAuditCount() != before {
		t.Fatal("a refused search was audited")
	}
}
