package web_test

import (
	"fmt"
	"net/http"
	"testing"

	"studio/domain"
)

// counted runs a request and returns how many SQL statements and write
// transactions the server ran for it.
func (a *testApp) counted(request func()) (statements, transactions int64) {
	s0, t0 := a.statements.Statements(), a.statements.Transactions()
	request()
	return a.statements.Statements() - s0, a.statements.Transactions() - t0
}

// TestStatementsPerRequest counts (does not read from code) the statements
// two frequent requests run, and bounds them so that a query per row, or
// access computed again after a change, shows up here. The figures are
// logged for the record (go test -v -run TestStatementsPerRequest).
func TestStatementsPerRequest(t *testing.T) {
	e := apiNewEnv(t)
	app := e.app
	inv := app.inventory()

	t.Run("console create key", func(t *testing.T) {
		c := app.signedIn(adminEmail)
		sa := app.addServiceAccount(inv, "Counted")
		c.get(saPath(sa)) // the page the form is on, and its CSRF token
		var r response
		n, tx := app.counted(func() { r = c.htmxPost(saPath(sa)+"/keys", nil) })
		if r.status != http.StatusOK || r.doc.Find("[data-testid=new-key-secret]").Length() != 1 {
			t.Fatalf("create key: status %d, no secret shown: %s", r.status, r.body)
		}
		if app.keyCount(sa.ID) != 1 {
			t.Fatalf("create key: %d keys stored, want 1", app.keyCount(sa.ID))
		}
		t.Logf("console create key (htmx): %d statements, %d write transactions", n, tx)
		if n > maxCreateKeyStatements {
			t.Errorf("console create key ran %d statements, more than %d", n, maxCreateKeyStatements)
		}
	})

	t.Run("API list service accounts", func(t *testing.T) {
		admin := e.principal(adminEmail)
		p := app.addProject(app.org.ID, "Listed")
		caller := e.caller(admin, p, "Lister")
		e.grant(caller.SA.Ref(), p.OrganizationID, p.ID, domain.RoleProjectUser)
		for i := range 10 {
			e.account(admin, p, fmt.Sprintf("Listed %02d", i), false)
		}
		auth := apiBasic(caller.KeyID, caller.Secret)
		path := "/v2/projects/" + p.ID + "/serviceaccounts"
		apiOK(t, e.call(http.MethodGet, path, auth, nil)) // records the key's first use
		var r apiResponse
		n, tx := app.counted(func() { r = e.call(http.MethodGet, path, auth, nil) })
		items, _ := apiList(t, r, "serviceAccounts")
		if len(items) != 11 {
			t.Fatalf("listed %d service accounts, want 11", len(items))
		}
		t.Logf("API list service accounts (Basic Auth, 11 accounts): %d statements, %d write transactions", n, tx)
		if n > maxListServiceAccountsStatements {
			t.Errorf("API list service accounts ran %d statements, more than %d", n, maxListServiceAccountsStatements)
		}
	})
}

// The bounds of TestStatementsPerRequest, as measured.
const (
	// As measured before issue 19, plus the one read of the organization's
	// sign-in policy (the project's organization and its policy at once)
	// that every page of an organization makes.
	maxCreateKeyStatements           = 14 + 1
	maxListServiceAccountsStatements = 4
)
