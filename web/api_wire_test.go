package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"studio/domain"
)

// GET /v2/projects/-/members for an account that exists but holds no
// membership in the organization answers an empty list, as the Terraform
// provider reads "gone"; an account that does not exist is still 404.
func TestAPIMembershipsOfAnAccountWithoutAnyHere(t *testing.T) {
	e := apiNewEnv(t)
	app := e.app
	inv := app.inventory()
	caller := e.caller(e.admin, inv, "Provider")
	e.grant(caller.SA.Ref(), app.org.ID, "", domain.RoleOrgAdmin)
	auth := e.auth(caller, "basic")
	elsewhere, elsewhereAdmin := app.addOrg("Elsewhere", "else@example.com")
	farProject := app.addProject(elsewhere.ID, "Far")
	farSA := e.account(e.principal(elsewhereAdmin.Email), farProject, "Far robot", false)
	loner := app.addUser("loner@example.com", "", "", "")
	ownSA := e.account(e.admin, inv, "Unassigned", false) // of this organization, no role yet

	base := "/v2/projects/-/members?organization=organizations/" + app.org.ID + "&memberId="
	for name, id := range map[string]string{
		"a user of another organization": strconv.FormatInt(elsewhereAdmin.ID, 10),
		"a user without any membership":  strconv.FormatInt(loner.ID, 10),
		"another organization's account": farSA.ID,
		"an account without a role here": ownSA.ID,
	} {
		items, next := apiList(t, e.call(http.MethodGet, base+id, auth, nil), "members")
		if len(items) != 0 || next != "" {
			t.Errorf("%s: %d members, next %q; want [] and \"\"", name, len(items), next)
		}
		if body := string(apiOK(t, e.call(http.MethodGet, base+id, auth, nil))); !strings.Contains(body, `"members":[]`) {
			t.Errorf("%s: %s, want \"members\":[]", name, body)
		}
	}
	for _, id := range []string{"999999", "zzzzzzzzzzzzzzzzzzzz", "not-an-id"} {
		apiDecodeError(t, e.call(http.MethodGet, base+id, auth, nil), http.StatusNotFound)
	}
}

// members:batchCreate and :batchDelete take up to 1,000 items in one call
// and one transaction; 1,001 is 400 naming the limit, and changes nothing.
func TestAPIMemberBatchesOfAThousand(t *testing.T) {
	e := apiNewEnv(t)
	app := e.app
	inv := app.inventory()
	lab := app.addProject(app.org.ID, "Lab")
	caller := e.caller(e.admin, inv, "Bulk")
	e.grant(caller.SA.Ref(), app.org.ID, "", domain.RoleOrgAdmin)
	auth := e.auth(caller, "basic")

	type item struct {
		Project string   `json:"project"`
		Email   string   `json:"email"`
		Roles   []string `json:"roles"`
	}
	members := func(n int) []item {
		out := make([]item, n)
		for i := range out {
			p := inv.ID
			if i%2 == 1 {
				p = lab.ID
			}
			out[i] = item{Project: "projects/" + p, Email: fmt.Sprintf("bulk%04d@example.com", i/2), Roles: []string{"roles/project.user"}}
		}
		return out
	}
	before := e.snapshot()
	r := e.call(http.MethodPost, "/v2/projects/-/members:batchCreate", auth, map[string]any{"members": members(domain.MaxBatchItems + 1)})
	if got := apiDecodeError(t, r, http.StatusBadRequest); !strings.Contains(got.Error, "1000") {
		t.Errorf("1,001 members: %q does not name the limit", got.Error)
	}
	if after := e.snapshot(); after != before {
		t.Fatalf("a refused batch changed the store: %s", apiDiff(before, after))
	}

	// One refused item (a role of the wrong scope) refuses all 1,000.
	bad := members(domain.MaxBatchItems)
	bad[domain.MaxBatchItems-1].Roles = []string{"roles/organization.admin"}
	apiDecodeError(t, e.call(http.MethodPost, "/v2/projects/-/members:batchCreate", auth, map[string]any{"members": bad}), http.StatusBadRequest)
	if after := e.snapshot(); after != before {
		t.Fatalf("a refused batch changed the store: %s", apiDiff(before, after))
	}

	body := apiOK(t, e.call(http.MethodPost, "/v2/projects/-/members:batchCreate", auth, map[string]any{"members": members(domain.MaxBatchItems)}))
	made := apiObject(t, body, "members")
	items := apiListItems(t, made["members"])
	if len(items) != domain.MaxBatchItems {
		t.Fatalf("batchCreate made %d members, want %d", len(items), domain.MaxBatchItems)
	}
	var names []string
	for _, it := range items {
		names = append(names, apiDecodeMember(t, it).Name)
	}
	for _, p := range []domain.Project{inv, lab} {
		ms, err := app.store.ListProjectMembers(context.Background(), p.ID, "bulk", 0, 10000)
		if err != nil || len(ms) != domain.MaxBatchItems/2 {
			t.Fatalf("%s holds %d bulk members (%v), want %d", p.DisplayName, len(ms), err, domain.MaxBatchItems/2)
		}
	}

	// batchDelete: 1,001 names refused, 1,000 removed in one call.
	before = e.snapshot()
	r = e.call(http.MethodPost, "/v2/projects/-/members:batchDelete", auth, map[string]any{"names": append(names, names[0])})
	if got := apiDecodeError(t, r, http.StatusBadRequest); !strings.Contains(got.Error, "1000") {
		t.Errorf("1,001 names: %q does not name the limit", got.Error)
	}
	if after := e.snapshot(); after != before {
		t.Fatalf("a refused batch changed the store: %s", apiDiff(before, after))
	}
	apiEmpty(t, e.call(http.MethodPost, "/v2/projects/-/members:batchDelete", auth, map[string]any{"names": names}))
	for _, p := range []domain.Project{inv, lab} {
		ms, err := app.store.ListProjectMembers(context.Background(), p.ID, "bulk", 0, 10000)
		if err != nil || len(ms) != 0 {
			t.Fatalf("%s holds %d bulk members after batchDelete (%v)", p.DisplayName, len(ms), err)
		}
	}
}

// The token endpoint's refusal for a wrong aud names the value it expects,
// so a user who wrote localhost for 127.0.0.1 sees what to write.
func TestAPITokenWrongAudienceNamesExpected(t *testing.T) {
	e := apiNewEnv(t)
	robot := e.caller(e.admin, e.app.inventory(), "Robot")
	a := e.claims(robot)
	a.aud = "http://localhost:8080/oauth2/token"
	r := e.exchange(e.grantForm(a))
	e.wantOAuthError(r, "invalid_grant")
	if !strings.Contains(string(r.body), apiTokenURL) {
		t.Errorf("refusal %s does not name the expected aud %s", r.body, apiTokenURL)
	}
}

// apiListItems decodes a JSON array.
func apiListItems(t testing.TB, raw []byte) []json.RawMessage {
	t.Helper()
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil || items == nil {
		t.Fatalf("not an array: %s", raw)
	}
	return items
}
