package web_test

import (
	"context"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"studio/domain"
)

// A project's labels and its nullable coordinates, as the original's
// Terraform provider sends and stores them: create, read, list, update.
func TestAPIProjectLabelsAndNullCoordinates(t *testing.T) {
	e := apiNewEnv(t)
	app := e.app
	inv := app.inventory()
	admin := e.caller(e.admin, inv, "Terraform")
	e.grant(admin.SA.Ref(), app.org.ID, "", domain.RoleOrgAdmin)
	auth := e.auth(admin, "basic")
	org := "organizations/" + app.org.ID

	// The inventory project has no coordinates and no labels: null and {}.
	got := apiDecodeProject(t, apiOK(t, e.call(http.MethodGet, "/v2/projects/"+inv.ID, auth, nil)))
	if got.Location.Latitude != nil || got.Location.Longitude != nil || got.Labels == nil || len(got.Labels) != 0 {
		t.Fatalf("inventory location %+v labels %v, want null coordinates and {}", got.Location, got.Labels)
	}
	raw := string(apiOK(t, e.call(http.MethodGet, "/v2/projects/"+inv.ID, auth, nil)))
	if !strings.Contains(raw, `"latitude":null`) || !strings.Contains(raw, `"longitude":null`) || !strings.Contains(raw, `"labels":{}`) {
		t.Fatalf("inventory on the wire: %s", raw)
	}

	// Terraform's create: null coordinates with a time zone, and labels.
	body := `{"displayName":"Field","organization":"` + org + `","location":{"latitude":null,"longitude":null,"timeLocation":"UTC"},` +
		`"labels":{"env":"prod","team":"field ops","flagged":""}}`
	created := apiDecodeProject(t, apiOK(t, e.call(http.MethodPost, "/v2/projects", auth, body)))
	field := "/v2/projects/" + apiLastSegment(created.Name)
	want := apiProject{Name: created.Name, DisplayName: "Field", Organization: org, OrganizationDisplayName: "Acme",
		Location: apiLocation{TimeLocation: "UTC"}, Labels: map[string]string{"env": "prod", "team": "field ops", "flagged": ""}}
	if !apiSameProject(created, want) {
		t.Fatalf("created %+v, want %+v", created, want)
	}
	if got := apiDecodeProject(t, apiOK(t, e.call(http.MethodGet, field, auth, nil))); !apiSameProject(got, want) {
		t.Fatalf("read back %+v, want %+v", got, want)
	}
	// Coordinates left out entirely are none too.
	noCoords := apiDecodeProject(t, apiOK(t, e.call(http.MethodPost, "/v2/projects", auth,
		`{"displayName":"Nowhere","organization":"`+org+`","location":{"timeLocation":"Europe/Oslo"}}`)))
	if noCoords.Location.Latitude != nil || noCoords.Location.Longitude != nil || noCoords.Location.TimeLocation != "Europe/Oslo" {
		t.Fatalf("location without coordinates: %+v", noCoords.Location)
	}
	// A real place at 0 longitude keeps its 0.
	greenwich := apiDecodeProject(t, apiOK(t, e.call(http.MethodPost, "/v2/projects", auth,
		`{"displayName":"Greenwich","organization":"`+org+`","location":{"latitude":51.4779,"longitude":0,"timeLocation":"Europe/London"}}`)))
	if greenwich.Location.Longitude == nil || *greenwich.Location.Longitude != 0 || *greenwich.Location.Latitude != 51.4779 {
		t.Fatalf("Greenwich: %+v", greenwich.Location)
	}

	// The list carries labels, and filters by them.
	items, _ := apiList(t, e.call(http.MethodGet, "/v2/projects?organization="+org, auth, nil), "projects")
	seen := false
	for _, it := range items {
		p := apiDecodeProject(t, it)
		if p.Name == want.Name {
			seen = apiSameProject(p, want)
		}
	}
	if !seen {
		t.Fatalf("the list does not show %+v", want)
	}
	for filter, names := range map[string]string{
		"env=prod": "Field", "env": "Field", "flagged": "Field", "env=test": "", "team=field ops": "Field",
	} {
		items, _ := apiList(t, e.call(http.MethodGet, "/v2/projects?organization="+org+"&labelFilters="+url.QueryEscape(filter), auth, nil), "projects")
		var got []string
		for _, it := range items {
			got = append(got, apiDecodeProject(t, it).DisplayName)
		}
		if strings.Join(got, ",") != names {
			t.Errorf("labelFilters=%s: %v, want %q", filter, got, names)
		}
	}

	// PATCH: location with null coordinates clears them; labels replace the set.
	want.Location = apiPlace(59.9139, 10.7522, "Europe/Oslo")
	if got := apiDecodeProject(t, apiOK(t, e.call(http.MethodPatch, field, auth, map[string]any{"location": want.Location}))); !apiSameProject(got, want) {
		t.Fatalf("patch location: %+v, want %+v", got, want)
	}
	want.Location = apiLocation{TimeLocation: "UTC"}
	if got := apiDecodeProject(t, apiOK(t, e.call(http.MethodPatch, field, auth,
		`{"location":{"latitude":null,"longitude":null,"timeLocation":"UTC"}}`))); !apiSameProject(got, want) {
		t.Fatalf("patch null coordinates: %+v, want %+v", got, want)
	}
	want.Labels = map[string]string{"env": "test"}
	if got := apiDecodeProject(t, apiOK(t, e.call(http.MethodPatch, field, auth, `{"labels":{"env":"test"}}`))); !apiSameProject(got, want) {
		t.Fatalf("patch labels: %+v, want %+v", got, want)
	}
	// Without labels in the body (Terraform's PATCH), they stay.
	want.DisplayName = "Field 2"
	if got := apiDecodeProject(t, apiOK(t, e.call(http.MethodPatch, field, auth, map[string]any{
		"name": want.Name, "displayName": "Field 2", "organization": org, "location": map[string]any{"latitude": nil, "longitude": nil, "timeLocation": "UTC"},
	}))); !apiSameProject(got, want) {
		t.Fatalf("patch without labels: %+v, want %+v", got, want)
	}
	want.Labels = map[string]string{}
	if got := apiDecodeProject(t, apiOK(t, e.call(http.MethodPatch, field+"?update_mask=labels", auth, `{"displayName":"ignored"}`))); !apiSameProject(got, want) {
		t.Fatalf("update_mask=labels without labels: %+v, want %+v", got, want)
	}

	// Refused: nothing changes.
	before := e.snapshot()
	for _, tc := range []struct {
		method, path, body string
	}{
		{http.MethodPost, "/v2/projects", `{"displayName":"Bad","organization":"` + org + `","labels":{"":"x"}}`},
		{http.MethodPost, "/v2/projects", `{"displayName":"Bad","organization":"` + org + `","labels":{"a=b":"x"}}`},
		{http.MethodPost, "/v2/projects", `{"displayName":"Bad","organization":"` + org + `","labels":{"env":"a\nb"}}`},
		{http.MethodPost, "/v2/projects", `{"displayName":"Bad","organization":"` + org + `","labels":{"env":7}}`},
		{http.MethodPost, "/v2/projects", `{"displayName":"Bad","organization":"` + org + `","location":{"latitude":10,"longitude":null}}`},
		{http.MethodPatch, field, `{"location":{"latitude":null,"longitude":10}}`},
		{http.MethodPatch, field, `{"labels":{" padded":"x"}}`},
		{http.MethodPatch, field, `{"labels":{"k":"` + strings.Repeat("v", domain.MaxLabelValueLength+1) + `"}}`},
		{http.MethodGet, "/v2/projects?labelFilters=%3Dprod", ""},
	} {
		var b any
		if tc.body != "" {
			b = tc.body
		}
		apiDecodeError(t, e.call(tc.method, tc.path, auth, b), http.StatusBadRequest)
	}
	many := map[string]string{}
	for i := 0; i <= domain.MaxLabels; i++ {
		many[strings.Repeat("k", 1+i%5)+string(rune('a'+i%26))+string(rune('a'+i/26))] = ""
	}
	apiDecodeError(t, e.call(http.MethodPatch, field, auth, map[string]any{"labels": many}), http.StatusBadRequest)
	if after := e.snapshot(); after != before {
		t.Fatalf("refused requests changed the store: %s", apiDiff(before, after))
	}
}

