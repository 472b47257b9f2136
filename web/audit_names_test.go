package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"studio/domain"

	"github.com/PuerkitoBio/goquery"
)

// TestAuditShowsNames: the audit log names what changed and where, with the
// ids on hover; a deleted project keeps its id (issue 16).
func TestAuditShowsNames(t *testing.T) {
	app := newApp(t)
	c := app.signedIn(adminEmail)
	proj := app.addProject(app.org.ID, "Weather")
	saID := browserSACreate(t, c, proj.ID, "Uploader")
	if r := c.post(browserSAURL(proj.ID, saID)+"/basicauth", url.Values{"enable": {"true"}}); r.status != http.StatusSeeOther {
		t.Fatalf("basic auth on: status %d", r.status)
	}
	temp := app.addProject(app.org.ID, "Temporary")
	if r := c.post("/projects/"+temp.ID+"/settings", url.Values{"displayName": {"Temporary 2"}}); r.status != http.StatusSeeOther {
		t.Fatalf("rename: status %d", r.status)
	}
	if r := c.post("/projects/"+temp.ID+"/delete", url.Values{"confirm": {"Temporary 2"}}); r.status != http.StatusSeeOther {
		t.Fatalf("delete: status %d", r.status)
	}
	row := func(r response, action string) *goquery.Selection {
		t.Helper()
		var found *goquery.Selection
		r.doc.Find("[data-testid=audit-row]").EachWithBreak(func(_ int, s *goquery.Selection) bool {
			if s.Find("[data-testid=audit-action]").Text() == action {
				found = s
				return false
			}
			return true
		})
		if found == nil {
			t.Fatalf("no %s row on the audit page", action)
		}
		return found
	}
	page := c.get("/orgs/" + app.org.ID + "/audit")
	basic := row(page, domain.ActionBasicAuthEnable)
	where := basic.Find("[data-testid=audit-project]")
	if strings.TrimSpace(where.Text()) != "Weather" || where.AttrOr("title", "") != "project "+proj.ID {
		t.Fatalf("Where = %q (title %q), want Weather with its id on hover", where.Text(), where.AttrOr("title", ""))
	}
	target := basic.Find("[data-testid=audit-target-name]")
	if strings.TrimSpace(target.Text()) != "Uploader" || target.AttrOr("title", "") != "serviceaccount "+saID {
		t.Fatalf("target = %q (title %q), want Uploader with its id on hover", target.Text(), target.AttrOr("title", ""))
	}
	if got := strings.TrimSpace(row(page, domain.ActionProjectUpdate).Find("[data-testid=audit-project]").Text()); got != temp.ID+" (deleted)" {
		t.Fatalf("Where of a deleted project = %q", got)
	}
	global := c.get("/support/audit")
	if got := strings.TrimSpace(row(global, domain.ActionBasicAuthEnable).Find("[data-testid=audit-org]").Text()); got != "Acme" {
		t.Fatalf("global log's organization = %q, want Acme", got)
	}
}
