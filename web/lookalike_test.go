package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"studio/domain"
)

// TestNamesWithInvisibleCharactersRefused renames a service account and
// creates a project with names that hide characters (a right-to-left
// override that makes "Robot‮gpj.exe" read as "Robotexe.jpg", zero-width
// spaces, a Hangul filler that looks blank), in the console and through
// the API: each is refused beside the field (or with the contract's error
// body) and nothing changes.
func TestNamesWithInvisibleCharactersRefused(t *testing.T) {
	w := lcNew(t)
	ctx := context.Background()
	robot := w.robot("Robot")
	c := w.app.signedIn(adminEmail)
	c.get(saPath(robot.SA))
	projectsBefore, _ := w.app.store.ListProjects(ctx, domain.ProjectFilter{}, domain.Cursor{}, 100)
	for _, name := range []string{"Robot\u202Egpj.exe", "Ro\u200Bbot", "\u200B\u200D", "\u3164", " \u2800 ", "\u2066Robot\u2069"} {
		r := c.post(saPath(robot.SA)+"/name", url.Values{"displayName": {name}})
		if r.status != http.StatusUnprocessableEntity || r.doc.Find("[data-testid=error-displayName]").Length() != 1 {
			t.Errorf("console rename to %q: status %d, field error %q", name, r.status, r.doc.Find("[data-testid=error-displayName]").Text())
		}
		r = c.post("/orgs/"+w.app.org.ID+"/projects", url.Values{"displayName": {name}})
		if r.status != http.StatusUnprocessableEntity || r.doc.Find("[data-testid=error-displayName]").Length() != 1 {
			t.Errorf("console project %q: status %d", name, r.status)
		}
		admin := w.adminCaller()
		auth := apiBasic(admin.KeyID, admin.Secret)
		body := map[string]string{"displayName": name}
		e := apiDecodeError(t, w.call(http.MethodPatch, "/v2/projects/"+w.inv.ID+"/serviceaccounts/"+robot.SA.ID, auth, body), http.StatusBadRequest)
		if !strings.Contains(e.Error, "invisible") && !strings.Contains(e.Error, "visible characters") {
			t.Errorf("API rename to %q: %q", name, e.Error)
		}
		apiDecodeError(t, w.call(http.MethodPost, "/v2/projects", auth,
			map[string]string{"organization": "organizations/" + w.app.org.ID, "displayName": name}), http.StatusBadRequest)
	}
	if sa, _ := w.app.store.ServiceAccountByID(ctx, robot.SA.ID); sa.DisplayName != "Robot" {
		t.Errorf("the account is now named %q", sa.DisplayName)
	}
	if after, _ := w.app.store.ListProjects(ctx, domain.ProjectFilter{}, domain.Cursor{}, 100); len(after) != len(projectsBefore) {
		t.Errorf("%d projects after the refusals, want %d", len(after), len(projectsBefore))
	}
}

// TestEmailsNormalisedAndMixedScriptsWarned invites by email, in the
// console and through the API: full-width and upper-case letters name the
// same account as the plain address; an address with a zero-width space is
// refused; one mixing scripts (a Cyrillic "а" among Latin letters) is
// invited, with a warning beside the field.
func TestEmailsNormalisedAndMixedScriptsWarned(t *testing.T) {
	w := lcNew(t)
	c := w.app.signedIn(adminEmail)
	members := "/projects/" + w.inv.ID + "/members"
	c.get(members)
	role := string(domain.RoleProjectUser)

	r := c.post(members, url.Values{"email": {"\uFF22\uFF2F\uFF22@Example.COM"}, "role": {role}})
	if r.status != http.StatusOK || r.doc.Find("[data-testid=email-warning]").Length() != 0 {
		t.Fatalf("invite in full-width letters: status %d", r.status)
	}
	if _, ok := w.app.memUser("bob@example.com"); !ok {
		t.Fatal("no user bob@example.com after inviting ＢＯＢ@Example.COM")
	}
	// The same person, written another way, is already a member.
	r = c.post(members, url.Values{"email": {"bob\uFF20example.com"}, "role": {role}})
	if r.status != http.StatusConflict || r.doc.Find("[data-testid=error-email]").Length() != 1 {
		t.Fatalf("invite bob＠example.com again: status %d", r.status)
	}
	auditBefore := w.app.memAuditCount()
	r = c.post(members, url.Values{"email": {"ca\u200Brol@example.com"}, "role": {role}})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.doc.Find("[data-testid=error-email]").Text(), "invisible") {
		t.Fatalf("invite with a zero-width space: status %d %q", r.status, r.doc.Find("[data-testid=error-email]").Text())
	}
	if _, ok := w.app.memUser("carol@example.com"); ok || w.app.memAuditCount() != auditBefore {
		t.Fatal("the refused invitation changed something")
	}

	// Mixed scripts: invited, and warned about beside the field.
	lookalike := "p\u0430ypal@example.com"
	r = c.post(members, url.Values{"email": {lookalike}, "role": {role}})
	warning := r.doc.Find("#invite-email ~ [data-testid=email-warning]").Text()
	if r.status != http.StatusOK || !strings.Contains(warning, lookalike) || !strings.Contains(warning, "Cyrillic and Latin") {
		t.Fatalf("invite %s: status %d, warning %q", lookalike, r.status, warning)
	}
	if r.doc.Find("#invite-email").AttrOr("aria-describedby", "") != "email-warning" {
		t.Error("the email field does not point at its warning")
	}
	if _, ok := w.app.memUser(lookalike); !ok {
		t.Fatal("the look-alike address was not invited")
	}
	r = c.post("/orgs/"+w.app.org.ID+"/admins", url.Values{"email": {"\u0430dmin@example.com"}})
	if r.status != http.StatusOK || !strings.Contains(r.doc.Find("#admin-email ~ [data-testid=email-warning]").Text(), "Cyrillic and Latin") {
		t.Fatalf("organization admin invitation of a look-alike: status %d", r.status)
	}

	// The API normalises the same way, and refuses the same.
	admin := w.adminCaller()
	auth := apiBasic(admin.KeyID, admin.Secret)
	apiOK(t, w.call(http.MethodPost, "/v2/projects/"+w.inv.ID+"/members", auth,
		map[string]any{"email": "  Dave\uFF20EXAMPLE.com", "roles": []string{role}}))
	if _, ok := w.app.memUser("dave@example.com"); !ok {
		t.Fatal("no user dave@example.com after the API invited Dave＠EXAMPLE.com")
	}
	e := apiDecodeError(t, w.call(http.MethodPost, "/v2/projects/"+w.inv.ID+"/members", auth,
		map[string]any{"email": "er\u200Bin@example.com", "roles": []string{role}}), http.StatusBadRequest)
	if !strings.Contains(e.Error, "invisible") {
		t.Errorf("API refusal %q", e.Error)
	}
	if _, ok := w.app.memUser("erin@example.com"); ok {
		t.Fatal("the API invited an address with a zero-width space")
	}
}
