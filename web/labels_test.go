package web_test

import (
	"context"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"studio/domain"

	"github.com/PuerkitoBio/goquery"
)

// texts lists the trimmed texts of a selection.
func texts(s *goquery.Selection) []string {
	var out []string
	s.Each(func(_ int, e *goquery.Selection) { out = append(out, strings.TrimSpace(e.Text())) })
	return out
}

func (a *testApp) labelsOf(projectID string) map[string]string {
	a.t.Helper()
	p, err := a.store.ProjectByID(context.Background(), projectID)
	if err != nil {
		a.t.Fatal(err)
	}
	return p.Labels
}

// A project admin adds and removes labels on the project's settings page;
// bad input is shown beside its field and changes nothing; a project user
// sees the labels without the forms and cannot post them.
func TestConsoleProjectLabels(t *testing.T) {
	app := newApp(t)
	proj := app.addProject(app.org.ID, "Field")
	app.addUser("padmin@example.com", proj.ID, domain.RoleProjectAdmin, "")
	app.addUser("reader@example.com", proj.ID, domain.RoleProjectUser, "")
	admin := app.signedIn("padmin@example.com")
	settings := "/projects/" + proj.ID + "/settings"

	page := admin.get(settings)
	if page.status != http.StatusOK || page.doc.Find("[data-testid=no-labels]").Length() != 1 || page.doc.Find("[data-testid=label-form]").Length() != 1 {
		t.Fatalf("settings without labels: status %d, body %s", page.status, page.doc.Find("[data-testid=labels-card]").Text())
	}
	for _, l := range []url.Values{
		{"labelKey": {" env "}, "labelValue": {" prod "}},
		{"labelKey": {"flagged"}, "labelValue": {""}},
		{"labelKey": {"team"}, "labelValue": {"field ops"}},
	} {
		if r := admin.post("/projects/"+proj.ID+"/labels", l); r.status != http.StatusSeeOther {
			t.Fatalf("add label %v: status %d: %s", l, r.status, r.doc.Find("[data-testid=labels-card]").Text())
		}
	}
	page = admin.get(settings)
	if got := texts(page.doc.Find("[data-testid=label-text]")); !reflect.DeepEqual(got, []string{"env=prod", "flagged", "team=field ops"}) {
		t.Fatalf("labels shown %q", got)
	}
	if want := map[string]string{"env": "prod", "flagged": "", "team": "field ops"}; !reflect.DeepEqual(app.labelsOf(proj.ID), want) {
		t.Fatalf("labels stored %v, want %v", app.labelsOf(proj.ID), want)
	}
	// Changing a value replaces it.
	admin.post("/projects/"+proj.ID+"/labels", url.Values{"labelKey": {"env"}, "labelValue": {"test"}})
	if got := app.labelsOf(proj.ID)["env"]; got != "test" {
		t.Fatalf("env after changing it: %q", got)
	}

	// Refused input: the message beside its field, what was typed kept, nothing stored.
	before := app.labelsOf(proj.ID)
	for _, tc := range []struct {
		form  url.Values
		field string
	}{
		{url.Values{"labelKey": {""}, "labelValue": {"x"}}, "labelKey"},
		{url.Values{"labelKey": {"a=b"}, "labelValue": {"x"}}, "labelKey"},
		{url.Values{"labelKey": {strings.Repeat("k", domain.MaxLabelKeyLength+1)}}, "labelKey"},
		{url.Values{"labelKey": {"note"}, "labelValue": {"line\nbreak"}}, "labelValue"},
		{url.Values{"labelKey": {"note"}, "labelValue": {strings.Repeat("v", domain.MaxLabelValueLength+1)}}, "labelValue"},
	} {
		r := admin.post("/projects/"+proj.ID+"/labels", tc.form)
		if r.status != http.StatusUnprocessableEntity {
			t.Errorf("%v: status %d, want 422", tc.form, r.status)
			continue
		}
		if msg := strings.TrimSpace(r.doc.Find("[data-testid=error-" + tc.field + "]").Text()); msg == "" {
			t.Errorf("%v: no message beside %s", tc.form, tc.field)
		}
		if v, _ := r.doc.Find("#" + tc.field).Attr("aria-invalid"); v != "true" {
			t.Errorf("%v: %s not marked invalid", tc.form, tc.field)
		}
		if got, _ := r.doc.Find("[data-testid=label-value]").Attr("value"); got != strings.TrimSpace(tc.form.Get("labelValue")) {
			t.Errorf("%v: the value typed is not kept (%q)", tc.form, got)
		}
	}
	if !reflect.DeepEqual(app.labelsOf(proj.ID), before) {
		t.Fatalf("refused labels changed the project: %v, was %v", app.labelsOf(proj.ID), before)
	}

	// Remove, with its audit entry.
	if r := admin.post("/projects/"+proj.ID+"/labels/remove", url.Values{"labelKey": {"flagged"}}); r.status != http.StatusSeeOther {
		t.Fatalf("remove: status %d", r.status)
	}
	if want := map[string]string{"env": "test", "team": "field ops"}; !reflect.DeepEqual(app.labelsOf(proj.ID), want) {
		t.Fatalf("after remove: %v, want %v", app.labelsOf(proj.ID), want)
	}
	if n := countAudit(app, domain.ActionProjectUpdate, proj.ID); n != 5 {
		t.Errorf("%d audit entries of label changes, want 5 (three added, one changed, one removed)", n)
	}

	// A project user sees the labels, without forms, and cannot change them.
	reader := app.signedIn("reader@example.com")
	page = reader.get(settings)
	if got := texts(page.doc.Find("[data-testid=label-text]")); !reflect.DeepEqual(got, []string{"env=test", "team=field ops"}) {
		t.Errorf("reader sees %q", got)
	}
	if n := page.doc.Find("[data-testid=label-form], [data-testid=label-remove]").Length(); n != 0 {
		t.Errorf("reader sees %d label controls", n)
	}
	before = app.labelsOf(proj.ID)
	if r := reader.post("/projects/"+proj.ID+"/labels", url.Values{"labelKey": {"sneaky"}}); r.status != http.StatusForbidden {
		t.Errorf("reader adds a label: status %d, want 403", r.status)
	}
	if r := reader.post("/projects/"+proj.ID+"/labels/remove", url.Values{"labelKey": {"env"}}); r.status != http.StatusForbidden {
		t.Errorf("reader removes a label: status %d, want 403", r.status)
	}
	if !reflect.DeepEqual(app.labelsOf(proj.ID), before) {
		t.Fatalf("a project user changed the labels: %v", app.labelsOf(proj.ID))
	}
}