// POST /v2/projects:batchUpdate changes the labels of every listed project
// in one transaction: one project the caller may not update (or may not
// see) refuses the whole call and changes nothing.
func TestAPIProjectsBatchUpdateLabels(t *testing.T) {
	e := apiNewEnv(t)
	app := e.app
	inv := app.inventory()
	a := app.addProject(app.org.ID, "A")
	b := app.addProject(app.org.ID, "B")
	c := app.addProject(app.org.ID, "C")
	other, _ := app.addOrg("Elsewhere", "else@example.com")
	hidden := app.addProject(other.ID, "Hidden")
	caller := e.caller(e.admin, inv, "Labeller")
	e.grant(caller.SA.Ref(), app.org.ID, a.ID, domain.RoleProjectAdmin)
	e.grant(caller.SA.Ref(), app.org.ID, b.ID, domain.RoleProjectAdmin)
	e.grant(caller.SA.Ref(), app.org.ID, c.ID, domain.RoleProjectUser)
	auth := e.auth(caller, "bearer")
	batch := func(body any) apiResponse { return e.call(http.MethodPost, "/v2/projects:batchUpdate", auth, body) }
	labelsOf := func(p domain.Project) map[string]string {
		t.Helper()
		return apiDecodeProject(t, apiOK(t, e.call(http.MethodGet, "/v2/projects/"+p.ID, auth, nil))).Labels
	}

	apiEmpty(t, batch(map[string]any{"projects": []string{"projects/" + a.ID, "projects/" + b.ID},
		"addLabels": map[string]string{"env": "prod", "site": "north"}}))
	apiEmpty(t, batch(map[string]any{"projects": []string{"projects/" + b.ID}, "addLabels": map[string]string{"env": "test"},
		"removeLabels": []string{"site", "never-there"}}))
	// addLabels null, removeLabels alone.
	apiEmpty(t, batch(`{"projects":["projects/`+a.ID+`"],"addLabels":null,"removeLabels":["site"]}`))
	for _, tc := range []struct {
		p    domain.Project
		want map[string]string
	}{{a, map[string]string{"env": "prod"}}, {b, map[string]string{"env": "test"}}, {c, map[string]string{}}} {
		if got := labelsOf(tc.p); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("labels of %s: %v, want %v", tc.p.DisplayName, got, tc.want)
		}
	}
	if n := countAudit(app, domain.ActionProjectUpdate, a.ID) + countAudit(app, domain.ActionProjectUpdate, b.ID); n != 4 {
		t.Errorf("%d audit entries of label changes, want 4", n)
	}

	// All or nothing.
	before := e.snapshot()
	for _, tc := range []struct {
		body   any
		status int
	}{
		// C: the caller is a project user there (project.update refused).
		{map[string]any{"projects": []string{"projects/" + a.ID, "projects/" + b.ID, "projects/" + c.ID}, "addLabels": map[string]string{"x": "1"}}, http.StatusForbidden},
		// Hidden: another organization's project.
		{map[string]any{"projects": []string{"projects/" + a.ID, "projects/" + hidden.ID}, "removeLabels": []string{"env"}}, http.StatusNotFound},
		{map[string]any{"projects": []string{"projects/" + a.ID, "projects/zzzzzzzzzzzzzzzzzzzz"}, "addLabels": map[string]string{"x": "1"}}, http.StatusNotFound},
		{map[string]any{"projects": []string{"projects/" + a.ID}, "addLabels": map[string]string{"": "1"}}, http.StatusBadRequest},
		{map[string]any{"projects": []string{"projects/" + a.ID}, "removeLabels": []string{""}}, http.StatusBadRequest},
		{map[string]any{"projects": []string{"projects/" + a.ID}}, http.StatusBadRequest},
		{map[string]any{"projects": []string{"projects/" + a.ID}, "addLabels": map[string]string{}, "removeLabels": []string{}}, http.StatusBadRequest},
		{map[string]any{"projects": []string{"projects/" + a.ID}, "addLabels": map[string]string{"k": "1"}, "removeLabels": []string{"k"}}, http.StatusBadRequest},
		{map[string]any{"projects": []string{}, "addLabels": map[string]string{"x": "1"}}, http.StatusBadRequest},
		{map[string]any{"projects": []string{a.ID}, "addLabels": map[string]string{"x": "1"}}, http.StatusBadRequest},
		{map[string]any{"projects": []string{"projects/" + a.ID}, "addLabels": map[string]string{"x": "1"}, "colour": "red"}, http.StatusBadRequest},
	} {
		r := batch(tc.body)
		apiDecodeError(t, r, tc.status)
	}
	// Over the limit: 400 naming it.
	var names []string
	for i := 0; i <= domain.MaxBatchItems; i++ {
		names = append(names, "projects/"+a.ID)
	}
	r := batch(map[string]any{"projects": names, "addLabels": map[string]string{"x": "1"}})
	if e := apiDecodeError(t, r, http.StatusBadRequest); !strings.Contains(e.Error, "1000") {
		t.Errorf("over the limit: %q does not name the limit", e.Error)
	}
	if after := e.snapshot(); after != before {
		t.Fatalf("a refused batch changed the store: %s", apiDiff(before, after))
	}
	if got := labelsOf(a); !reflect.DeepEqual(got, map[string]string{"env": "prod"}) {
		t.Fatalf("A's labels after refused batches: %v", got)
	}
	// A project user may not even try.
	user := e.caller(e.admin, inv, "Reader")
	e.grant(user.SA.Ref(), app.org.ID, a.ID, domain.RoleProjectUser)
	apiDecodeError(t, e.call(http.MethodPost, "/v2/projects:batchUpdate", e.auth(user, "basic"),
		map[string]any{"projects": []string{"projects/" + a.ID}, "addLabels": map[string]string{"x": "1"}}), http.StatusForbidden)
}

// countAudit counts the audit entries of one action on one project.
func countAudit(app *testApp, action, projectID string) int {
	app.t.Helper()
	rows, err := app.store.ListAudit(context.Background(), domain.AuditFilter{ProjectID: projectID, Action: action}, 0, 1000)
	if err != nil {
		app.t.Fatal(err)
	}
	return len(rows)
}
