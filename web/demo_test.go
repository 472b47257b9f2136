package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"studio/domain"
)

func TestDemoDataCanBeClickedThrough(t *testing.T) {
	app := newApp(t)
	ctx := context.Background()
	accounts := domain.NewAccounts(app.store, domain.NewHasher(1), app.clock.Now)
	password, err := accounts.SeedDemo(ctx, adminEmail, "d21s.com")
	if err != nil || password == "" {
		t.Fatalf("seed: %q %v", password, err)
	}
	if again, err := accounts.SeedDemo(ctx, adminEmail, "d21s.com"); err != nil || again != "" {
		t.Fatalf("second seed made data again: %q %v", again, err)
	}
	admin := app.signedIn(adminEmail)
	orgs := admin.get("/").doc.Find("[data-testid=org-link]")
	if orgs.Length() != 2 || orgs.Last().Text() != domain.DemoOrganizationName {
		t.Fatalf("admin sees organizations %q", orgs.Text())
	}
	demo := admin.get(orgs.Last().AttrOr("href", ""))
	var warehouse string
	for _, n := range demo.doc.Find("[data-testid=project-link]").Nodes {
		if n.FirstChild != nil && n.FirstChild.Data == "Warehouse sensors" {
			for _, a := range n.Attr {
				if a.Key == "href" {
					warehouse = a.Val
				}
			}
		}
	}
	if warehouse == "" {
		t.Fatalf("no Warehouse sensors project in %q", demo.doc.Find("[data-testid=project-link]").Text())
	}
	// The demo projects carry labels: the list shows them and filters by them.
	if tags := demo.doc.Find("[data-testid=label-tag]").Length(); tags != 7 {
		t.Errorf("%d label tags in the demo project list, want 7", tags)
	}
	oslo := admin.get(orgs.Last().AttrOr("href", "") + "?label=site%3DOslo")
	if got := oslo.doc.Find("[data-testid=project-link]").Text(); got != "Office climateWarehouse sensors" {
		t.Errorf("demo projects at site=Oslo: %q", got)
	}
	sas := admin.get(warehouse + "/serviceaccounts")
	if n := sas.doc.Find("[data-testid=sa-row]").Length(); n != 2 {
		t.Fatalf("%d demo service accounts listed, want 2", n)
	}
	// An organization admin of Demo Fleet who is not support staff sees its
	// admin pages as a customer does.
	owner := app.client()
	owner.signIn("owner@demo.example", password)
	demoID := strings.TrimPrefix(orgs.Last().AttrOr("href", ""), "/orgs/")
	for _, path := range []string{"/orgs/" + demoID + "/admins", "/orgs/" + demoID + "/audit", "/orgs/" + demoID + "/hygiene", "/orgs/" + demoID + "/settings"} {
		if r := owner.get(path); r.status != http.StatusOK {
			t.Errorf("the demo organization admin opens %s: status %d", path, r.status)
		}
	}
	if r := owner.get("/support"); r.status != http.StatusNotFound {
		t.Errorf("the demo organization admin opens the support console: status %d", r.status)
	}
	alice := app.client()
	alice.signIn(domain.DemoUsers[0].Email, password)
	if r := alice.get("/"); r.status != http.StatusOK || !strings.Contains(r.doc.Find("[data-testid=org-link]").Text(), domain.DemoOrganizationName) {
		t.Fatalf("alice sees %q", r.doc.Find("[data-testid=org-link]").Text())
	}
}