// The organization's project list shows each project's labels as tags,
// and filters by label from the URL (?label=key=value, repeated for all of
// several); each tag links to the list filtered by it.
func TestConsoleProjectListLabels(t *testing.T) {
	app := newApp(t)
	ctx := context.Background()
	projects := domain.NewProjects(app.store, app.clock.Now)
	admin := domain.UserPrincipal(app.storedUser(1), "test")
	create := func(name string, labels map[string]string) domain.Project {
		p, err := projects.CreateProject(ctx, admin, app.org.ID, domain.ProjectInput{DisplayName: &name, Labels: labels})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	create("North", map[string]string{"env": "prod", "site": "north"})
	create("South", map[string]string{"env": "test", "site": "south"})
	create("West", map[string]string{"env": "prod", "flagged": ""})
	c := app.signedIn(adminEmail)
	base := "/orgs/" + app.org.ID

	names := func(r response) []string { return texts(r.doc.Find("[data-testid=project-link]")) }
	r := c.get(base)
	if got := names(r); !reflect.DeepEqual(got, []string{"Inventory", "North", "South", "West"}) {
		t.Fatalf("projects %q", got)
	}
	var tagsOfNorth []string
	var northTagLink string
	r.doc.Find("[data-testid=project-row]").Each(func(_ int, row *goquery.Selection) {
		if strings.TrimSpace(row.Find("[data-testid=project-link]").Text()) == "North" {
			tagsOfNorth = texts(row.Find("[data-testid=label-tag]"))
			northTagLink, _ = row.Find("[data-testid=label-tag]").First().Attr("href")
		}
	})
	if !reflect.DeepEqual(tagsOfNorth, []string{"env=prod", "site=north"}) {
		t.Fatalf("North's tags %q", tagsOfNorth)
	}
	if northTagLink != base+"?label=env%3Dprod" {
		t.Errorf("North's first tag links to %q", northTagLink)
	}

	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"?label=env%3Dprod", []string{"North", "West"}},
		{"?label=env", []string{"North", "South", "West"}},
		{"?label=flagged", []string{"West"}},
		{"?label=env%3Dprod&label=site%3Dnorth", []string{"North"}},
		{"?label=env%3Dprod&q=we", []string{"West"}},
		{"?label=env%3Dstaging", nil},
		{"?label=", []string{"Inventory", "North", "South", "West"}},
	} {
		r := c.get(base + tc.query)
		if r.status != http.StatusOK {
			t.Errorf("%s: status %d", tc.query, r.status)
			continue
		}
		if got := names(r); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: projects %q, want %q", tc.query, got, tc.want)
		}
	}
	// The filters in force show, each with a link that drops it.
	r = c.get(base + "?label=env%3Dprod&label=site%3Dnorth")
	if got := texts(r.doc.Find("[data-testid=label-filter]")); !reflect.DeepEqual(got, []string{"env=prod ×", "site=north ×"}) {
		t.Errorf("filters shown %q", got)
	}
	if href, _ := r.doc.Find("[data-testid=label-filter]").First().Attr("href"); href != base+"?label=site%3Dnorth" {
		t.Errorf("dropping env=prod links to %q", href)
	}
	if msg := strings.TrimSpace(c.get(base + "?label=env%3Dstaging").doc.Find("[data-testid=no-projects]").Text()); !strings.Contains(msg, "env=staging") {
		t.Errorf("empty filtered list says %q", msg)
	}
	// A filter that cannot be read says why beside the field.
	r = c.get(base + "?label=%3Dprod")
	if r.status != http.StatusBadRequest || strings.TrimSpace(r.doc.Find("[data-testid=error-label]").Text()) == "" {
		t.Errorf("bad filter: status %d, message %q", r.status, r.doc.Find("[data-testid=error-label]").Text())
	}

	// Pages keep the filter: the next page's link carries it, and its token
	// is refused by the unfiltered list.
	for i := 0; i < 60; i++ {
		create("Bulk "+string(rune('A'+i/26))+string(rune('a'+i%26)), map[string]string{"bulk": "yes"})
	}
	r = c.get(base + "?label=bulk")
	next, ok := r.doc.Find("[data-testid=next-page]").Attr("href")
	if !ok || !strings.Contains(next, "label=bulk") {
		t.Fatalf("next page link %q does not keep the filter", next)
	}
	r2 := c.get(next)
	if got := names(r2); len(got) != 10 || !strings.HasPrefix(got[0], "Bulk") {
		t.Errorf("second filtered page: %q", got)
	}
	u, _ := url.Parse(next)
	if r := c.get(base + "?page=" + url.QueryEscape(u.Query().Get("page"))); r.status != http.StatusBadRequest {
		t.Errorf("the filtered list's token on the unfiltered list: status %d, want 400", r.status)
	}
}
