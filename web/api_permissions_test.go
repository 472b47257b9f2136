package web_test

// The permission table of the REST API: every endpoint of the contract
// against every role a calling service account can hold, as the
// contract's matrix says. 200 allowed; 403 when the caller can read the
// project (or organization) but lacks the permission; 404 when it cannot
// read it. Every refusal leaves the store as it was.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"

	"studio/domain"
)

// The callers of the table, in its column order.
var apiTableRoles = []string{"none", "user", "developer", "admin", "orgadmin", "otheradmin"}

func TestAPIPermissionTable(t *testing.T) {
	e := apiNewEnv(t)
	app := e.app
	ctx := context.Background()
	org := app.org
	plant := app.addProject(org.ID, "Plant")   // P: the project under test
	quarry := app.addProject(org.ID, "Quarry") // Q: owns nothing of P
	members := domain.NewMembers(app.store, domain.NewHasher(1), app.clock.Now, "http://studio.test", domain.DefaultInviteTTL)

	// The callers, all service accounts. "none" is owned by P but holds no
	// role: the owning project gives no access by itself.
	callers := map[string]apiCaller{}
	for _, role := range apiTableRoles {
		owner := plant
		if role == "otheradmin" {
			owner = quarry
		}
		callers[role] = e.caller(e.admin, owner, "Caller "+role)
	}
	e.grant(callers["user"].SA.Ref(), org.ID, plant.ID, domain.RoleProjectUser)
	e.grant(callers["developer"].SA.Ref(), org.ID, plant.ID, domain.RoleProjectDev)
	e.grant(callers["admin"].SA.Ref(), org.ID, plant.ID, domain.RoleProjectAdmin)
	e.grant(callers["orgadmin"].SA.Ref(), org.ID, "", domain.RoleOrgAdmin)
	e.grant(callers["otheradmin"].SA.Ref(), org.ID, quarry.ID, domain.RoleProjectAdmin)
	// mirror gives a caller on project p the role it holds on P.
	mirror := func(role string, p domain.Project) {
		r := map[string]domain.Role{"user": domain.RoleProjectUser, "developer": domain.RoleProjectDev, "admin": domain.RoleProjectAdmin}[role]
		if r != domain.RoleNone {
			e.grant(callers[role].SA.Ref(), org.ID, p.ID, r)
		}
	}

	// Fixed targets in P.
	fixed := e.account(e.admin, plant, "Fixed", false)
	fixedKey, _ := e.key(e.admin, fixed)
	// T is owned by P and is a member of Q: a membership elsewhere gives Q's admin no right over it.
	tenant := e.account(e.admin, plant, "Tenant", false)
	e.grant(tenant.Ref(), org.ID, quarry.ID, domain.RoleProjectUser)
	reader := app.addUser("reader@example.com", plant.ID, domain.RoleProjectUser, "")
	readerID := itoa(reader.ID)
	pending, err := members.InviteToProject(ctx, e.admin, plant.ID, "pending@example.com", domain.RoleProjectUser)
	if err != nil {
		t.Fatal(err)
	}
	pendingID := pending.Membership.Account.ID
	pendingAdmin, err := members.InviteOrgAdmin(ctx, e.admin, org.ID, "pending-admin@example.com")
	if err != nil {
		t.Fatal(err)
	}
	pendingAdminID := pendingAdmin.Membership.Account.ID
	adminID := itoa(e.admin.UserID)

	n := 0
	fresh := func(prefix string) string { n++; return fmt.Sprintf("%s%d@example.com", prefix, n) }
	freshMember := func() string { return itoa(app.addUser(fresh("member"), plant.ID, domain.RoleProjectUser, "").ID) }
	freshSA := func() domain.ServiceAccount { n++; return e.account(e.admin, plant, fmt.Sprintf("Fresh %d", n), false) }

	P, Q, O := "/v2/projects/"+plant.ID, "/v2/projects/"+quarry.ID, "/v2/organizations/"+org.ID
	fixedPath := P + "/serviceaccounts/" + fixed.ID
	tenantInQ := Q + "/serviceaccounts/" + tenant.ID
	user := []string{"roles/project.user"}

	const (
		ok  = http.StatusOK
		bad = http.StatusForbidden
		nf  = http.StatusNotFound
	)
	// Columns: none, user, developer, admin, orgadmin, otheradmin.
	var (
		everyone  = [6]int{ok, ok, ok, ok, ok, ok}
		orgReader = [6]int{nf, ok, ok, ok, ok, ok}     // organization visible through any project in it
		orgAdmin  = [6]int{nf, bad, bad, bad, ok, bad} // only the organization's admins
		pRead     = [6]int{nf, ok, ok, ok, ok, nf}     // project.read, membership.read, serviceaccount(.key).read
		pAdmin    = [6]int{nf, bad, bad, ok, ok, nf}   // project.update/delete, membership.*, serviceaccount(.key).create/update/delete
		nobody    = [6]int{nf, nf, nf, nf, nf, nf}
		qRead     = [6]int{nf, nf, nf, nf, ok, ok}
		// The contract gives a project's invite links to membership.read; commit
		// 904d588 asks for membership.create on purpose (a link sets the pending
		// account's password, so a project user could take over a pending admin).
		pInvite = pAdmin
	)
	type row struct {
		name    string
		method  string
		want    [6]int
		prepare func(role string) (string, any)
		check   func(t *testing.T, role string, body []byte)
	}
	path := func(p string) func(string) (string, any) { return func(string) (string, any) { return p, nil } }
	rows := []row{
		{"GET /organizations", "GET", everyone, path("/v2/organizations"), func(t *testing.T, role string, b []byte) {
			want := []string{"organizations/" + org.ID}
			if role == "none" {
				want = []string{}
			}
			if got := apiNames(t, apiListBody(t, b, "organizations")); !slices.Equal(got, want) {
				t.Errorf("organizations %v, want %v", got, want)
			}
		}},
		{"GET /organizations/{o}", "GET", orgReader, path(O), func(t *testing.T, _ string, b []byte) { apiDecodeOrganization(t, b) }},
		{"GET /organizations/{o}/members", "GET", orgAdmin, path(O + "/members"), nil},
		{"POST /organizations/{o}/members", "POST", orgAdmin, func(string) (string, any) {
			return O + "/members", map[string]any{"roles": []string{"roles/organization.admin"}, "email": fresh("orgadmin")}
		}, func(t *testing.T, _ string, b []byte) { apiDecodeMember(t, b) }},
		{"GET /organizations/{o}/members/{m}", "GET", orgAdmin, path(O + "/members/" + adminID), func(t *testing.T, _ string, b []byte) { apiDecodeMember(t, b) }},
		{"DELETE /organizations/{o}/members/{m}", "DELETE", orgAdmin, func(string) (string, any) {
			return O + "/members/" + itoa(app.addUser(fresh("revoked"), "", "", org.ID).ID), nil
		}, apiCheckEmpty},
		{"GET /organizations/{o}/members/{m}:getInviteUrl", "GET", orgAdmin, path(O + "/members/" + pendingAdminID + ":getInviteUrl"), nil},
		{"GET /organizations/{o}/permissions", "GET", orgReader, path(O + "/permissions"), func(t *testing.T, role string, b []byte) {
			want := []string{}
			if role == "orgadmin" {
				want = apiOrgAdminPerms
			}
			if got := apiStrings(t, apiListBody(t, b, "permissions")); !apiSameSet(got, want) {
				t.Errorf("permissions %v, want %v", got, want)
			}
		}},

		{"GET /projects", "GET", everyone, path("/v2/projects"), func(t *testing.T, role string, b []byte) {
			names := apiNames(t, apiListBody(t, b, "projects"))
			sees := slices.Contains(names, "projects/"+plant.ID)
			if want := pRead[slices.Index(apiTableRoles, role)] == ok; sees != want {
				t.Errorf("lists P: %v, want %v (%v)", sees, want, names)
			}
		}},
		{"POST /projects", "POST", orgAdmin, func(role string) (string, any) {
			return "/v2/projects", map[string]any{"organization": "organizations/" + org.ID, "displayName": "Made by " + role}
		}, func(t *testing.T, _ string, b []byte) { apiDecodeProject(t, b) }},
		{"GET /projects/{p}", "GET", pRead, path(P), func(t *testing.T, _ string, b []byte) { apiDecodeProject(t, b) }},
		{"PATCH /projects/{p}", "PATCH", pAdmin, func(role string) (string, any) {
			return P, map[string]any{"displayName": "Plant by " + role}
		}, func(t *testing.T, _ string, b []byte) { apiDecodeProject(t, b) }},
		{"DELETE /projects/{p}", "DELETE", pAdmin, func(role string) (string, any) {
			n++
			d := app.addProject(org.ID, fmt.Sprintf("Doomed %d", n))
			mirror(role, d)
			return "/v2/projects/" + d.ID, nil
		}, apiCheckEmpty},
		{"GET /projects/{p}/members", "GET", pRead, path(P + "/members"), nil},
		{"POST /projects/{p}/members", "POST", pAdmin, func(string) (string, any) {
			return P + "/members", map[string]any{"roles": user, "email": fresh("invited")}
		}, func(t *testing.T, _ string, b []byte) { apiDecodeMember(t, b) }},
		{"GET /projects/{p}/members/{m}", "GET", pRead, path(P + "/members/" + readerID), func(t *testing.T, _ string, b []byte) { apiDecodeMember(t, b) }},
		{"PATCH /projects/{p}/members/{m}", "PATCH", pAdmin, func(role string) (string, any) {
			r := map[bool]string{true: "roles/project.developer", false: "roles/project.user"}[role == "admin"]
			return P + "/members/" + readerID, map[string]any{"roles": []string{r}}
		}, func(t *testing.T, _ string, b []byte) { apiDecodeMember(t, b) }},
		{"DELETE /projects/{p}/members/{m}", "DELETE", pAdmin, func(string) (string, any) { return P + "/members/" + freshMember(), nil }, apiCheckEmpty},
		{"GET /projects/{p}/members/{m}:getInviteUrl", "GET", pInvite, path(P + "/members/" + pendingID + ":getInviteUrl"), nil},
		{"GET /projects/-/members", "GET", orgAdmin, path("/v2/projects/-/members?organization=organizations/" + org.ID + "&memberId=" + readerID), nil},
		{"POST /projects/-/members:batchCreate", "POST", pAdmin, func(string) (string, any) {
			return "/v2/projects/-/members:batchCreate", map[string]any{"members": []map[string]any{{"project": "projects/" + plant.ID, "email": fresh("batch"), "roles": user}}}
		}, nil},
		{"POST /projects/-/members:batchDelete", "POST", pAdmin, func(string) (string, any) {
			return "/v2/projects/-/members:batchDelete", map[string]any{"names": []string{"projects/" + plant.ID + "/members/" + freshMember()}}
		}, apiCheckEmpty},
		{"GET /projects/{p}/permissions", "GET", pRead, path(P + "/permissions"), func(t *testing.T, role string, b []byte) {
			want := map[string][]string{"user": apiUserPerms, "developer": apiDeveloperPerms, "admin": apiAdminPerms, "orgadmin": apiOrgAdminPerms}[role]
			if got := apiStrings(t, apiListBody(t, b, "permissions")); !apiSameSet(got, want) {
				t.Errorf("permissions %v, want %v", got, want)
			}
		}},
		{"GET /projects/{p}/serviceaccounts", "GET", pRead, path(P + "/serviceaccounts"), nil},
		{"POST /projects/{p}/serviceaccounts", "POST", pAdmin, func(role string) (string, any) {
			return P + "/serviceaccounts", map[string]any{"displayName": "Made by " + role}
		}, func(t *testing.T, _ string, b []byte) { apiDecodeServiceAccount(t, b) }},
		{"GET /projects/{p}/serviceaccounts/{sa}", "GET", pRead, path(fixedPath), func(t *testing.T, _ string, b []byte) { apiDecodeServiceAccount(t, b) }},
		{"PATCH /projects/{p}/serviceaccounts/{sa}", "PATCH", pAdmin, func(role string) (string, any) {
			return fixedPath, map[string]any{"displayName": "Fixed by " + role, "enableBasicAuth": true}
		}, func(t *testing.T, _ string, b []byte) { apiDecodeServiceAccount(t, b) }},
		{"DELETE /projects/{p}/serviceaccounts/{sa}", "DELETE", pAdmin, func(string) (string, any) {
			return P + "/serviceaccounts/" + freshSA().ID, nil
		}, apiCheckEmpty},
		{"GET /projects/{p}/serviceaccounts/{sa}/keys", "GET", pRead, path(fixedPath + "/keys"), nil},
		{"POST /projects/{p}/serviceaccounts/{sa}/keys", "POST", pAdmin, func(string) (string, any) {
			return P + "/serviceaccounts/" + freshSA().ID + "/keys", nil
		}, nil},
		{"GET /projects/{p}/serviceaccounts/{sa}/keys/{k}", "GET", pRead, path(fixedPath + "/keys/" + fixedKey), func(t *testing.T, _ string, b []byte) { apiDecodeKey(t, b) }},
		{"DELETE /projects/{p}/serviceaccounts/{sa}/keys/{k}", "DELETE", pAdmin, func(string) (string, any) {
			sa := freshSA()
			k, _ := e.key(e.admin, sa)
			return P + "/serviceaccounts/" + sa.ID + "/keys/" + k, nil
		}, apiCheckEmpty},
		{"GET /roles", "GET", everyone, path("/v2/roles"), nil},
		{"GET /roles/{role}", "GET", everyone, path("/v2/roles/project.user"), func(t *testing.T, _ string, b []byte) { apiDecodeRole(t, b) }},

		// Q, which the other project's admin administers, and P's account T
		// asked for through Q, where T holds a membership: never T's owner.
		{"GET /projects/{q}", "GET", qRead, path(Q), nil},
		{"GET /projects/{q}/serviceaccounts/{t}", "GET", nobody, path(tenantInQ), nil},
		{"PATCH /projects/{q}/serviceaccounts/{t}", "PATCH", nobody, func(string) (string, any) { return tenantInQ, map[string]any{"enableBasicAuth": true} }, nil},
		{"DELETE /projects/{q}/serviceaccounts/{t}", "DELETE", nobody, path(tenantInQ), nil},
		{"GET /projects/{q}/serviceaccounts/{t}/keys", "GET", nobody, path(tenantInQ + "/keys"), nil},
		{"POST /projects/{q}/serviceaccounts/{t}/keys", "POST", nobody, path(tenantInQ + "/keys"), nil},
	}

	for _, scheme := range apiSchemes {
		auths := map[string]string{}
		for _, role := range apiTableRoles {
			auths[role] = e.auth(callers[role], scheme)
		}
		for _, r := range rows {
			for i, role := range apiTableRoles {
				t.Run(scheme+"/"+r.name+"/"+role, func(t *testing.T) {
					p, body := r.prepare(role)
					before := e.snapshot()
					resp := e.call(r.method, p, auths[role], body)
					want := r.want[i]
					if resp.status != want {
						t.Fatalf("%s %s as %s: %s, want %d", r.method, p, role, resp, want)
					}
					if want != ok {
						apiDecodeError(t, resp, want)
						if after := e.snapshot(); after != before {
							t.Fatalf("the refused request changed the store: %s", apiDiff(before, after))
						}
						return
					}
					apiOK(t, resp)
					if r.check != nil {
						r.check(t, role, resp.body)
					}
				})
			}
		}
	}
	// The refusals touched none of the fixed targets.
	if tenantNow, err := app.store.ServiceAccountByID(ctx, tenant.ID); err != nil || tenantNow.EnableBasicAuth || tenantNow.DisplayName != "Tenant" {
		t.Fatalf("T changed: %+v %v", tenantNow, err)
	}
	if n := app.keyCount(tenant.ID); n != 0 {
		t.Fatalf("T has %d keys", n)
	}
}

// apiListBody decodes a list body's items (the list itself is checked by apiList).
func apiListBody(t testing.TB, body []byte, plural string) []json.RawMessage {
	t.Helper()
	items, _ := apiList(t, apiResponse{status: http.StatusOK, header: http.Header{"Content-Type": {"application/json"}}, body: body}, plural)
	return items
}

func apiCheckEmpty(t *testing.T, _ string, body []byte) {
	t.Helper()
	apiEmpty(t, apiResponse{status: http.StatusOK, header: http.Header{"Content-Type": {"application/json"}}, body: body})
}
