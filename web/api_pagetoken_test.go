package web_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"studio/domain"
)

// A page token works only in the listing it came from: the same kind of
// list under the same parent with the same filter. A known client bug
// sends one project's service-account token to another project's list,
// which used to answer a partial page without a word.
func TestAPIPageTokenBoundToListing(t *testing.T) {
	e := apiNewEnv(t)
	app := e.app
	inv := app.inventory()
	p1 := app.addProject(app.org.ID, "Alpha site")
	p2 := app.addProject(app.org.ID, "Beta site")
	app.addProject(app.org.ID, "Alpha two")
	for _, p := range []domain.Project{p1, p2} {
		for _, name := range []string{"a robot", "b robot", "c robot"} {
			sa := e.account(e.admin, p, name, false)
			e.grant(sa.Ref(), app.org.ID, p.ID, domain.RoleProjectUser)
		}
	}
	caller := e.caller(e.admin, inv, "Pager")
	e.grant(caller.SA.Ref(), app.org.ID, "", domain.RoleOrgAdmin)
	auth := e.auth(caller, "basic")
	token := func(path string) string {
		t.Helper()
		r := e.call(http.MethodGet, path, auth, nil)
		body := apiOK(t, r)
		m := apiObjectKeys(t, body)
		var next string
		if err := jsonString(m["nextPageToken"], &next); err != nil || next == "" {
			t.Fatalf("%s: no next page token: %s", path, body)
		}
		return next
	}
	refused := func(path, tok string) {
		t.Helper()
		r := e.call(http.MethodGet, path+"&pageToken="+url.QueryEscape(tok), auth, nil)
		if got := apiDecodeError(t, r, http.StatusBadRequest); got.Error != "The page token is not valid." {
			t.Errorf("%s with a foreign token: %q", path, got.Error)
		}
	}
	accepted := func(path, tok string) {
		t.Helper()
		apiOK(t, e.call(http.MethodGet, path+"&pageToken="+url.QueryEscape(tok), auth, nil))
	}

	sas1 := "/v2/projects/" + p1.ID + "/serviceaccounts?pageSize=1"
	sas2 := "/v2/projects/" + p2.ID + "/serviceaccounts?pageSize=1"
	tok := token(sas1)
	accepted(sas1, tok)
	refused(sas2, tok)                                                  // another project, same kind of list
	refused("/v2/projects/"+p1.ID+"/members?pageSize=1", tok)           // same project, another kind of list
	refused("/v2/organizations/"+app.org.ID+"/members?pageSize=1", tok) // another parent and kind
	refused("/v2/projects?pageSize=1", tok)
	refused("/v2/roles?pageSize=1", tok)
	refused("/v2/projects/"+p1.ID+"/permissions?pageSize=1", tok)

	// The filter is part of the listing.
	alpha := "/v2/projects?organization=organizations/" + app.org.ID + "&query=alpha&pageSize=1"
	tok = token(alpha)
	accepted(alpha, tok)
	refused("/v2/projects?organization=organizations/"+app.org.ID+"&query=site&pageSize=1", tok)
	refused("/v2/projects?query=alpha&pageSize=1", tok)

	// Members of one project, then another.
	tok = token("/v2/projects/" + p1.ID + "/members?pageSize=1")
	refused("/v2/projects/"+p2.ID+"/members?pageSize=1", tok)

	// Permissions and roles, which page through fixed lists.
	tok = token("/v2/projects/" + p1.ID + "/permissions?pageSize=1")
	refused("/v2/projects/"+p2.ID+"/permissions?pageSize=1", tok)
	refused("/v2/organizations/"+app.org.ID+"/permissions?pageSize=1", tok)
	tok = token("/v2/roles?pageSize=1")
	refused("/v2/projects/"+p1.ID+"/permissions?pageSize=1", tok)

	// Keys of one account, then another's.
	saA := e.caller(e.admin, p1, "Keyed A")
	e.key(e.admin, saA.SA)
	saB := e.caller(e.admin, p1, "Keyed B")
	e.key(e.admin, saB.SA)
	keysA := "/v2/projects/" + p1.ID + "/serviceaccounts/" + saA.SA.ID + "/keys?pageSize=1"
	tok = token(keysA)
	accepted(keysA, tok)
	refused("/v2/projects/"+p1.ID+"/serviceaccounts/"+saB.SA.ID+"/keys?pageSize=1", tok)
}

// apiObjectKeys decodes a JSON object without checking its keys.
func apiObjectKeys(t testing.TB, raw []byte) map[string]json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("not a JSON object: %s", raw)
	}
	return m
}

func jsonString(raw json.RawMessage, s *string) error { return json.Unmarshal(raw, s) }
