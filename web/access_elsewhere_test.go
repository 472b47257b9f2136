package web_test

import (
	"net/http"
	"strings"
	"testing"

	"studio/domain"

	"github.com/PuerkitoBio/goquery"
)

// TestAccessElsewhereShowsOnlyWhatTheViewerMayRead opens a service
// account's page as people of its project: the memberships it holds in
// projects and organizations the viewer has no access to are counted
// ("N elsewhere"), never named.
func TestAccessElsewhereShowsOnlyWhatTheViewerMayRead(t *testing.T) {
	app := newApp(t)
	plant := app.addProject(app.org.ID, "Plant")
	lab := app.addProject(app.org.ID, "Secret lab")
	rival, _ := app.addOrg("Rival Corp", "rival-admin@example.com")
	vault := app.addProject(rival.ID, "Rival vault")
	sa := app.addServiceAccount(plant, "Robot")
	app.addMembership(sa.Ref(), app.org.ID, plant.ID, domain.RoleProjectUser)
	app.addMembership(sa.Ref(), app.org.ID, lab.ID, domain.RoleProjectDev)
	app.addMembership(sa.Ref(), rival.ID, vault.ID, domain.RoleProjectAdmin)
	app.addMembership(sa.Ref(), rival.ID, "", domain.RoleOrgAdmin)
	viewer := app.addUser("viewer@example.com", plant.ID, domain.RoleProjectUser, "")

	rows := func(r response) []string {
		var out []string
		r.doc.Find("[data-testid=membership-row]").Each(func(_ int, row *goquery.Selection) {
			var cells []string
			row.Find("td").Each(func(_ int, td *goquery.Selection) { cells = append(cells, strings.TrimSpace(td.Text())) })
			out = append(out, strings.Join(cells, " "))
		})
		return out
	}
	hidden := func(r response) string {
		return strings.Join(strings.Fields(r.doc.Find("[data-testid=hidden-memberships]").Text()), " ")
	}

	// A project user of the owning project: nothing elsewhere is named.
	r := app.signedIn("viewer@example.com").get(saPath(sa))
	if r.status != http.StatusOK {
		t.Fatalf("account page: status %d", r.status)
	}
	if got := rows(r); len(got) != 0 {
		t.Errorf("a project user sees memberships elsewhere: %q", got)
	}
	for _, name := range []string{"Secret lab", "Rival vault", "Rival Corp"} {
		if strings.Contains(r.body, name) {
			t.Errorf("a project user reads %q on the account's page", name)
		}
	}
	if got := hidden(r); got != "3 elsewhere, in projects or organizations you have no access to." {
		t.Errorf("hidden memberships %q", got)
	}
	if r.doc.Find("[data-testid=no-memberships]").Length() != 0 {
		t.Error("the page says None although the account holds memberships elsewhere")
	}

	// Given a role in the rival's project, the viewer sees that one, not the rival's admins.
	app.addMembership(memUserRef(viewer), rival.ID, vault.ID, domain.RoleProjectUser)
	r = app.signedIn("viewer@example.com").get(saPath(sa))
	if got := rows(r); len(got) != 1 || got[0] != "Rival Corp Rival vault Project admin" {
		t.Errorf("rows for a project user of the vault too: %q", got)
	}
	if got := hidden(r); got != "And 2 elsewhere, in projects or organizations you have no access to." {
		t.Errorf("hidden memberships %q", got)
	}

	// The organization's admin reads every project of it, not the rival's.
	admin := app.signedIn(adminEmail)
	for _, path := range []string{saPath(sa), saPath(sa) + "/delete"} {
		r = admin.get(path)
		got := rows(r)
		if path == saPath(sa) && (len(got) != 1 || got[0] != "Acme Secret lab Project developer") {
			t.Errorf("%s: rows for the organization admin %q", path, got)
		}
		if path != saPath(sa) && (len(got) != 2 || !strings.Contains(strings.Join(got, "|"), "Secret lab")) {
			t.Errorf("%s: rows for the organization admin %q", path, got)
		}
		if strings.Contains(r.body, "Rival") {
			t.Errorf("%s: the organization admin reads the rival's names", path)
		}
		if got := hidden(r); got != "And 2 elsewhere, in projects or organizations you have no access to." {
			t.Errorf("%s: hidden memberships %q", path, got)
		}
	}
}
