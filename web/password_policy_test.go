package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"studio/domain"
)

// TestPasswordPolicyOnEveryForm sets passwords through the forms that set
// one: changing one's password and accepting an invitation. A common
// password (in any case) and one containing the name of the account's
// email are refused beside the field, and nothing changes: the old
// password still signs in, the invitation is still open.
func TestPasswordPolicyOnEveryForm(t *testing.T) {
	app := newApp(t)
	c := app.signedIn(adminEmail)
	for _, pw := range []string{"password1234", "PASSWORD1234", "qwertyuiop12", "my admin password", "ADMIN-1234-2024"} {
		r := c.post("/account/password", url.Values{"current": {adminPassword}, "new": {pw}, "confirm": {pw}})
		msg := r.doc.Find("[data-testid=error-new]").Text()
		if r.status != http.StatusUnprocessableEntity || msg == "" {
			t.Errorf("new password %q: status %d, field error %q", pw, r.status, msg)
		}
		if strings.Contains(r.body, pw) {
			t.Errorf("the page shows the refused password %q", pw)
		}
	}
	if app.client().post("/signin", url.Values{"email": {adminEmail}, "password": {adminPassword}}).status != http.StatusSeeOther {
		t.Fatal("the old password no longer signs in after the refusals")
	}

	// Accepting an invitation as carol@example.com.
	members := "/projects/" + app.inventory().ID + "/members"
	c.get(members)
	link := memLink(t, c.post(members, url.Values{"email": {"carol@example.com"}, "role": {string(domain.RoleProjectUser)}}))
	guest := app.client()
	guest.get(link)
	for _, pw := range []string{"password1234", "Carol's password"} {
		r := guest.post(link, url.Values{"name": {"Carol"}, "password": {pw}, "confirm": {pw}})
		if r.status != http.StatusUnprocessableEntity || r.doc.Find("[data-testid=error-password]").Length() != 1 {
			t.Errorf("accepting with %q: status %d", pw, r.status)
		}
	}
	if u, ok := app.memUser("carol@example.com"); !ok || !u.Pending() {
		t.Fatal("a refused password accepted the invitation")
	}
	if r := guest.post(link, url.Values{"name": {"Carol"}, "password": {"a sound passphrase"}, "confirm": {"a sound passphrase"}}); r.status != http.StatusSeeOther {
		t.Fatalf("accepting with a good password: status %d", r.status)
	}
}
